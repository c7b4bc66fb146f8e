"""Latency per prompt (batch of one) and throughput, measured on this machine."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from contract import Pair


def measure_latency(
    score_batch: Callable[[list[Pair]], Any], pairs: Sequence[Pair], warmup: int = 5
) -> dict[str, float]:
    """Score each pair alone; report p50/p95/mean milliseconds and pairs per second."""
    for pair in pairs[:warmup]:
        score_batch([pair])
    times = []
    for pair in pairs:
        start = time.perf_counter()
        score_batch([pair])
        times.append(time.perf_counter() - start)
    ms = np.array(times) * 1000
    return {
        "pairs": float(len(pairs)),
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "mean_ms": float(ms.mean()),
        "pairs_per_s_batch1": float(len(pairs) / max(sum(times), 1e-9)),
    }
