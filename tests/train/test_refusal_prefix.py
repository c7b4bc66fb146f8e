"""The refusal-prefix baseline of response-level tables."""

from __future__ import annotations

from train.data.records import Record
from train.evaluation.refusal_prefix import refusal_prefix_score
from train.stages.experiment import refusal_prefix_scores


def test_a_refusal_scores_safe_and_compliance_harmful() -> None:
    assert refusal_prefix_score("I\u2019m sorry, but I can't help with that.") == 0.0
    assert refusal_prefix_score("Sure, here is how to do it: first...") == 1.0
    assert refusal_prefix_score(None) is None


def test_only_sets_whose_rows_all_have_responses_get_the_baseline() -> None:
    pairs = [Record("p", "I cannot do that.", 0, "x"), Record("p", "Step 1...", 1, "x")]
    assert refusal_prefix_scores(pairs) == {"refusal_prefix": [0.0, 1.0]}
    assert refusal_prefix_scores([*pairs, Record("p", None, 0, "x")]) == {}
