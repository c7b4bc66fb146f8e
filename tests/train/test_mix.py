"""The training mix: decontamination, the leakage check, the split, alarming-word tagging."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from train.data.decontaminate import decontaminate, eval_prompt_keys
from train.data.mix import (
    ALARMING_SUFFIX,
    LeakageError,
    MixConfig,
    assert_no_eval_leakage,
    build_seed_mix,
    stratified_split,
)
from train.data.records import Record, normalise_text, read_records, write_records


@pytest.fixture(scope="module")
def eval_keys(data_dir: Path) -> set[str]:
    return eval_prompt_keys(data_dir)


@pytest.fixture(scope="module")
def mix(data_dir: Path) -> list[Record]:
    return build_seed_mix(data_dir, MixConfig())


def test_the_seeds_overlap_the_eval_sets_and_decontamination_removes_it(
    mix: list[Record], eval_keys: set[str]
) -> None:
    # ToxicChat train and test share prompts: the raw mix does leak, so the filter is needed.
    with pytest.raises(LeakageError):
        assert_no_eval_leakage(mix, eval_keys, "training")
    kept, dropped = decontaminate(mix, eval_keys)
    assert dropped["toxicchat-train"] > 0
    assert_no_eval_leakage(kept, eval_keys, "training")


def test_leakage_check_catches_an_eval_prompt_in_another_spelling(
    data_dir: Path, eval_keys: set[str]
) -> None:
    from train.data.loaders import EVALS

    xstest_prompt = EVALS["xstest"].load(data_dir)[0].prompt
    planted = Record("  " + xstest_prompt.upper() + " ", None, 0, "augmented")
    with pytest.raises(LeakageError, match="augmented"):
        assert_no_eval_leakage([Record("fine", None, 0, "x"), planted], eval_keys, "augmentation")


def test_mix_has_every_kind_of_row(mix: list[Record]) -> None:
    sources = Counter(r.source.removesuffix(ALARMING_SUFFIX) for r in mix)
    for needed in ("advbench", "donotanswer", "jailbreakbench", "toxicchat-train", "alpaca",
                   "advbench+refusal"):  # fmt: skip
        assert sources[needed] > 0, needed
    refusals = [r for r in mix if "+refusal" in r.source]
    assert all(r.label == 0 and r.response for r in refusals)
    alpaca = [r for r in mix if r.source.startswith("alpaca")]
    assert any(r.response for r in alpaca) and any(r.response is None for r in alpaca)
    keys = [(normalise_text(r.prompt), normalise_text(r.response or "")) for r in mix]
    assert len(keys) == len(set(keys))


def test_alarming_words_tag_only_benign_prompts(mix: list[Record]) -> None:
    tagged = [r for r in mix if r.source.endswith(ALARMING_SUFFIX)]
    assert len(tagged) > 100
    assert all(r.label == 0 and "+refusal" not in r.source for r in tagged)
    assert any("kill" in r.prompt.lower() for r in tagged)


def test_split_is_stratified_and_disjoint(mix: list[Record]) -> None:
    train, val = stratified_split(mix, 0.1, seed=1)
    assert len(train) + len(val) == len(mix)
    assert not {id(r) for r in train} & {id(r) for r in val}
    big = Counter((r.source, r.label) for r in mix)
    got = Counter((r.source, r.label) for r in val)
    for key, n in big.items():
        if n >= 50:
            assert abs(got[key] - 0.1 * n) <= 1, key


def test_records_round_trip_through_gzip_jsonl(tmp_path: Path) -> None:
    rows = [Record("p", None, 1, "s"), Record("p", "r", None, "aug", "c", 0.7, "v1")]
    path = tmp_path / "rows.jsonl.gz"
    write_records(path, rows)
    back = read_records(path)
    assert back == rows
    assert back[1].teacher_score == 0.7 and back[1].variant == "v1"
    assert path.read_bytes()[:2] == b"\x1f\x8b"  # really gzip


def test_generated_benign_prompts_are_safe_and_not_eval_prompts(
    data_dir: Path, eval_keys: set[str]
) -> None:
    from train.data.benign_alarming import benign_alarming_prompts

    generated = benign_alarming_prompts()
    assert len(generated) > 100
    assert all(r.label == 0 and r.source.endswith(ALARMING_SUFFIX) for r in generated)
    assert_no_eval_leakage(generated, eval_keys, "generated")
    cfg = MixConfig(generated_benign=True, donotanswer_exclude=("human_chatbox",))
    mix = build_seed_mix(data_dir, cfg)
    assert any(r.source.startswith("generated-benign") for r in mix)
    assert not any(r.category == "human_chatbox" for r in mix)
