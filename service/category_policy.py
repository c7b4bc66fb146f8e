"""The category policy: which hazard scores flag, which flags block, and OpenAI's view of them.

A served category (contract/categories.py) is flagged when its score reaches its threshold: the
manifest's (chosen on dev), or `MODERATION_CATEGORY_THRESHOLDS`. By default the binary verdict
alone decides `harmful` / `flagged` / `BLOCKED` and categories are informative;
`MODERATION_BLOCK_CATEGORIES` names categories whose flag also blocks (e.g. `S4`: always block
child sexual exploitation, whatever the binary score). OpenAI's 13 keys take the highest score
of the hazards that feed them (`contract.openai_scores`, through the manifest's `category_map`)
and are flagged when one of those hazards is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from contract import (
    LLAMA_GUARD_CATEGORIES,
    OPENAI_CATEGORIES,
    OPENAI_CATEGORY_MAP,
    Manifest,
    openai_flags,
    openai_scores,
)

ALL = "all"  # MODERATION_BLOCK_CATEGORIES=all: every served category blocks


class CategoryPolicyError(ValueError):
    """The settings name a category the served artifact does not score."""


@dataclass(frozen=True)
class CategoryPolicy:
    """Per served category, in the manifest's order: code, name, threshold, whether it blocks."""

    codes: tuple[str, ...] = ()
    thresholds: tuple[float, ...] = ()
    blocking: tuple[bool, ...] = ()
    # OpenAI key -> positions in `codes` of the hazards that feed it (none: scores 0).
    openai_feeds: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    # The same as hazard codes, for `contract.openai_scores`.
    category_map: dict[str, list[str]] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(LLAMA_GUARD_CATEGORIES[c] for c in self.codes)

    def flags(self, scores: Sequence[float]) -> tuple[bool, ...]:
        """Each category's flag: score >= its threshold."""
        return tuple(s >= t for s, t in zip(scores, self.thresholds, strict=True))

    def blocks(self, flags: Sequence[bool]) -> bool:
        """Whether a flagged category blocks on its own (`MODERATION_BLOCK_CATEGORIES`)."""
        return any(f and b for f, b in zip(flags, self.blocking, strict=True))

    def openai_scores(self, scores: Sequence[float]) -> dict[str, float]:
        """Every OpenAI key's score: the highest of its hazards', 0 where none feeds it (the
        contract's own rule, as the evaluation scores it)."""
        return openai_scores(dict(zip(self.codes, scores, strict=True)), self.category_map)

    def openai_flags(self, flags: Sequence[bool]) -> dict[str, bool]:
        """Every OpenAI key's flag: one of its hazards is flagged (false where none feeds it)."""
        return openai_flags(dict(zip(self.codes, flags, strict=True)), self.category_map)

    def openai_applied(self) -> dict[str, list[str]]:
        """OpenAI's `category_applied_input_types`: text for a key some served hazard feeds."""
        return {key: ["text"] if self.openai_feeds.get(key) else [] for key in OPENAI_CATEGORIES}


def build_policy(
    manifest: Manifest,
    *,
    serve: bool = True,
    thresholds: Mapping[str, float] | None = None,
    block: Sequence[str] = (),
) -> CategoryPolicy:
    """The policy for this artifact and these settings; `CategoryPolicyError` names a category
    that the settings use but the served model does not score."""
    codes = tuple(manifest.categories) if serve else ()
    overrides = dict(thresholds or {})
    blocking = set(codes) if ALL in block else set(block)
    named = sorted(set(overrides) | blocking, key=_code_order)
    unserved = [c for c in named if c not in codes]
    if unserved:
        why = (
            "the artifact has no category head"
            if not manifest.categories
            else "categories are switched off (MODERATION_CATEGORIES=false)"
            if not serve
            else f"the artifact scores only {', '.join(codes)}"
        )
        raise CategoryPolicyError(f"the category settings name {', '.join(unserved)}, but {why}")
    # The manifest's map, else the contract's; a key keeps only the hazards this model scores.
    mapping = manifest.category_map or {k: list(v) for k, v in OPENAI_CATEGORY_MAP.items()}
    position = {code: n for n, code in enumerate(codes)}
    feeds = {
        key: tuple(position[c] for c in mapping.get(key, ()) if c in position)
        for key in OPENAI_CATEGORIES
    }
    return CategoryPolicy(
        codes=codes,
        thresholds=tuple(overrides.get(c, manifest.category_thresholds[c]) for c in codes),
        blocking=tuple(c in blocking for c in codes),
        openai_feeds={key: found for key, found in feeds.items() if found},
        category_map={key: [codes[i] for i in found] for key, found in feeds.items() if found},
    )


def _code_order(code: str) -> tuple[int, str]:
    order = list(LLAMA_GUARD_CATEGORIES)
    return (order.index(code), code) if code in order else (len(order), code)
