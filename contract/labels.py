"""The label convention: index 1 is harmful; the score is the softmax probability of index 1."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

LABELS: tuple[str, str] = ("safe", "harmful")
HARMFUL_INDEX = 1


def harmful_probability(logits: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Softmax over the last axis of (batch, 2) logits, returned as P(harmful) per row."""
    arr = np.asarray(logits, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[-1] != len(LABELS):
        raise ValueError(f"expected logits of shape (batch, {len(LABELS)}), got {arr.shape}")
    shifted = arr - arr.max(axis=-1, keepdims=True)  # stable softmax
    exp = np.exp(shifted)
    probs = exp / exp.sum(axis=-1, keepdims=True)
    return probs[:, HARMFUL_INDEX].astype(np.float32)
