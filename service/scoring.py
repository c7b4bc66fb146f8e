"""The scoring core every endpoint uses: cache, tokenise (off the loop), batch, fill the cache.

`Moderator.moderate(pairs)` takes (prompt, response) pairs and returns one `ModerationResult`
per pair, in order. How a pair becomes model input is the encoder's business (`service.encoding`);
a pair encoded as several sequences (windows over a long text) takes their maximum score, since
one harmful window makes the pair harmful; so does each category score (one window about a hazard
makes the pair about it). The encoder's `scheme` is part of the cache key.

The cache holds scores, never verdicts: each result is judged when it is served, at the
threshold for its kind of input (`contract.Thresholds`: a pair with a response may have its
own), so a changed threshold never meets a stale verdict.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from contract import EncodedPair, Pair, Thresholds
from service import tracing
from service.batcher import DeadlineExceededError, DynamicBatcher
from service.cache import CachedScore, ScoreCache, cache_key
from service.encoding import AsyncPairEncoder
from service.engine import ScoreRow
from service.metrics import Metrics

if TYPE_CHECKING:
    from service.admission import Admission


@dataclass(frozen=True, slots=True)
class ModerationResult:
    score: float  # P(harmful)
    harmful: bool  # score >= threshold
    threshold: float  # the served threshold for this input: the prompt's, or a response's
    truncated: bool  # some text was not seen by the model
    cached: bool
    windows: int = 1  # sequences scored for the pair (several for a long input in windows)
    # Per served category (the manifest's order): its probability; () for a binary-only model.
    categories: tuple[float, ...] = ()


def pair_scores(rows: Sequence[ScoreRow]) -> tuple[float, tuple[float, ...]]:
    """A pair's P(harmful) and category scores from its sequences' rows: each the maximum."""
    if len(rows) == 1:
        row = rows[0]
        return row[0], tuple(row[1:])
    return max(r[0] for r in rows), tuple(map(max, *(r[1:] for r in rows)))


class Moderator:
    """Scores pairs through the cache and the shared batcher."""

    def __init__(
        self,
        *,
        model_id: str,
        thresholds: Thresholds,
        encoder: AsyncPairEncoder,
        batcher: DynamicBatcher[EncodedPair, ScoreRow],
        cache: ScoreCache,
        timeout_s: float,
        metrics: Metrics | None = None,
        admission: Admission | None = None,
        categories: int = 0,
    ) -> None:
        """`categories`: how many category scores each row carries after P(harmful)."""
        self.model_id = model_id
        self.categories = categories
        self.thresholds = thresholds
        self.encoder = encoder
        self.batcher = batcher
        self.cache = cache
        self.timeout_s = timeout_s
        self._metrics = metrics
        self.admission = admission

    def result(
        self,
        score: float,
        *,
        response: str | None,
        truncated: bool,
        cached: bool,
        windows: int = 1,
        categories: tuple[float, ...] = (),
    ) -> ModerationResult:
        threshold = self.thresholds.for_pair(response)
        return ModerationResult(
            score=score,
            harmful=score >= threshold,
            threshold=threshold,
            truncated=truncated,
            cached=cached,
            windows=windows,
            categories=categories,
        )

    def _usable(self, hit: CachedScore | None) -> bool:
        # An entry written while categories were not served has none: a miss, then refilled.
        return hit is not None and len(hit.categories) == self.categories

    async def moderate(
        self, pairs: Sequence[Pair], *, deadline: float | None = None
    ) -> list[ModerationResult]:
        """One result per pair, in order. `deadline` is a `time.monotonic()` instant.

        Raises the batcher's errors: `QueueFullError`, `DeadlineExceededError`,
        `BatcherClosedError`, `InferenceError`.
        """
        if deadline is None:
            deadline = time.monotonic() + self.timeout_s
        # Over the window budget is refused before even its cache keys are hashed.
        least_tokens = self.admission.check_budget(pairs) if self.admission is not None else []
        scheme = self.encoder.scheme
        keys = [cache_key(self.model_id, scheme, prompt, response) for prompt, response in pairs]
        with tracing.span("moderation.cache_get", pairs=len(keys)):
            cached = await self.cache.get_many(keys)
        results: list[ModerationResult | None] = [
            self.result(
                hit.score,
                response=response,
                truncated=hit.truncated,
                cached=True,
                windows=hit.windows,
                categories=hit.categories,
            )
            if hit is not None and self._usable(hit)
            else None
            for hit, (_, response) in zip(cached, pairs, strict=True)
        ]
        todo = [n for n, r in enumerate(results) if r is None]
        ticket = None
        if todo and self.admission is not None:
            # Before any tokenising or queueing: a refusal here costs microseconds.
            ticket = self.admission.before_tokenising(
                [pairs[n] for n in todo], deadline, [least_tokens[n] for n in todo]
            )
        if todo:
            try:
                with tracing.span("moderation.tokenize", pairs=len(todo)):
                    items = await self.encoder.encode([pairs[n] for n in todo])
            finally:
                if self.admission is not None and ticket is not None:
                    # Queued next, with no await in between, or never (an error, a client gone).
                    self.admission.release(ticket)
            flat = [seq for item in items for seq in item.sequences]
            if self.admission is not None:
                self.admission.check_windows(len(flat))
            if tracing.enabled():
                submitted = time.time_ns()
                scores = await self.batcher.submit(flat, deadline=deadline)
                tracing.batch_spans(flat, submitted, time.time_ns())
            else:
                try:
                    scores = await self.batcher.submit(flat, deadline=deadline)
                except DeadlineExceededError:
                    if self.admission is not None and ticket is not None:
                        self.admission.observe(ticket)  # it took at least this long
                    raise
            if self.admission is not None and ticket is not None and len(flat) == len(todo):
                # Requests without windows time the path; long inputs would skew it.
                self.admission.observe(ticket)
            fills: list[tuple[str, CachedScore]] = []
            start = 0
            for n, item in zip(todo, items, strict=True):
                end = start + len(item.sequences)
                score, categories = pair_scores(scores[start:end])
                start = end
                windows = len(item.sequences)
                results[n] = self.result(
                    score,
                    response=pairs[n][1],
                    truncated=item.truncated,
                    cached=False,
                    windows=windows,
                    categories=categories,
                )
                fills.append((keys[n], CachedScore(score, item.truncated, windows, categories)))
                if self._metrics is not None:
                    self._metrics.windows.observe(windows)
            with tracing.span("moderation.cache_set", pairs=len(fills)):
                await self.cache.set_many(fills)
        return [r for r in results if r is not None]
