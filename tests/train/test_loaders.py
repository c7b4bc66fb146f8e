"""Every loader against the real files, with the counts the datasets README states."""

from __future__ import annotations

from pathlib import Path

import pytest

from train.data.loaders import EVALS, SEEDS, load_evals

# (rows, harmful rows or None when the README gives no count)
EXPECTED = {
    "advbench": (520, 520),
    "donotanswer": (939, 939),
    "jailbreakbench": (1640, None),
    "toxicchat-train": (2801, None),
    "alpaca": (5000, 0),
    "alpaca-seed-tasks": (175, 0),
    "oai": (1680, 522),
    "toxicchat": (2853, 362),
    "harmbench": (602, 273),
    "xstest": (450, 200),
    "dices990": (990, None),
    "dices350": (350, None),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loader_counts_match_the_readme(name: str, data_dir: Path) -> None:
    spec = {**SEEDS, **EVALS}[name]
    records = spec.load(data_dir)
    rows, harmful = EXPECTED[name]
    assert len(records) == rows
    if harmful is not None:
        assert sum(r.label == 1 for r in records) == harmful
    assert all(r.prompt.strip() for r in records)
    assert all(r.label in (0, 1) for r in records)
    assert spec.hub_id and spec.license


def test_pairs_keep_their_responses(data_dir: Path) -> None:
    harmbench = EVALS["harmbench"].load(data_dir)
    assert all(r.response for r in harmbench)
    jbb = SEEDS["jailbreakbench"].load(data_dir)
    # the judge's verdicts: both outcomes occur
    assert {r.label for r in jbb} == {0, 1}
    assert EVALS["xstest"].load(data_dir)[0].response is None


def test_missing_data_dir_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="DATA_DIR"):
        SEEDS["advbench"].load(tmp_path)


def test_an_unknown_eval_set_is_named_before_anything_loads(tmp_path: Path) -> None:
    # a path given after `--sets` on the command line lands among the set names
    with pytest.raises(ValueError, match=r"unknown eval sets \['model/best'\]; known: .*xstest"):
        load_evals(tmp_path, ["xstest", "model/best"])
