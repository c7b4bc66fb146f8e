"""Comparing arms over seeds: per-run metrics, mean and sd, and a paired bootstrap.

A run's scores are kept per example, so every figure here is recomputed from them. The paired
bootstrap resamples examples (the same indices for both arms), averages each arm's metric over
its seeds on the resample, and reports the difference arm - baseline: its mean, 95% interval
and the share of resamples where it is <= 0. An interval that contains 0 is "no difference".
A decision over many such comparisons at once (every dev set and hazard of an arm) adjusts
their two-sided p-values with Holm's step-down method (`holm`), so that the chance of any
spurious "higher" or "lower" in the family stays at 5%.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score

from train.evaluation.metrics import Threshold

Array = npt.NDArray[np.float64]
Metric = Callable[[Array, Array, Threshold], float]


@dataclass(frozen=True)
class SetScores:
    """One run's scores on one set; `teacher` where the teacher scored it too."""

    labels: Array  # 1 harmful, 0 safe, NaN unknown
    scores: Array
    teacher: Array | None = None


def threshold_at_fpr(safe_scores: Sequence[float], target_fpr: float) -> float:
    """The lowest threshold that flags at most `target_fpr` of these safe rows."""
    ordered = np.sort(np.asarray(safe_scores, dtype=np.float64))[::-1]
    allowed = math.floor(target_fpr * len(ordered))
    if allowed >= len(ordered):
        return 0.0
    # flag score >= threshold: just above the (allowed+1)-th highest safe score
    return float(np.nextafter(ordered[allowed], np.inf))


def auprc(labels: Array, scores: Array, _threshold: Threshold) -> float:
    known = ~np.isnan(labels)
    y = labels[known]
    if not 0 < y.sum() < len(y):
        return math.nan
    return float(average_precision_score(y, scores[known]))


def safe_flagged(labels: Array, scores: Array, threshold: Threshold) -> float:
    safe = labels == 0
    return float((scores >= threshold)[safe].mean()) if safe.any() else math.nan


def harmful_caught(labels: Array, scores: Array, threshold: Threshold) -> float:
    harmful = labels == 1
    return float((scores >= threshold)[harmful].mean()) if harmful.any() else math.nan


def f1(labels: Array, scores: Array, threshold: Threshold) -> float:
    if not (labels == 1).any():
        return math.nan
    pred = scores >= threshold
    tp = float((pred & (labels == 1)).sum())
    fp = float((pred & (labels == 0)).sum())
    fn = float((~pred & (labels == 1)).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


METRICS: dict[str, Metric] = {
    "auprc": auprc,
    "f1": f1,
    "safe_flagged": safe_flagged,
    "harmful_caught": harmful_caught,
}


def fidelity(s: SetScores) -> dict[str, float]:
    """Student vs teacher on the same rows: Spearman rho and agreement at 0.5."""
    if s.teacher is None or len(s.scores) < 3:
        return {}
    rho = spearmanr(s.scores, s.teacher).statistic
    agree = float(((s.scores >= 0.5) == (s.teacher >= 0.5)).mean())
    return {"spearman": float(rho), "agreement_at_0.5": agree}


def run_metrics(s: SetScores, threshold: Threshold) -> dict[str, float]:
    out = {name: fn(s.labels, s.scores, threshold) for name, fn in METRICS.items()}
    return {**{k: v for k, v in out.items() if not math.isnan(v)}, **fidelity(s)}


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    arr = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
    if not len(arr):
        return math.nan, math.nan
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


@dataclass(frozen=True)
class Bootstrap:
    diff: float
    low: float
    high: float
    p_not_better: float  # share of resamples with diff <= 0
    # two-sided, from the bootstrap's standard error (normal approximation): a tail count
    # cannot go below 1 / resamples, and Holm multiplies the smallest p by the family size
    # (20 dev comparisons x 1 / 1,000 resamples would leave no room under 5%)
    p: float = 1.0

    @property
    def verdict(self) -> str:
        if self.low > 0:
            return "higher"
        if self.high < 0:
            return "lower"
        return "no difference"


def paired_bootstrap(
    labels: Array,
    arm: Sequence[tuple[Array, Threshold]],
    baseline: Sequence[tuple[Array, Threshold]],
    metric: Metric,
    resamples: int = 1000,
    seed: int = 0,
) -> Bootstrap | None:
    """`arm` and `baseline`: (scores, threshold) per seed, on the same examples; a threshold
    per row is resampled with its row."""
    rng = np.random.default_rng(seed)
    n = len(labels)

    def seed_mean(runs: Sequence[tuple[Array, Threshold]], idx: npt.NDArray[np.int64]) -> float:
        per_seed = [metric(labels[idx], s[idx], _at(t, idx)) for s, t in runs]
        return float(np.nanmean(per_seed))

    full = np.arange(n)
    observed = seed_mean(arm, full) - seed_mean(baseline, full)
    if math.isnan(observed):
        return None
    diffs = np.empty(resamples)
    for b in range(resamples):
        idx = rng.integers(0, n, n)
        diffs[b] = seed_mean(arm, idx) - seed_mean(baseline, idx)
    diffs = diffs[~np.isnan(diffs)]
    low, high = np.percentile(diffs, [2.5, 97.5])
    se = float(diffs.std(ddof=1)) if len(diffs) > 1 else 0.0
    # se 0: every resample gave the same difference
    p = math.erfc(abs(observed) / se / math.sqrt(2)) if se > 0 else float(observed == 0)
    return Bootstrap(observed, float(low), float(high), float((diffs <= 0).mean()), p)


def _at(threshold: Threshold, idx: npt.NDArray[np.int64]) -> Threshold:
    return threshold[idx] if isinstance(threshold, np.ndarray) else threshold


def holm(p_values: dict[str, float]) -> dict[str, float]:
    """Holm-adjusted p-values of a family of comparisons (family-wise error control)."""
    order = sorted(p_values, key=lambda k: p_values[k])
    m = len(order)
    out: dict[str, float] = {}
    running = 0.0
    for i, key in enumerate(order):
        running = max(running, min(1.0, (m - i) * p_values[key]))
        out[key] = running
    return out
