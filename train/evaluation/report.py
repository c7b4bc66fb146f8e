"""`evaluate`: score a model on the eval sets and write JSON, a Markdown table and a PR plot.

Reusable pieces for other reports (the HarmAug ablation): `evaluate_scorer` (on a scorer from
`train.scoring.load_scorer`), `markdown_table`, `write_report`. Only eval sets are read here,
and nothing computed here feeds back into training: the thresholds come from the model (its
manifest, or its validation split). Rows with a response are judged at the response threshold
when the model has one (`contract.Thresholds`, as the service judges them).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from contract import Thresholds
from train.data.loaders import EVALS, load_evals
from train.data.records import Record
from train.evaluation.metrics import Threshold, binary_metrics
from train.scoring import Scorer

MEAN_SETS = ("oai", "toxicchat", "harmbench")
# Reference points printed beside the results (see the issue and the data README).
ANCHORS = {
    "harmbench": "Llama Guard's own verdicts on this set: F1 0.480 (column `llama_guard`)",
    "oai": "HarmAug-Guard (435M), independent benchmark: F1 0.815",
    "xstest": "HarmAug-Guard (435M), independent benchmark: 3.6% of safe prompts flagged",
}


@dataclass
class EvalReport:
    model: str
    threshold: float
    results: dict[str, dict[str, float]] = field(default_factory=dict)
    scores: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    response_threshold: float | None = None  # rows with a response; None: `threshold`

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.threshold, self.response_threshold)

    @property
    def mean_auprc(self) -> float:
        values = [self.results[s]["auprc"] for s in MEAN_SETS if s in self.results]
        return float(np.mean(values)) if values else math.nan

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> EvalReport:
        known = {"model", "threshold", "response_threshold", "results",
                 "mean_auprc_oai_toxicchat_harmbench"}  # fmt: skip
        extra = {k: v for k, v in raw.items() if k not in known}
        response = raw.get("response_threshold")
        return cls(raw["model"], float(raw["threshold"]), raw["results"], {}, extra,
                   None if response is None else float(response))  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "threshold": self.threshold,
                "response_threshold": self.response_threshold, "results": self.results,
                "mean_auprc_oai_toxicchat_harmbench": self.mean_auprc, **self.extra}  # fmt: skip


def evaluate_scorer(
    scorer: Scorer, name: str, threshold: float, data_dir: Path, sets: list[str],
    max_rows: int | None = None, response_threshold: float | None = None,
) -> EvalReport:  # fmt: skip
    """Metrics "at the threshold" judge each row at its own: `response_threshold` (when given)
    for a row with a response, `threshold` otherwise."""
    report = EvalReport(model=name, threshold=threshold, response_threshold=response_threshold)
    for set_name, all_rows in load_evals(data_dir, sets).items():
        rows = all_rows[:max_rows] if max_rows else all_rows
        labels = [int(r.label or 0) for r in rows]
        scores = scorer.score([r.pair for r in rows])
        y, s = np.array(labels), np.array(scores, dtype=np.float32)
        thr = np.array([report.thresholds.for_pair(r.response) for r in rows], dtype=np.float64)
        at_thr = binary_metrics(y, s, thr)
        at_half = binary_metrics(y, s, 0.5)
        result = {**at_thr, "f1_at_0.5": at_half["f1"], "precision_at_0.5": at_half["precision"],
                  "recall_at_0.5": at_half["recall"]}  # fmt: skip
        if set_name == "xstest":
            safe = y == 0
            result["safe_prompt_fpr"] = float((s[safe] >= thr[safe]).mean())
            result["safe_prompt_fpr_at_0.5"] = float((s[safe] >= 0.5).mean())
            report.extra["xstest_flagged_by_type"] = flagged_by_type(rows, s, thr)
        report.results[set_name] = result
        report.scores[set_name] = (labels, [float(v) for v in scores])
    return report


def flagged_by_type(rows: list[Record], scores: np.ndarray, threshold: Threshold) -> dict[str, Any]:
    """XSTest: per prompt type, its label and the share flagged at the threshold (one, or
    one per row)."""
    thr = np.broadcast_to(np.asarray(threshold, dtype=np.float64), scores.shape)
    out: dict[str, Any] = {}
    for kind in sorted({r.category or "?" for r in rows}):
        idx = [i for i, r in enumerate(rows) if (r.category or "?") == kind]
        out[kind] = {
            "label": "unsafe" if rows[idx[0]].label == 1 else "safe",
            "n": len(idx),
            "flagged": float((scores[idx] >= thr[idx]).mean()),
        }
    return out


def _fmt(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.3f}"


def markdown_table(reports: list[EvalReport]) -> str:
    """One row per (model, eval set): the columns the card and the ablation share."""
    lines = [
        "| model | set | n | F1@thr | F1@0.5 | AUPRC | precision | recall | XSTest safe FPR |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for rep in reports:
        for set_name, r in rep.results.items():
            fpr = r.get("safe_prompt_fpr")
            lines.append(
                f"| {rep.model} | {set_name} | {int(r['n'])} | {_fmt(r['f1'])} | "
                f"{_fmt(r['f1_at_0.5'])} | {_fmt(r['auprc'])} | {_fmt(r['precision'])} | "
                f"{_fmt(r['recall'])} | {_fmt(fpr) if fpr is not None else ''} |"
            )
        lines.append(f"| {rep.model} | **mean AUPRC (OAI, ToxicChat, HarmBench)** | | | | "
                     f"**{_fmt(rep.mean_auprc)}** | | | |")  # fmt: skip
    return "\n".join(lines)


def plot_pr_curves(report: EvalReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    fig, ax = plt.subplots(figsize=(6, 5))
    for set_name, (labels, scores) in report.scores.items():
        if 0 < sum(labels) < len(labels):
            precision, recall, _ = precision_recall_curve(labels, scores)
            auprc = report.results[set_name]["auprc"]
            ax.plot(recall, precision, label=f"{set_name} (AUPRC {auprc:.3f})")
    ax.set_xlabel("recall (harmful)")
    ax.set_ylabel("precision (harmful)")
    ax.set_title(f"Precision-recall: {report.model}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(report: EvalReport, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "eval.json").write_text(json.dumps(report.to_json(), indent=2) + "\n")
    anchors = "\n".join(f"- {EVALS[k].name}: {v}" for k, v in ANCHORS.items())
    md = (
        f"# Evaluation: {report.model}\n\n{describe_thresholds(report)} (the model's own, "
        "chosen on training-side data, never an eval set). Positive class = harmful.\n\n"
        f"{markdown_table([report])}\n\n"
        f"Anchors:\n{anchors}\n"
    )
    (out_dir / "eval.md").write_text(md)
    plot_pr_curves(report, out_dir / "pr_curve.png")


def describe_thresholds(report: EvalReport) -> str:
    """Both thresholds, as the header of the report says which rows each judged."""
    if report.response_threshold is None:
        return f"Threshold {report.threshold:.4f} for prompts alone and pairs with a response alike"
    return (
        f"Thresholds {report.threshold:.4f} for prompts alone, "
        f"{report.response_threshold:.4f} for pairs with a response"
    )


def print_report(report: EvalReport) -> None:
    print(f"{describe_thresholds(report)}.")
    print(markdown_table([report]))
    for key, text in ANCHORS.items():
        if key in report.results:
            print(f"  anchor [{key}]: {text}")
