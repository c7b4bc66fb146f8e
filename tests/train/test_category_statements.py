"""Statement-form contrastive rows (issue 15): labels, the dev hold-out per priority category,
coverage, hazard targets, and the writer's files.

The checks every contrastive source shares are in test_contrastive_templates.py.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Literal

import pytest

from contract import CATEGORY_CODES
from train.data import category_statements as cs
from train.data.category_statements import (
    DEV_TEMPLATE_IDS,
    PRIORITY_CATEGORIES,
    SOURCE,
    TEMPLATES,
    statement_rows,
)
from train.data.hazards import hazard_targets
from train.data.records import Record, read_records

COMMITTED = Path(__file__).resolve().parents[2] / "data" / "category_statements"


@pytest.fixture(scope="module")
def train() -> list[Record]:
    return statement_rows("train")


@pytest.fixture(scope="module")
def dev() -> list[Record]:
    return statement_rows("dev")


def test_dev_templates_hold_two_per_priority_category() -> None:
    held = Counter(t.category for t in TEMPLATES if t.id in DEV_TEMPLATE_IDS)
    for category in PRIORITY_CATEGORIES:
        assert held[category] >= 2, category


def test_no_held_out_harmful_filler_is_in_train(train: list[Record]) -> None:
    held_fillers = {f for t in TEMPLATES if t.id in DEV_TEMPLATE_IDS for f in t.harmful}
    assert not any(f in r.prompt for r in train for f in held_fillers)


def test_priority_categories_have_enough_balanced_rows(
    train: list[Record], dev: list[Record]
) -> None:
    total = len(train) + len(dev)
    assert 1500 <= total <= 3000
    counts = Counter((r.category, r.label) for r in train + dev)
    for category in PRIORITY_CATEGORIES:
        safe, harmful = counts[(category, 0)], counts[(category, 1)]
        assert safe + harmful >= 400, category
        assert 0.4 <= harmful / (safe + harmful) <= 0.6, category
    for rows in (train, dev):
        split_counts = Counter((r.category, r.label) for r in rows)
        for category in PRIORITY_CATEGORIES:
            assert split_counts[(category, 0)] > 0 and split_counts[(category, 1)] > 0


@pytest.mark.parametrize("category", ["S1", "S10", "S11", "S12"])
def test_a_harmful_statement_names_its_hazard_and_a_safe_one_none(
    train: list[Record], category: str
) -> None:
    harmful = next(r for r in train if r.category == category and r.label == 1)
    got = hazard_targets(harmful)
    assert got[CATEGORY_CODES.index(category)] == 1.0 and got.sum() == 1.0
    safe = next(r for r in train if r.category == category and r.label == 0)
    assert hazard_targets(safe).tolist() == [0.0] * len(CATEGORY_CODES)


def test_committed_files_are_the_current_templates_less_eval_drops() -> None:
    """data/category_statements/ was written from these templates (rerun the CLI if not)."""
    numbers = json.loads((COMMITTED / "stats.json").read_text())
    splits: tuple[Literal["train", "dev"], ...] = ("train", "dev")
    for split in splits:
        rows = read_records(COMMITTED / f"{split}.jsonl.gz")
        expected = statement_rows(split)
        assert {r.prompt for r in rows} <= {r.prompt for r in expected}
        assert len(rows) == numbers[split]["rows"]
        assert all(r.source == SOURCE for r in rows)
    dropped = numbers["dropped_total"]
    assert len(statement_rows("train")) + len(statement_rows("dev")) == (
        numbers["train"]["rows"] + numbers["dev"]["rows"] + dropped
    )
    assert cs.SOURCE in (COMMITTED / "DATASHEET.md").read_text()
