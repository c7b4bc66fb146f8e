"""Which rows each epoch sees, in which batches.

Class-balanced sampling (harmful rows drawn with a configured share, with replacement), source
weights on top (the alarming-words benign prompts are up-weighted), then length grouping: rows
are sorted by length inside large random buckets and cut into batches, and the batches are
shuffled, so padding stays small without ordering the epoch by length.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence


def sampling_weights(
    labels: Sequence[int],
    sources: Sequence[str],
    harmful_share: float | None,
    source_weights: Mapping[str, float],
) -> list[float]:
    """Weight per row: the classes get `harmful_share` / 1 - share of the mass (None = natural)."""

    def source_weight(source: str) -> float:
        return next((w for key, w in source_weights.items() if key in source), 1.0)

    raw = [source_weight(s) for s in sources]
    if harmful_share is None:
        return raw
    mass = {c: sum(w for w, lab in zip(raw, labels, strict=True) if lab == c) for c in (0, 1)}
    share = {1: harmful_share, 0: 1.0 - harmful_share}
    return [
        w * share[lab] / mass[lab] if mass.get(lab) else 0.0
        for w, lab in zip(raw, labels, strict=True)
    ]


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
