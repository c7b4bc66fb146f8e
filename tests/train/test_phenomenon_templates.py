"""The policy templates' second set: the coverage rule, ids apart from the sibling sources, the
dev hold-out per phenomenon, no prompt shared with the siblings, hazard targets, and the
committed files.

The checks every contrastive source shares (one "{x}" per pattern, both labels per template,
dev templates never in training) are in test_contrastive_templates.py.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Literal

import pytest

from contract import CATEGORY_CODES
from train.data import category_statements, policy_templates
from train.data.contrastive_templates import TemplateSet, write_template_set
from train.data.hazards import hazard_targets
from train.data.phenomenon_templates import (
    DEV_TEMPLATE_IDS,
    MIN_TEMPLATES_PER_PHENOMENON,
    PHENOMENA,
    TEMPLATES,
    WIDENED,
    datasheet_markdown,
    phenomenon_rows,
    stats,
    templates_per_phenomenon,
)
from train.data.records import Record, normalise_text, read_records

COMMITTED = Path(__file__).resolve().parents[2] / "data" / "phenomenon_templates"
COMMAND = "python -m train phenomenon-templates --out data/phenomenon_templates"
SPLITS: tuple[Literal["train", "dev"], ...] = ("train", "dev")


@pytest.fixture(scope="module")
def train() -> list[Record]:
    return phenomenon_rows("train")


@pytest.fixture(scope="module")
def dev() -> list[Record]:
    return phenomenon_rows("dev")


def test_every_phenomenon_reaches_the_coverage_rule_across_both_modules() -> None:
    assert PHENOMENA is policy_templates.PHENOMENA
    counts = templates_per_phenomenon()
    assert list(counts) == list(PHENOMENA)
    for phenomenon, (old, new) in counts.items():
        assert old + new >= MIN_TEMPLATES_PER_PHENOMENON, phenomenon
    # this set widens exactly the phenomena the policy templates left below the rule
    thin = {p for p, (old, _) in counts.items() if old < MIN_TEMPLATES_PER_PHENOMENON}
    assert set(WIDENED) == thin


def test_ids_are_unique_across_the_three_sources() -> None:
    ids = [t.id for t in TEMPLATES]
    ids += [t.id for t in policy_templates.TEMPLATES]
    ids += [t.id for t in category_statements.TEMPLATES]
    assert len(ids) == len(set(ids))
    for t in TEMPLATES:  # this set's own scheme: n from 101
        assert int(t.id.rsplit("-", 1)[1]) >= 101, t.id


def test_each_phenomenon_has_a_dev_template_and_about_a_fifth_are_held_out() -> None:
    held = Counter(t.phenomenon for t in TEMPLATES if t.id in DEV_TEMPLATE_IDS)
    for phenomenon in WIDENED:
        assert held[phenomenon] >= 1, phenomenon
    assert 0.15 <= len(DEV_TEMPLATE_IDS) / len(TEMPLATES) <= 0.25


def test_no_prompt_is_shared_with_the_policy_templates_or_the_statements(
    train: list[Record], dev: list[Record]
) -> None:
    siblings = {
        normalise_text(r.prompt)
        for split in SPLITS
        for r in policy_templates.policy_rows(split) + category_statements.statement_rows(split)
    }
    train_keys = {normalise_text(r.prompt) for r in train}
    dev_keys = {normalise_text(r.prompt) for r in dev}
    assert not train_keys & siblings
    assert not dev_keys & siblings
    assert not train_keys & dev_keys


def test_rows_are_balanced_in_each_split_and_phenomenon(
    train: list[Record], dev: list[Record]
) -> None:
    assert 1200 <= len(train) + len(dev) <= 2500
    for rows in (train, dev):
        harmful = sum(r.label == 1 for r in rows)
        assert 0.45 <= harmful / len(rows) <= 0.55
    counts = Counter((str(r.variant).split(":")[1], r.label) for r in train)
    for phenomenon in WIDENED:
        assert counts[(phenomenon, 0)] > 0 and counts[(phenomenon, 1)] > 0, phenomenon


@pytest.mark.parametrize("category", ["S1", "S7", "S10", "S11"])
def test_a_harmful_row_names_its_hazard_and_a_safe_one_none(
    train: list[Record], category: str
) -> None:
    harmful = next(r for r in train if r.category == category and r.label == 1)
    got = hazard_targets(harmful)
    assert got[CATEGORY_CODES.index(category)] == 1.0 and got.sum() == 1.0
    safe = next(r for r in train if r.category == category and r.label == 0)
    assert hazard_targets(safe).tolist() == [0.0] * len(CATEGORY_CODES)


def test_committed_files_are_what_the_builder_writes_now(tmp_path: Path) -> None:
    """data/phenomenon_templates/ is these templates less the recorded eval drops, byte for
    byte (rerun `python -m train phenomenon-templates` if not)."""
    numbers = json.loads((COMMITTED / "stats.json").read_text())
    kept: dict[str, list[Record]] = {}
    for split in SPLITS:
        committed = {r.prompt for r in read_records(COMMITTED / f"{split}.jsonl.gz")}
        expected = phenomenon_rows(split)
        kept[split] = [r for r in expected if r.prompt in committed]
        assert len(kept[split]) == len(committed)
        dropped = sum(
            n
            for key, by in numbers["dropped"].items()
            if key.startswith(split)
            for n in by.values()
        )
        assert len(expected) - len(kept[split]) == dropped
    rebuilt = TemplateSet(kept["train"], kept["dev"], numbers["dropped"])
    write_template_set(tmp_path, rebuilt, stats(rebuilt), datasheet_markdown(rebuilt, COMMAND))
    for name in ("train.jsonl.gz", "dev.jsonl.gz", "stats.json", "DATASHEET.md"):
        assert (tmp_path / name).read_bytes() == (COMMITTED / name).read_bytes(), name
