"""Binary metrics with harmful as the positive class."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score, precision_recall_curve

Labels = npt.NDArray[np.int64]
Scores = npt.NDArray[np.float32]
# One threshold for every row, or one per row (a prompt's, or a response's: contract.Thresholds)
Threshold = float | npt.NDArray[np.float64]


def binary_metrics(labels: Labels, scores: Scores, threshold: Threshold) -> dict[str, float]:
    """F1/precision/recall at `threshold` (score >= threshold is harmful), AUPRC, FPR."""
    labels = np.asarray(labels).astype(np.int64)
    pred = np.asarray(scores) >= threshold
    tp = int((pred & (labels == 1)).sum())
    fp = int((pred & (labels == 0)).sum())
    fn = int((~pred & (labels == 1)).sum())
    tn = int((~pred & (labels == 0)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    has_both = 0 < labels.sum() < len(labels)
    auprc = float(average_precision_score(labels, scores)) if has_both else float("nan")
    return {
        "f1": f1,
        "precision": precision,
        "recall": recall,
        "auprc": auprc,
        "fpr": fp / (fp + tn) if fp + tn else 0.0,
        "n": float(len(labels)),
        "positives": float(labels.sum()),
    }


def best_f1_threshold(labels: Labels, scores: Scores) -> float:
    """The score threshold with the best F1 (on the validation split or the dev suite only)."""
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    f1 = 2 * precision * recall / np.clip(precision + recall, 1e-12, None)
    best = int(np.argmax(f1[:-1])) if len(thresholds) else 0
    return float(thresholds[best]) if len(thresholds) else 0.5


def f1_response_threshold(
    labels: npt.ArrayLike, scores: npt.ArrayLike, with_response: npt.ArrayLike
) -> float | None:
    """The threshold for inputs with a response (`contract.Thresholds.response`): the F1
    optimum on the labelled rows (label NaN: unlabelled) that have a response, which export
    and the experiment report both take from the dev suite alone. None when those rows lack a
    class, so there is no optimum: pairs then keep the prompt threshold."""
    y = np.asarray(labels, dtype=np.float64)
    keep = np.asarray(with_response, dtype=bool) & ~np.isnan(y)
    y = y[keep]
    if not 0 < y.sum() < len(y):
        return None
    return best_f1_threshold(y.astype(np.int64), np.asarray(scores, dtype=np.float32)[keep])
