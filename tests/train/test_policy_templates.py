"""Policy-derived contrastive templates: coverage, the dev hold-out per category, counts, labels.

The checks every contrastive source shares are in test_contrastive_templates.py.
"""

from __future__ import annotations

from collections import Counter

import pytest

from train.data.policy_templates import (
    DEV_TEMPLATE_IDS,
    PHENOMENA,
    TEMPLATES,
    datasheet_markdown,
    policy_rows,
)
from train.data.records import Record

CATEGORIES = [f"S{i}" for i in range(1, 15)]


@pytest.fixture(scope="module")
def train() -> list[Record]:
    return policy_rows("train")


@pytest.fixture(scope="module")
def dev() -> list[Record]:
    return policy_rows("dev")


def test_coverage_complete() -> None:
    assert {t.category for t in TEMPLATES} == set(CATEGORIES)
    assert len(PHENOMENA) == 11


def test_dev_templates_cover_every_category() -> None:
    per_category = Counter(t.category for t in TEMPLATES)
    dev_categories = {t.category for t in TEMPLATES if t.id in DEV_TEMPLATE_IDS}
    for category, count in per_category.items():
        if count >= 3:
            assert category in dev_categories, category


def test_row_counts_in_range_and_balanced(train: list[Record], dev: list[Record]) -> None:
    total = len(train) + len(dev)
    assert 2500 <= total <= 4000
    assert len(dev) >= 300
    for rows in (train, dev):
        harmful = sum(r.label == 1 for r in rows)
        assert 0.4 <= harmful / len(rows) <= 0.6


def test_every_category_has_both_labels_in_train(train: list[Record]) -> None:
    seen = Counter((r.category, r.label) for r in train)
    for category in CATEGORIES:
        assert seen[(category, 0)] > 0 and seen[(category, 1)] > 0, category


def test_every_template_starts_with_a_row_of_each_label(
    train: list[Record], dev: list[Record]
) -> None:
    by_prompt = {r.prompt: r for r in train + dev}
    for template in TEMPLATES:
        pattern = template.patterns[0]
        for filler, label in ((template.benign[0], 0), (template.harmful[-1], 1)):
            row = by_prompt[pattern.replace("{x}", filler)]
            assert row.label == label and row.category == template.category


def test_output_is_deterministic() -> None:
    assert policy_rows("train") == policy_rows("train")
    assert [r.variant for r in policy_rows("dev")] == [r.variant for r in policy_rows("dev")]
    assert datasheet_markdown() == datasheet_markdown()


def test_datasheet_reports_counts_and_held_out_ids(train: list[Record], dev: list[Record]) -> None:
    sheet = datasheet_markdown()
    assert "Llama Guard 3" in sheet and "by construction" in sheet
    for template_id in DEV_TEMPLATE_IDS:
        assert f"`{template_id}`" in sheet
    for category in CATEGORIES:
        assert f"| {category} |" in sheet
    for phenomenon in PHENOMENA:
        assert f"| {phenomenon} |" in sheet
    n0, n1 = sum(r.label == 0 for r in train), sum(r.label == 1 for r in train)
    assert f"| train | {len(TEMPLATES) - len(DEV_TEMPLATE_IDS)} | {len(train)} | {n0} | {n1} |" in (
        sheet
    )
