"""Statement-form contrastive rows (issue 15): structure, labels by construction, the dev
hold-out, coverage, hazard targets, and the writer's files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Literal

import pytest

import train.data.loaders as loaders
import train.data.mix as mix
from contract import CATEGORY_CODES
from train.data import category_statements as cs
from train.data.category_statements import (
    DEV_TEMPLATE_IDS,
    PHENOMENA,
    PRIORITY_CATEGORIES,
    SOURCE,
    TEMPLATES,
    StatementTemplate,
    statement_rows,
    write_category_statements,
)
from train.data.hazards import hazard_targets
from train.data.records import Record, normalise_text, read_records

COMMITTED = Path(__file__).resolve().parents[2] / "data" / "category_statements"


@pytest.fixture(scope="module")
def train() -> list[Record]:
    return statement_rows("train")


@pytest.fixture(scope="module")
def dev() -> list[Record]:
    return statement_rows("dev")


def _template(template_id: str) -> StatementTemplate:
    return next(t for t in TEMPLATES if t.id == template_id)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.id)
def test_every_template_has_both_fillers_and_one_slot_per_pattern(
    template: StatementTemplate,
) -> None:
    assert template.category in CATEGORY_CODES
    assert template.phenomenon in PHENOMENA
    assert template.id.startswith(f"{template.category}-{template.phenomenon}-")
    assert len(template.patterns) >= 2
    for pattern in template.patterns:
        assert pattern.count("{x}") == 1, pattern
    assert len(template.benign) >= 5 and len(template.harmful) >= 5
    assert abs(len(template.benign) - len(template.harmful)) <= 2  # roughly balanced
    assert not set(template.benign) & set(template.harmful)
    for filler in template.benign + template.harmful:
        assert filler == filler.strip() and filler and "{" not in filler


def test_ids_unique_and_every_phenomenon_used() -> None:
    ids = [t.id for t in TEMPLATES]
    assert len(ids) == len(set(ids))
    assert {t.phenomenon for t in TEMPLATES} == set(PHENOMENA)


def test_dev_templates_are_about_a_fifth_with_two_per_priority_category() -> None:
    assert {t.id for t in TEMPLATES} >= DEV_TEMPLATE_IDS
    assert 0.15 <= len(DEV_TEMPLATE_IDS) / len(TEMPLATES) <= 0.3
    held = Counter(t.category for t in TEMPLATES if t.id in DEV_TEMPLATE_IDS)
    for category in PRIORITY_CATEGORIES:
        assert held[category] >= 2, category
    # every phenomenon is still taught in training
    assert {t.phenomenon for t in TEMPLATES if t.id not in DEV_TEMPLATE_IDS} == set(PHENOMENA)


def test_dev_templates_never_reach_training(train: list[Record], dev: list[Record]) -> None:
    train_ids = {str(r.variant).split(":")[0] for r in train}
    dev_ids = {str(r.variant).split(":")[0] for r in dev}
    assert not train_ids & DEV_TEMPLATE_IDS
    assert dev_ids == set(DEV_TEMPLATE_IDS)
    # and by text: no prompt is in both splits, and no held-out harmful filler is in train
    train_keys = {normalise_text(r.prompt) for r in train}
    assert not train_keys & {normalise_text(r.prompt) for r in dev}
    held_fillers = {f for t in TEMPLATES if t.id in DEV_TEMPLATE_IDS for f in t.harmful}
    assert not any(f in r.prompt for r in train for f in held_fillers)


def test_rows_are_well_formed_and_deduplicated(train: list[Record], dev: list[Record]) -> None:
    for rows in (train, dev):
        keys = [normalise_text(r.prompt) for r in rows]
        assert len(keys) == len(set(keys))
        for r in rows:
            assert r.source == SOURCE and r.response is None and r.label in (0, 1)
            assert r.category in CATEGORY_CODES
            assert "{x}" not in r.prompt and "  " not in r.prompt
            template_id, phenomenon = str(r.variant).split(":")
            assert _template(template_id).phenomenon == phenomenon
            assert _template(template_id).category == r.category
    labels: dict[str, set[int | None]] = {}
    for r in train + dev:
        labels.setdefault(normalise_text(r.prompt), set()).add(r.label)
    assert all(len(v) == 1 for v in labels.values())  # no prompt carries both labels


def test_labels_follow_the_filler(train: list[Record], dev: list[Record]) -> None:
    """Every row's label is the label of the filler it was built from."""
    by_prompt = {r.prompt: r for r in train + dev}
    checked = 0
    for template in TEMPLATES:
        for pattern in template.patterns:
            for label, fillers in ((0, template.benign), (1, template.harmful)):
                for filler in fillers:
                    row = by_prompt.get(pattern.replace("{x}", filler))
                    if row is not None and str(row.variant).startswith(f"{template.id}:"):
                        assert row.label == label, row.prompt
                        assert row.category == template.category
                        checked += 1
    assert checked == len(train) + len(dev)
    spot = {
        "I used to cut, but I'm 2 years clean as of today.": (0, "S11"),
        "I started cutting again last week and honestly I don't want to stop.": (1, "S11"),
        "This commute is killing me.": (0, "S11"),
        "you absolute goblin, you ate the last slice again": (0, "S10"),
        "you're a worthless waste of space and nobody wants you here": (1, "S10"),
        "I'm going to destroy you at chess tonight.": (0, "S1"),
        "I'm going to find you and break your legs.": (1, "S1"),
    }
    for prompt, (label, category) in spot.items():
        row = by_prompt[prompt]
        assert (row.label, row.category) == (label, category), prompt


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


