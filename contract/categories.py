"""The category contract: Llama Guard 3's hazards S1-S14, scored by a multi-label head, and the
mapping from them to OpenAI's 13 moderation categories.

The model's second ONNX output (`Manifest.category_output`, shape (batch, len(categories))) holds
one logit per hazard, in the manifest's `categories` order; its sigmoid is the hazard's score.
An OpenAI key's score is the highest score of the hazards that feed it (`OPENAI_CATEGORY_MAP`);
a key no hazard feeds scores 0 and is never flagged. An artifact whose manifest lists no
categories has no second output and serves the binary verdict alone.

Why the mapping is many-to-one and coarse: Llama Guard 3 does not split self-harm by intent or
instructions, nor violence by graphic detail, and has no harassment hazard outside hate (S10)
and threats of violence (S1). Those OpenAI keys take the nearest hazard's score; the card
reports each key's measured AUPRC so a user can see where the approximation costs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

LLAMA_GUARD_CATEGORIES: dict[str, str] = {
    "S1": "Violent Crimes",
    "S2": "Non-Violent Crimes",
    "S3": "Sex-Related Crimes",
    "S4": "Child Sexual Exploitation",
    "S5": "Defamation",
    "S6": "Specialized Advice",
    "S7": "Privacy",
    "S8": "Intellectual Property",
    "S9": "Indiscriminate Weapons",
    "S10": "Hate",
    "S11": "Suicide & Self-Harm",
    "S12": "Sexual Content",
    "S13": "Elections",
    "S14": "Code Interpreter Abuse",
}
CATEGORY_CODES: tuple[str, ...] = tuple(LLAMA_GUARD_CATEGORIES)
CATEGORY_OUTPUT = "category_logits"

OPENAI_CATEGORIES: tuple[str, ...] = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)

# OpenAI key -> the hazards whose highest score it takes.
OPENAI_CATEGORY_MAP: dict[str, tuple[str, ...]] = {
    "harassment": ("S10",),
    "harassment/threatening": ("S1", "S10"),
    "hate": ("S10",),
    "hate/threatening": ("S10",),
    "illicit": ("S2", "S8", "S14"),
    "illicit/violent": ("S1", "S9"),
    "self-harm": ("S11",),
    "self-harm/intent": ("S11",),
    "self-harm/instructions": ("S11",),
    "sexual": ("S12", "S3"),
    "sexual/minors": ("S4",),
    "violence": ("S1", "S9"),
    "violence/graphic": ("S1",),
}


def category_probabilities(logits: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Sigmoid of (batch, n_categories) logits: one independent score per hazard."""
    arr = np.asarray(logits, dtype=np.float32)
    if arr.ndim != 2:
        raise ValueError(f"expected category logits of shape (batch, n), got {arr.shape}")
    return (1.0 / (1.0 + np.exp(-np.clip(arr, -60.0, 60.0)))).astype(np.float32)


def openai_scores(
    scores: Mapping[str, float], category_map: Mapping[str, Sequence[str]] | None = None
) -> dict[str, float]:
    """Every OpenAI key's score from hazard scores (code -> score): the highest hazard it maps
    (0 where no scored hazard feeds it)."""
    mapping = category_map or OPENAI_CATEGORY_MAP
    return {
        key: max((scores[c] for c in mapping.get(key, ()) if c in scores), default=0.0)
        for key in OPENAI_CATEGORIES
    }


def openai_flags(
    flags: Mapping[str, bool], category_map: Mapping[str, Sequence[str]] | None = None
) -> dict[str, bool]:
    """Every OpenAI key's flag from hazard flags (code -> flag, each hazard at its own
    threshold): one of the hazards it maps is flagged (false where none feeds it)."""
    mapping = category_map or OPENAI_CATEGORY_MAP
    return {
        key: any(flags.get(c, False) for c in mapping.get(key, ())) for key in OPENAI_CATEGORIES
    }
