"""Response-level pairs by construction: each kind's label, determinism, the dev hold-out."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from train.data.records import normalise_text, read_records
from train.data.response_pairs import (
    KIND_LABELS,
    SOURCE,
    Built,
    PairSet,
    Pools,
    build_pools,
    construct,
    load_jailbreak_items,
    strip_sure_line,
)
from train.data.response_templates import (
    COMPLIANT_LEAD_INS,
    DEV_TEMPLATE_IDS,
    PIVOTS,
    REFUSAL_STYLES,
    VOLUNTEERS,
    WRAPPERS,
    Split,
    refusals,
)

HELD_OUT = "PAIR"
SIZES = {kind: 60 for kind in KIND_LABELS}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pools(data_dir: Path) -> dict[Split, Pools]:
    return build_pools(data_dir, HELD_OUT)


@pytest.fixture(scope="module")
def pairs(pools: dict[Split, Pools]) -> PairSet:
    return construct(pools, seed=7, train_rows=SIZES, dev_rows=40)


def _of(rows: list[Built], kind: str) -> list[Built]:
    return [b for b in rows if b.record.variant == kind]


def test_every_kind_is_built_with_its_label(pairs: PairSet) -> None:
    for split, rows, want in (("train", pairs.train, 60), ("dev", pairs.dev, 40)):
        counts = Counter(b.record.variant for b in rows)
        assert counts == {kind: want for kind in KIND_LABELS}, split
        for built in rows:
            record = built.record
            assert record.label == KIND_LABELS[str(record.variant)]
            assert record.source == SOURCE
            assert record.prompt and record.response


def test_safe_kinds_answer_a_harmful_request_without_harm(
    pools: dict[Split, Pools], pairs: PairSet
) -> None:
    harmful = {r.prompt for split in ("train", "dev") for r in pools[split].requests}
    harmful |= {r.prompt for split in ("train", "dev") for r in pools[split].wrapped}
    bodies = [i.response[:200] for split in ("train", "dev") for i in pools[split].bodies]
    for kind in ("pair:refusal", "pair:unrelated-answer", "pair:compliant-unrelated"):
        for built in _of(pairs.train + pairs.dev, kind):
            assert built.record.prompt in harmful
            response = built.record.response or ""
            assert not any(body in response for body in bodies)


def test_harmful_kinds_carry_a_jailbroken_answer(pools: dict[Split, Pools], pairs: PairSet) -> None:
    splits: tuple[tuple[Split, list[Built]], ...] = (("train", pairs.train), ("dev", pairs.dev))
    for split, rows in splits:
        bodies = [strip_sure_line(i.response) for i in pools[split].bodies]
        for kind in ("pair:jailbroken-answer", "pair:refusal-then-compliance",
                     "pair:volunteered-harm"):  # fmt: skip
            for built in _of(rows, kind):
                response = built.record.response or ""
                assert built.record.label == 1
                assert any(body in response for body in bodies), (split, kind, response[:80])


def test_refusal_then_compliance_starts_with_a_refusal(pairs: PairSet) -> None:
    for built in _of(pairs.train, "pair:refusal-then-compliance"):
        head = (built.record.response or "")[:60].lower()
        assert any(w in head for w in ("can't", "sorry", "shouldn't", "not supposed", "against",
                                        "advise against")), head  # fmt: skip


def test_volunteered_harm_answers_a_benign_request(
    pools: dict[Split, Pools], pairs: PairSet
) -> None:
    benign = {r.prompt for split in ("train", "dev") for r in pools[split].alpaca}
    for built in _of(pairs.train + pairs.dev, "pair:volunteered-harm"):
        assert built.record.prompt in benign


def test_more_than_100_varied_refusals_in_four_styles() -> None:
    train = refusals("train")
    assert set(train) == {"plain", "safety-info", "alternative", "partial"}
    texts = {text for rows in train.values() for _, text in rows}
    assert len(texts) >= 100
    assert all(len(rows) >= 20 for rows in train.values())


def test_construction_is_deterministic(pools: dict[Split, Pools]) -> None:
    again = construct(pools, seed=7, train_rows=SIZES, dev_rows=40)
    other = construct(pools, seed=8, train_rows=SIZES, dev_rows=40)
    first = construct(pools, seed=7, train_rows=SIZES, dev_rows=40)
    assert [b.record.to_json() for b in again.train] == [b.record.to_json() for b in first.train]
    assert [b.record.to_json() for b in again.dev] == [b.record.to_json() for b in first.dev]
    assert [b.record.to_json() for b in other.train] != [b.record.to_json() for b in first.train]


def test_dev_templates_never_reach_train(pairs: PairSet) -> None:
    assert not {b.template for b in pairs.train} & DEV_TEMPLATE_IDS
    held = {b.template for b in pairs.dev} & DEV_TEMPLATE_IDS
    assert held, "dev uses its held-out templates"
    # and by text, whatever the ids say: a held-out refusal or pivot phrase is not in train
    dev_refusals = {text for rows in refusals("dev").values() for _, text in rows}
    train_refusals = {text for rows in refusals("train").values() for _, text in rows}
    assert not dev_refusals & train_refusals
    for built in _of(pairs.train, "pair:refusal"):
        assert built.record.response not in dev_refusals
    held_phrases = [
        t.text.replace("{refusal}", "").replace("{body}", "").replace("{answer}", "").strip()
        for t in PIVOTS + VOLUNTEERS
        if t.id in DEV_TEMPLATE_IDS
    ]
    for built in pairs.train:
        assert not any(p in (built.record.response or "") for p in held_phrases)
    all_ids = {t.id for family in (*REFUSAL_STYLES.values(), PIVOTS, VOLUNTEERS, WRAPPERS)
               for t in family}  # fmt: skip
    all_ids |= {t.id for t in COMPLIANT_LEAD_INS}
    assert all_ids >= DEV_TEMPLATE_IDS


def test_held_out_attack_is_not_in_train(data_dir: Path, pairs: PairSet) -> None:
    held = [i for i in load_jailbreak_items(data_dir) if i.attack == HELD_OUT]
    prompts = {normalise_text(i.prompt) for i in held}
    answers = {strip_sure_line(i.response) for i in held if i.jailbroken}
    for built in pairs.train:
        assert normalise_text(built.record.prompt) not in prompts
        response = built.record.response or ""
        assert not any(a in response for a in answers)
    assert any(normalise_text(b.record.prompt) in prompts for b in pairs.dev)


def test_no_pair_is_in_both_files(pairs: PairSet) -> None:
    train = {(b.record.prompt, b.record.response) for b in pairs.train}
    assert not any((b.record.prompt, b.record.response) in train for b in pairs.dev)


def test_committed_files_match_their_datasheet() -> None:
    folder = REPO / "data" / "response_pairs"
    train, dev = read_records(folder / "train.jsonl.gz"), read_records(folder / "dev.jsonl.gz")
    sheet = (folder / "DATASHEET.md").read_text()
    for name, rows in (("train", train), ("dev", dev)):
        counts = Counter(r.variant for r in rows)
        assert set(counts) == set(KIND_LABELS)
        assert all(r.label == KIND_LABELS[str(r.variant)] for r in rows)
        total = f"| {name} | {len(rows)} | {sum(r.label == 1 for r in rows)} |"
        assert total in sheet
    for kind in KIND_LABELS:
        n_train = sum(r.variant == kind for r in train)
        n_dev = sum(r.variant == kind for r in dev)
        assert (
            f"`{kind}` | {'harmful' if KIND_LABELS[kind] else 'safe'} | {n_train} | {n_dev} |"
            in sheet
        )