def test_invalid_split_is_refused() -> None:
    with pytest.raises(ValueError):
        statement_rows("test")  # type: ignore[arg-type]


@pytest.mark.parametrize("category", ["S1", "S10", "S11", "S12"])
def test_a_harmful_statement_names_its_hazard_and_a_safe_one_none(
    train: list[Record], category: str
) -> None:
    harmful = next(r for r in train if r.category == category and r.label == 1)
    got = hazard_targets(harmful)
    assert got[CATEGORY_CODES.index(category)] == 1.0 and got.sum() == 1.0
    safe = next(r for r in train if r.category == category and r.label == 0)
    assert hazard_targets(safe).tolist() == [0.0] * len(CATEGORY_CODES)


def test_the_writer_drops_eval_near_copies_and_round_trips(
    tmp_path: Path, train: list[Record], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in eval set: one exact training prompt and one quoting a dev prompt's 8-gram.
    exact = train[0].prompt
    dev_prompt = statement_rows("dev")[0].prompt
    fake = {"fake": [Record(exact, None, 1, "fake"), Record(f"quoted: {dev_prompt}", None, 1, "f")]}
    monkeypatch.setattr(loaders, "load_evals", lambda data_dir: fake)
    monkeypatch.setattr(mix, "eval_prompt_keys", lambda data_dir: {normalise_text(exact)})
    built = write_category_statements(tmp_path, tmp_path / "no-data", command="test")
    assert built.dropped_total >= 2
    assert built.dropped["train exact_eval_prompt"] == {SOURCE: 1}
    assert exact not in {r.prompt for r in built.train}
    assert dev_prompt not in {r.prompt for r in built.dev}
    assert read_records(tmp_path / "train.jsonl.gz") == built.train
    assert read_records(tmp_path / "dev.jsonl.gz") == built.dev
    assert [r.variant for r in read_records(tmp_path / "dev.jsonl.gz")] == [
        r.variant for r in built.dev
    ]
    numbers = json.loads((tmp_path / "stats.json").read_text())
    assert numbers["train"]["rows"] == len(built.train)
    assert numbers["dropped_total"] == built.dropped_total
    sheet = (tmp_path / "DATASHEET.md").read_text()
    assert "`test`" in sheet and all(t in sheet for t in DEV_TEMPLATE_IDS)
    assert f"{built.dropped_total} rows in all" in sheet


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
