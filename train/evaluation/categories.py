"""Per-category evaluation: hazard thresholds chosen on dev, OpenAI keys scored on OAI's flags.

The OAI moderation eval flags 8 of OpenAI's categories per prompt (a missing flag is unknown
and that prompt is left out of that category). A key's score is the contract's mapping of the
hazard scores (the highest hazard that feeds it); it is flagged when one of those hazards
crosses its own threshold. Hazard thresholds are F1-optimal on the dev suite's rows whose
source names their hazards (`train.data.hazards`), never on an eval set.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from contract import CATEGORY_CODES, openai_flags, openai_scores
from train.evaluation.metrics import best_f1_threshold, binary_metrics

# OAI eval flag -> OpenAI category
OAI_FLAGS: dict[str, str] = {
    "S": "sexual",
    "H": "hate",
    "V": "violence",
    "HR": "harassment",
    "SH": "self-harm",
    "S3": "sexual/minors",
    "H2": "hate/threatening",
    "V2": "violence/graphic",
}
MIN_DEV_POSITIVES = 5
DEFAULT_THRESHOLD = 0.5

Matrix = npt.NDArray[np.float32]


def hazard_thresholds(targets: Matrix, scores: Matrix) -> dict[str, float]:
    """Per hazard, the F1-optimal threshold on dev rows with a hard target (0.5 if too few)."""
    out: dict[str, float] = {}
    for j, code in enumerate(CATEGORY_CODES):
        known = np.isin(targets[:, j], (0.0, 1.0))
        labels = targets[known, j].astype(np.int64)
        if labels.sum() < MIN_DEV_POSITIVES or labels.sum() == len(labels):
            out[code] = DEFAULT_THRESHOLD
            continue
        out[code] = float(best_f1_threshold(labels, scores[known, j]))
    return out


def hazard_metrics(
    targets: Matrix, scores: Matrix, thresholds: dict[str, float]
) -> dict[str, dict[str, float]]:
    """AUPRC, F1 and counts per hazard on rows with a hard target."""
    out: dict[str, dict[str, float]] = {}
    for j, code in enumerate(CATEGORY_CODES):
        known = np.isin(targets[:, j], (0.0, 1.0))
        labels = targets[known, j].astype(np.int64)
        if 0 < labels.sum() < len(labels):
            out[code] = binary_metrics(labels, scores[known, j], thresholds[code])
    return out


def parse_oai_flags(variant: str | None) -> dict[str, int]:
    """ "S=1,H=0" -> {"S": 1, "H": 0} (the loader's record of every known flag)."""
    if not variant:
        return {}
    return {k: int(v) for k, v in (part.split("=") for part in variant.split(","))}


def openai_key_metrics(
    flags: list[dict[str, int]], scores: Matrix, thresholds: dict[str, float]
) -> dict[str, dict[str, float]]:
    """Per OAI-flagged OpenAI key: AUPRC of the mapped score, F1 of the mapped flag."""
    # Each row through the contract's rules, as the service maps it.
    hazard_scores = [dict(zip(CATEGORY_CODES, map(float, row), strict=True)) for row in scores]
    key_scores_all = [openai_scores(row) for row in hazard_scores]
    key_flags_all = [
        openai_flags({code: score >= thresholds[code] for code, score in row.items()})
        for row in hazard_scores
    ]
    out: dict[str, dict[str, float]] = {}
    for flag, key in OAI_FLAGS.items():
        rows = [i for i, f in enumerate(flags) if flag in f]
        labels = np.array([flags[i][flag] for i in rows], dtype=np.int64)
        if not rows or labels.sum() in (0, len(labels)):
            continue
        flagged = np.array([float(key_flags_all[i][key]) for i in rows], dtype=np.float32)
        key_scores = np.array([key_scores_all[i][key] for i in rows], dtype=np.float32)
        out[key] = {
            **binary_metrics(labels, flagged, 0.5),
            "auprc": binary_metrics(labels, key_scores, 0.5)["auprc"],
        }
    return out
