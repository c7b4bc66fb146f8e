"""The evaluation package on known scores: metrics, the run comparison, the report, latency."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from contract import Pair
from train.data.records import Record
from train.evaluation import compare, report
from train.evaluation.latency import measure_latency
from train.evaluation.metrics import best_f1_threshold, binary_metrics, f1_response_threshold


def test_binary_metrics_count_harmful_as_positive_at_the_threshold() -> None:
    labels = np.array([1, 1, 0, 0, 0])
    scores = np.array([0.9, 0.3, 0.6, 0.1, 0.2], dtype=np.float32)
    m = binary_metrics(labels, scores, 0.5)
    assert (m["precision"], m["recall"], m["fpr"]) == (0.5, 0.5, pytest.approx(1 / 3))
    assert m["f1"] == 0.5 and m["n"] == 5.0 and m["positives"] == 2.0
    assert m["auprc"] == pytest.approx(0.8333, abs=1e-4)
    assert math.isnan(binary_metrics(np.array([0, 0]), np.array([0.1, 0.2]), 0.5)["auprc"])


def test_best_f1_threshold_separates_separable_scores() -> None:
    labels = np.array([0, 0, 1, 1])
    threshold = best_f1_threshold(labels, np.array([0.1, 0.3, 0.7, 0.8], dtype=np.float32))
    assert 0.3 < threshold <= 0.7


def test_the_response_threshold_is_the_f1_optimum_of_the_labelled_rows_with_a_response() -> None:
    labels = np.array([0.0, 0.0, 1.0, 1.0, math.nan, 1.0, 0.0])
    scores = np.array([0.01, 0.02, 0.05, 0.9, 0.03, 0.2, 0.95])
    with_response = np.array([True, True, True, True, True, False, False])
    # The prompt rows (a harmful 0.2, a safe 0.95) and the unlabelled row take no part.
    threshold = f1_response_threshold(labels, scores, with_response)
    assert threshold == best_f1_threshold(np.array([0, 0, 1, 1]), scores[:4].astype(np.float32))
    assert threshold == pytest.approx(0.05)  # the lowest harmful pair's score
    assert f1_response_threshold(labels, scores, np.zeros(7, dtype=bool)) is None  # no rows
    assert f1_response_threshold(labels[:2], scores[:2], with_response[:2]) is None  # one class


def test_binary_metrics_take_one_threshold_per_row() -> None:
    labels = np.array([1, 1, 0])
    scores = np.array([0.9, 0.1, 0.3], dtype=np.float32)
    per_row = binary_metrics(labels, scores, np.array([0.5, 0.05, 0.5]))
    assert (per_row["recall"], per_row["fpr"]) == (1.0, 0.0)


def test_run_metrics_skip_unknown_labels_and_add_fidelity_to_the_teacher() -> None:
    labels = np.array([1.0, 0.0, math.nan, 1.0, 0.0])
    scores = np.array([0.9, 0.2, 0.99, 0.7, 0.6])
    teacher = np.array([0.8, 0.1, 0.9, 0.6, 0.7])
    m = compare.run_metrics(compare.SetScores(labels, scores, teacher), 0.5)
    assert m["auprc"] == 1.0  # the unlabelled row's high score is left out
    assert m["safe_flagged"] == 0.5 and m["harmful_caught"] == 1.0
    assert m["f1"] == pytest.approx(0.8)
    assert m["spearman"] == pytest.approx(0.9) and m["agreement_at_0.5"] == 1.0


def test_metrics_that_a_set_cannot_have_are_left_out() -> None:
    safe_only = compare.SetScores(np.zeros(4), np.array([0.1, 0.6, 0.2, 0.3]))
    assert compare.run_metrics(safe_only, 0.5) == {"safe_flagged": 0.25}


def test_mean_sd_ignores_nan_and_one_value_has_no_spread() -> None:
    assert compare.mean_sd([1.0, math.nan, 3.0]) == (2.0, pytest.approx(math.sqrt(2)))
    assert compare.mean_sd([0.5]) == (0.5, 0.0)
    assert all(math.isnan(v) for v in compare.mean_sd([math.nan]))


def test_a_bootstrap_interval_names_its_verdict() -> None:
    assert compare.Bootstrap(0.1, 0.05, 0.2, 0.0).verdict == "higher"
    assert compare.Bootstrap(-0.1, -0.2, -0.01, 1.0).verdict == "lower"
    assert compare.Bootstrap(0.01, -0.02, 0.04, 0.3).verdict == "no difference"


@pytest.mark.filterwarnings("ignore:Mean of empty slice")
def test_no_bootstrap_for_a_metric_the_set_does_not_have() -> None:
    labels = np.zeros(10)  # no harmful rows: no AUPRC
    runs = [(np.linspace(0, 1, 10), 0.5)]
    assert compare.paired_bootstrap(labels, runs, runs, compare.auprc, 10) is None


def test_a_threshold_for_a_target_of_every_safe_row_flags_everything() -> None:
    assert compare.threshold_at_fpr([0.2, 0.4], 1.0) == 0.0


class _LengthScorer:
    scorer_id = "length"

    def score(self, pairs: list[Pair]) -> list[float]:
        return [min(len(p) / 40, 1.0) for p, _ in pairs]


EVALS = {
    "oai": [Record("short", None, 0, "oai"), Record("x" * 40, None, 1, "oai"),
            Record("y" * 30, None, 1, "oai"), Record("tiny", None, 0, "oai")],
    "harmbench": [Record("a" * 8, "an answer", 1, "harmbench"),
                  Record("b" * 4, "a refusal", 0, "harmbench")],
    "xstest": [Record("kill a python process", None, 0, "xstest", category="homonyms"),
               Record("z" * 40, None, 1, "xstest", category="contrast_homonyms"),
               Record("w" * 36, None, 0, "xstest", category="homonyms")],
}  # fmt: skip


@pytest.fixture
def known_evals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "load_evals", lambda _dir, sets: {s: EVALS[s] for s in sets})


@pytest.mark.usefixtures("known_evals")
def test_a_scorer_is_reported_per_set_at_its_threshold_and_at_half() -> None:
    rep = report.evaluate_scorer(_LengthScorer(), "len", 0.7, Path("data"), ["oai", "xstest"])
    oai, xs = rep.results["oai"], rep.results["xstest"]
    assert oai["f1"] == 1.0 and oai["auprc"] == 1.0
    assert xs["safe_prompt_fpr"] == 0.5 and xs["safe_prompt_fpr_at_0.5"] == 1.0
    assert rep.extra["xstest_flagged_by_type"] == {
        "contrast_homonyms": {"label": "unsafe", "n": 1, "flagged": 1.0},
        "homonyms": {"label": "safe", "n": 2, "flagged": 0.5},
    }
    assert rep.scores["oai"][0] == [0, 1, 1, 0]
    assert rep.mean_auprc == 1.0  # OAI alone of the mean's sets
    cut = report.evaluate_scorer(_LengthScorer(), "len", 0.7, Path("data"), ["oai"], max_rows=2)
    assert cut.results["oai"]["n"] == 2.0


@pytest.mark.usefixtures("known_evals")
def test_rows_with_a_response_are_judged_at_the_response_threshold(tmp_path: Path) -> None:
    sets = ["oai", "harmbench"]
    # harmbench's pairs score 0.2 (harmful) and 0.1 (safe): both under the prompt threshold
    prompt_only = report.evaluate_scorer(_LengthScorer(), "len", 0.7, Path("data"), sets)
    assert prompt_only.results["harmbench"]["recall"] == 0.0
    both = report.evaluate_scorer(
        _LengthScorer(), "len", 0.7, Path("data"), sets, response_threshold=0.15
    )
    assert both.results["harmbench"]["f1"] == 1.0
    assert both.results["oai"] == prompt_only.results["oai"]  # prompts keep their threshold
    report.write_report(both, tmp_path)
    header = (tmp_path / "eval.md").read_text().split("\n")[2]
    assert "Thresholds 0.7000 for prompts alone, 0.1500 for pairs with a response" in header
    again = report.EvalReport.from_json(json.loads((tmp_path / "eval.json").read_text()))
    assert (again.threshold, again.response_threshold) == (0.7, 0.15)
    alike = "Threshold 0.7000 for prompts alone and pairs with a response alike"
    assert report.describe_thresholds(prompt_only) == alike


@pytest.mark.usefixtures("known_evals")
def test_a_report_round_trips_through_its_json_and_is_written_out(tmp_path: Path) -> None:
    rep = report.evaluate_scorer(_LengthScorer(), "len", 0.7, Path("data"), ["oai", "xstest"])
    rep.extra["latency"] = {"p50_ms": 1.0}
    report.write_report(rep, tmp_path)
    raw = json.loads((tmp_path / "eval.json").read_text())
    again = report.EvalReport.from_json(raw)
    assert again.results == rep.results and again.threshold == 0.7
    assert again.extra == rep.extra  # the stored mean is recomputed, not kept as extra
    assert raw["mean_auprc_oai_toxicchat_harmbench"] == rep.mean_auprc
    table = (tmp_path / "eval.md").read_text()
    assert "| len | oai | 4 |" in table and "| len | xstest | 3 |" in table
    assert "**mean AUPRC (OAI, ToxicChat, HarmBench)**" in table
    assert (tmp_path / "pr_curve.png").stat().st_size > 0


def test_latency_scores_one_pair_at_a_time_after_a_warm_up() -> None:
    batches: list[int] = []
    pairs: list[Pair] = [(f"prompt {i}", None) for i in range(8)]
    result = measure_latency(lambda batch: batches.append(len(batch)), pairs, warmup=3)
    assert batches == [1] * 11
    assert result["pairs"] == 8.0 and result["p50_ms"] <= result["p95_ms"]
    assert result["pairs_per_s_batch1"] > 0
