"""Which rows each epoch sees, in which batches.

Rows with a human label are class-balanced (harmful rows drawn with a configured share, with
replacement), with source weights on top (the alarming-words benign prompts are up-weighted).
Rows without one (learnt from the teacher alone) are outside the balancer: they get a fixed
share of the draws, split over their sources in proportion to the square root of each source's
size, so that neither a large generated set nor the teacher's opinion of it decides how often a
kind of text is seen. Then length grouping: rows
are sorted by length inside large random buckets and cut into batches, and the batches are
shuffled, so padding stays small without ordering the epoch by length.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence


def sampling_weights(
    labels: Sequence[int | None],
    sources: Sequence[str],
    harmful_share: float | None,
    source_weights: Mapping[str, float],
    unlabelled_share: float | None = None,
) -> list[float]:
    """Weight per row, summing to 1.

    Labelled rows share 1 - u of the mass, u being `unlabelled_share` (None: the unlabelled
    rows' natural share of the rows); within it the classes get `harmful_share` / 1 - share
    (None = natural). Unlabelled rows share u, split over their sources by sqrt(size).
    """

    def source_weight(source: str) -> float:
        return next((w for key, w in source_weights.items() if key in source), 1.0)

    raw = [source_weight(s) for s in sources]
    unlabelled = [i for i, lab in enumerate(labels) if lab is None]
    u = len(unlabelled) / len(labels) if unlabelled_share is None else unlabelled_share
    if not unlabelled:
        u = 0.0
    weights = [0.0] * len(labels)
    labelled = [i for i, lab in enumerate(labels) if lab is not None]
    if harmful_share is None:
        total = sum(raw[i] for i in labelled)
        for i in labelled:
            weights[i] = (1 - u) * raw[i] / total
    else:
        share = {1: harmful_share, 0: 1.0 - harmful_share}
        for cls in (0, 1):
            rows = [i for i in labelled if labels[i] == cls]
            mass = sum(raw[i] for i in rows)
            for i in rows:
                weights[i] = (1 - u) * share[cls] * raw[i] / mass
    by_source: dict[str, list[int]] = {}
    for i in unlabelled:
        by_source.setdefault(sources[i], []).append(i)
    roots = {s: math.sqrt(len(rows)) for s, rows in by_source.items()}
    for s, rows in by_source.items():
        mass = sum(raw[i] for i in rows)
        for i in rows:
            weights[i] = u * roots[s] / sum(roots.values()) * raw[i] / mass
    return weights


def epoch_batches(
    lengths: Sequence[int],
    weights: Sequence[float],
    samples: int,
    batch_size: int,
    seed: int,
    bucket_batches: int = 50,
) -> list[list[int]]:
    """Deterministic for (seed): `samples` weighted draws, length-grouped into shuffled batches."""
    rng = random.Random(seed)
    drawn = rng.choices(range(len(lengths)), weights=weights, k=samples)
    bucket = batch_size * bucket_batches
    batches: list[list[int]] = []
    for start in range(0, len(drawn), bucket):
        chunk = sorted(drawn[start : start + bucket], key=lambda i: lengths[i])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches
