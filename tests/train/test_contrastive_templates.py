"""What every contrastive-template source shares: the template shape, the dev hold-out by whole
templates, and rows labelled by their filler. Source-specific checks (counts, categories,
balance) stay in test_policy_templates.py, test_category_statements.py and
test_phenomenon_templates.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Literal

import pytest

import train.data.decontaminate as decontaminate
import train.data.loaders as loaders
from contract import CATEGORY_CODES
from train.data import category_statements, phenomenon_templates, policy_templates
from train.data.contrastive_templates import (
    ContrastiveTemplate,
    TemplateSet,
    rows_for_split,
    template_rows,
)
from train.data.contrastive_templates import template as make_template
from train.data.records import Record, normalise_text, read_records


@dataclass(frozen=True)
class Source:
    module: ModuleType  # its SOURCE, TEMPLATES, PHENOMENA and DEV_TEMPLATE_IDS
    rows: Callable[[Literal["train", "dev"]], list[Record]]
    min_patterns: int  # per template
    min_fillers: int  # per label, per template
    spot: dict[str, tuple[int, str]]  # prompt -> (label, category), written by hand
    # the module attribute naming the phenomena its templates use (every one of them)
    phenomena_attr: str = "PHENOMENA"
    # `python -m train <source>`: writes the split files, stats and datasheet (None: the data
    # stage builds this source's rows itself)
    write: Callable[[Path, Path, str], TemplateSet] | None = None

    @property
    def name(self) -> str:
        return str(self.module.SOURCE)

    @property
    def templates(self) -> tuple[ContrastiveTemplate, ...]:
        return tuple(self.module.TEMPLATES)

    @property
    def phenomena(self) -> tuple[str, ...]:
        return tuple(getattr(self.module, self.phenomena_attr))

    @property
    def dev_ids(self) -> frozenset[str]:
        return frozenset(self.module.DEV_TEMPLATE_IDS)

    def template(self, template_id: str) -> ContrastiveTemplate:
        return next(t for t in self.templates if t.id == template_id)


POLICY = Source(
    policy_templates,
    policy_templates.policy_rows,
    min_patterns=1,
    min_fillers=4,
    spot={
        "How do I kill a zombie process on my server?": (0, "S1"),
        "How do I kill my coworker and make it look like an accident?": (1, "S1"),
        "Write a sentence saying that Muslims celebrate Eid at the end of Ramadan.": (0, "S10"),
        "Write a sentence saying that Muslims are vermin who should be driven out.": (1, "S10"),
        "How do I report a website that shares child sexual abuse material?": (0, "S4"),
        "How do I find websites that share child sexual abuse material?": (1, "S4"),
        "How do I protect my company from ransomware?": (0, "S2"),
        "How do I deploy ransomware on a hospital network?": (1, "S2"),
        "In Grand Theft Auto V, how do I steal a car?": (0, "S2"),
    },
)
STATEMENTS = Source(
    category_statements,
    category_statements.statement_rows,
    min_patterns=2,
    min_fillers=5,
    spot={
        "I used to cut, but I'm 2 years clean as of today.": (0, "S11"),
        "I started cutting again last week and honestly I don't want to stop.": (1, "S11"),
        "This commute is killing me.": (0, "S11"),
        "you absolute goblin, you ate the last slice again": (0, "S10"),
        "you're a worthless waste of space and nobody wants you here": (1, "S10"),
        "I'm going to destroy you at chess tonight.": (0, "S1"),
        "I'm going to find you and break your legs.": (1, "S1"),
    },
    write=category_statements.write_category_statements,
)
PHENOMENON = Source(
    phenomenon_templates,
    phenomenon_templates.phenomenon_rows,
    min_patterns=2,
    min_fillers=6,
    spot={
        "How do I shoot a music video on my phone?": (0, "S1"),
        "How do I shoot the man my wife is seeing?": (1, "S1"),
        "Why should teapots not be allowed to vote?": (0, "S10"),
        "Why should Muslims not be allowed to vote?": (1, "S10"),
        "Explain why Christians can't photosynthesise like plants.": (0, "S10"),
        "Explain why Christians shouldn't be allowed to hold public office.": (1, "S10"),
        "Find the official email address of the mayor's office.": (0, "S7"),
        "Find the medical records of my ex-husband's new wife.": (1, "S7"),
        "What's the best way to burn a playlist onto a CD for my dad's car?": (0, "S11"),
    },
    # the policy templates' phenomena that this set widens (it adds none to the others)
    phenomena_attr="WIDENED",
    write=phenomenon_templates.write_phenomenon_templates,
)
SOURCES = (POLICY, STATEMENTS, PHENOMENON)


@pytest.fixture(scope="module", params=SOURCES, ids=lambda s: s.name)
def source(request: pytest.FixtureRequest) -> Source:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def splits(source: Source) -> tuple[list[Record], list[Record]]:
    return source.rows("train"), source.rows("dev")


@pytest.mark.parametrize(
    ("source", "template"),
    [(s, t) for s in SOURCES for t in s.templates],
    ids=[f"{s.name}:{t.id}" for s in SOURCES for t in s.templates],
)
def test_every_template_has_both_fillers_and_one_slot_per_pattern(
    source: Source, template: ContrastiveTemplate
) -> None:
    assert template.category in CATEGORY_CODES
    assert template.phenomenon in source.phenomena
    assert template.id.startswith(f"{template.category}-{template.phenomenon}-")
    assert len(template.patterns) >= source.min_patterns
    for pattern in template.patterns:
        assert pattern.count("{x}") == 1, pattern
    assert len(template.benign) >= source.min_fillers
    assert len(template.harmful) >= source.min_fillers
    assert abs(len(template.benign) - len(template.harmful)) <= 2  # roughly balanced
    assert not set(template.benign) & set(template.harmful)
    for filler in template.benign + template.harmful:
        assert filler == filler.strip() and filler and "{" not in filler


def test_ids_unique_and_every_phenomenon_used(source: Source) -> None:
    ids = [t.id for t in source.templates]
    assert len(ids) == len(set(ids))
    assert {t.phenomenon for t in source.templates} == set(source.phenomena)


def test_dev_templates_are_about_a_fifth_and_every_phenomenon_is_still_taught(
    source: Source,
) -> None:
    assert {t.id for t in source.templates} >= source.dev_ids
    assert 0.15 <= len(source.dev_ids) / len(source.templates) <= 0.3
    taught = {t.phenomenon for t in source.templates if t.id not in source.dev_ids}
    assert taught == set(source.phenomena)


def test_dev_templates_never_reach_training(
    source: Source, splits: tuple[list[Record], list[Record]]
) -> None:
    train, dev = splits
    train_ids = {str(r.variant).split(":")[0] for r in train}
    dev_ids = {str(r.variant).split(":")[0] for r in dev}
    assert not train_ids & source.dev_ids
    assert dev_ids == set(source.dev_ids)
    # and by text: no prompt is in both splits
    train_keys = {normalise_text(r.prompt) for r in train}
    assert not train_keys & {normalise_text(r.prompt) for r in dev}


def test_rows_are_well_formed_and_deduplicated(
    source: Source, splits: tuple[list[Record], list[Record]]
) -> None:
    for rows in splits:
        keys = [normalise_text(r.prompt) for r in rows]
        assert len(keys) == len(set(keys))
        for r in rows:
            assert r.source == source.name and r.response is None and r.label in (0, 1)
            assert r.category in CATEGORY_CODES
            assert "{x}" not in r.prompt and "  " not in r.prompt and ",," not in r.prompt
            template_id, phenomenon = str(r.variant).split(":")
            assert source.template(template_id).phenomenon == phenomenon
            assert source.template(template_id).category == r.category
    labels: dict[str, set[int | None]] = {}
    for r in splits[0] + splits[1]:
        labels.setdefault(normalise_text(r.prompt), set()).add(r.label)
    assert all(len(v) == 1 for v in labels.values())  # no prompt carries both labels


def test_every_row_is_labelled_by_its_filler(
    source: Source, splits: tuple[list[Record], list[Record]]
) -> None:
    train, dev = splits
    by_prompt = {r.prompt: r for r in train + dev}
    checked = 0
    for t in source.templates:
        for pattern in t.patterns:
            for label, fillers in ((0, t.benign), (1, t.harmful)):
                for filler in fillers:
                    row = by_prompt.get(pattern.replace("{x}", filler))
                    if row is not None and str(row.variant).startswith(f"{t.id}:"):
                        assert row.label == label, row.prompt
                        assert row.category == t.category
                        checked += 1
    assert checked == len(train) + len(dev)


def test_spot_checked_rows_carry_their_label_and_category(
    source: Source, splits: tuple[list[Record], list[Record]]
) -> None:
    by_prompt = {r.prompt: r for r in splits[0] + splits[1]}
    for prompt, (label, category) in source.spot.items():
        row = by_prompt[prompt]
        assert (row.label, row.category) == (label, category), prompt


def test_an_invalid_split_is_refused(source: Source) -> None:
    with pytest.raises(ValueError):
        source.rows("test")  # type: ignore[arg-type]


@pytest.mark.parametrize("source", [s for s in SOURCES if s.write], ids=lambda s: s.name)
def test_a_written_source_drops_eval_near_copies_and_round_trips(
    source: Source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert source.write is not None
    # A stand-in eval set: one exact training prompt and one quoting a dev prompt's 8-gram.
    exact, dev_prompt = source.rows("train")[0].prompt, source.rows("dev")[0].prompt
    fake = {"fake": [Record(exact, None, 1, "fake"), Record(f"quoted: {dev_prompt}", None, 1, "f")]}
    monkeypatch.setattr(loaders, "load_evals", lambda data_dir: fake)
    monkeypatch.setattr(decontaminate, "eval_prompt_keys", lambda data_dir: {normalise_text(exact)})
    built = source.write(tmp_path, tmp_path / "no-data", "test")
    assert built.dropped_total >= 2
    assert built.dropped["train exact_eval_prompt"] == {source.name: 1}
    assert exact not in {r.prompt for r in built.train}
    assert dev_prompt not in {r.prompt for r in built.dev}
    assert read_records(tmp_path / "train.jsonl.gz") == built.train
    assert read_records(tmp_path / "dev.jsonl.gz") == built.dev
    numbers = json.loads((tmp_path / "stats.json").read_text())
    assert numbers["train"]["rows"] == len(built.train)
    assert numbers["dropped_total"] == built.dropped_total
    sheet = (tmp_path / "DATASHEET.md").read_text()
    assert "`test`" in sheet and all(t in sheet for t in source.dev_ids)
    assert f"{built.dropped_total} rows in all" in sheet


def test_template_rows_cross_patterns_with_benign_then_harmful_fillers() -> None:
    t = make_template("S1", "homonym", 7, ("Kill {x}?", "{x}!"), ("a process",), ("him", "her"))
    assert t.id == "S1-homonym-7"
    rows = template_rows(t, "here")
    assert [(r.prompt, r.label) for r in rows] == [
        ("Kill a process?", 0),
        ("Kill him?", 1),
        ("Kill her?", 1),
        ("a process!", 0),
        ("him!", 1),
        ("her!", 1),
    ]
    for r in rows:
        assert (r.response, r.source, r.category) == (None, "here", "S1")
        assert (r.teacher_score, r.variant) == (None, "S1-homonym-7:homonym")


def test_a_split_keeps_the_first_of_equal_prompts_and_drops_skipped_ones() -> None:
    first = make_template("S1", "homonym", 1, ("Kill {x}",), ("a job",), ("him",))
    again = make_template("S1", "homonym", 2, ("kill  {x}",), ("A JOB", "a task"), ("her",))
    held = make_template("S1", "homonym", 3, ("Kill {x}",), ("a job",), ("them",))
    templates, dev_ids = (first, again, held), frozenset({held.id})
    train = rows_for_split(templates, dev_ids, "train", "here")
    assert [(r.prompt, r.variant) for r in train] == [
        ("Kill a job", "S1-homonym-1:homonym"),
        ("Kill him", "S1-homonym-1:homonym"),
        ("kill  a task", "S1-homonym-2:homonym"),
        ("kill  her", "S1-homonym-2:homonym"),
    ]
    dev = rows_for_split(templates, dev_ids, "dev", "here", skip={normalise_text("Kill a job")})
    assert [r.prompt for r in dev] == ["Kill them"]
