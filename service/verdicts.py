"""Verdicts from scores, shared by every scoring endpoint, and shadow mode.

A result blocks when its score reaches its threshold (the served one for its kind of input, a
prompt alone or a pair with a response: `ModerationResult.threshold`; or a caller's override, as
a LiteLLM guardrail's), or when a category the policy names in
`MODERATION_BLOCK_CATEGORIES` is flagged (service/category_policy.py); each flagged category is
counted in `moderation_category_flags_total{category}`.

In shadow mode (`MODERATION_SHADOW_MODE=true`, for rolling the guard out) every text is still
scored, logged and counted in `moderation_verdicts_total{mode="shadow"}`, but no reply blocks:
`harmful` / `flagged` are false and LiteLLM gets `NONE`; the real score stays in the reply
where the API has one (`score`, `category_scores`, `categories.*.score`) and in the request's
log line; category flags in replies are false too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from service.category_policy import CategoryPolicy
from service.logs import note_scores
from service.metrics import Metrics
from service.scoring import ModerationResult


@dataclass(frozen=True, slots=True)
class Verdict:
    blocked: bool  # the reply's harmful / flagged / BLOCKED
    categories: tuple[bool, ...] = ()  # per served category: flagged (the policy's order)


class Verdicts:
    def __init__(
        self,
        model: str,
        metrics: Metrics | None,
        *,
        shadow: bool,
        log_texts: bool,
        policy: CategoryPolicy | None = None,
    ) -> None:
        self.model = model
        self.shadow = shadow
        self.log_texts = log_texts
        self.policy = policy or CategoryPolicy()
        mode = "shadow" if shadow else "enforce"
        self._harmful = metrics.verdicts.labels(verdict="harmful", mode=mode) if metrics else None
        self._ok = metrics.verdicts.labels(verdict="ok", mode=mode) if metrics else None
        # Created up front, so every served category shows on the dashboard from the start.
        self._category_flags = (
            [metrics.category_flags.labels(category=c, mode=mode) for c in self.policy.codes]
            if metrics
            else []
        )

    def judge(
        self,
        results: Sequence[ModerationResult],
        texts: Sequence[str] = (),
        *,
        threshold: float | None = None,
    ) -> list[Verdict]:
        """Each result's verdict: blocked when score >= its threshold (`threshold` overrides
        every result's) or a blocking category is flagged; never blocked, and no category
        flagged, in shadow mode."""
        policy = self.policy
        categories = [policy.flags(r.categories) for r in results] if policy.codes else []
        flags = [r.harmful if threshold is None else r.score >= threshold for r in results]
        if categories:
            flags = [f or policy.blocks(c) for f, c in zip(flags, categories, strict=True)]
            for per_result in categories:
                for counter, flagged in zip(self._category_flags, per_result, strict=False):
                    if flagged:
                        counter.inc()
        harmful = sum(flags)
        if self._harmful is not None and self._ok is not None:
            if harmful:
                self._harmful.inc(harmful)
            if len(flags) > harmful:
                self._ok.inc(len(flags) - harmful)
        note_scores(
            self.model,
            [r.score for r in results],
            flags,
            cached=sum(r.cached for r in results),
            windows=sum(r.windows for r in results),
            shadow=self.shadow,
            texts=texts if self.log_texts else (),
            categories=[
                code
                for per_result in categories
                for code, flagged in zip(policy.codes, per_result, strict=True)
                if flagged
            ],
        )
        if self.shadow:
            unflagged = tuple(False for _ in policy.codes)
            return [Verdict(False, unflagged) for _ in flags]
        if not categories:
            return [Verdict(f) for f in flags]
        return [Verdict(f, c) for f, c in zip(flags, categories, strict=True)]
