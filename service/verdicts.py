"""Verdicts from scores, shared by every scoring endpoint, and shadow mode.

In shadow mode (`MODERATION_SHADOW_MODE=true`, for rolling the guard out) every text is still
scored, logged and counted in `moderation_verdicts_total{mode="shadow"}`, but no reply blocks:
`harmful` / `flagged` are false and LiteLLM gets `NONE`; the real score stays in the reply
where the API has one (`score`, `category_scores`) and in the request's log line.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.logs import note_scores
from service.metrics import Metrics
from service.scoring import ModerationResult


class Verdicts:
    def __init__(
        self, model: str, metrics: Metrics | None, *, shadow: bool, log_texts: bool
    ) -> None:
        self.model = model
        self.shadow = shadow
        self.log_texts = log_texts
        mode = "shadow" if shadow else "enforce"
        self._harmful = metrics.verdicts.labels(verdict="harmful", mode=mode) if metrics else None
        self._ok = metrics.verdicts.labels(verdict="ok", mode=mode) if metrics else None

    def judge(
        self, results: Sequence[ModerationResult], threshold: float, texts: Sequence[str] = ()
    ) -> list[bool]:
        """Whether each result blocks: score >= threshold, and never in shadow mode."""
        flags = [r.score >= threshold for r in results]
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
        )
        return [False] * len(flags) if self.shadow else flags
