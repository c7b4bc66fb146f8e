"""Admission control: what a request will cost, decided before it is tokenised or queued.

Decided after tokenising, a refusal would cost as much as the work; a batch of long texts could
hold the engines and then fail its deadline anyway; and with deadlines shorter than the queue
wait almost nothing would succeed, because every queued request would wait until it was too
late. So each uncached request is checked here, in order:

1. its cost from its words alone (a lower bound on the model windows it needs): over
   `max_request_windows`, or more than its deadline on an idle server, it is refused with 413
   naming the limit; retrying cannot help;
2. the queue's room, from the same estimate, counting the requests admitted and still being
   tokenised (without them, a burst would pass here all at once and be refused by the batcher
   after tokenising): a 429 costs a few comparisons;
3. the estimated wait: the tokens that fair queueing serves before the request ends (of each
   waiting request, up to as many as the request's own; a prompt is not refused for the backlog
   of long texts it goes before) x measured seconds per token / workers, plus what recent
   requests took beyond that estimate on their way to their scores (the tokeniser, the event
   loop: on 2 cores shared with clients, these can outweigh the model). Past half the time it
   has left, the request is refused now (429, `Retry-After` = that wait) instead of queueing
   work that would expire there; accepted requests then mostly finish, so goodput stays near
   capacity;
4. after tokenising, the exact window count against `max_request_windows`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from contract import Pair
from service.batcher import QueueFullError
from service.errors import InvalidInputError
from service.metrics import Metrics, RejectReason

# The time beyond the model estimate, from recent requests: older than this it is forgotten
# (so that shedding cannot feed on itself once nothing is admitted to refresh it), and each
# request moves it by this share.
_OVERHEAD_FRESH_S = 1.0
_OVERHEAD_WEIGHT = 0.1
# A request is admitted while its estimated wait is under this share of the time it has left:
# the estimate is rough, and one admitted too late holds a queue slot and then fails anyway
# (`make reliability`'s deadline case compares goodput against saturation).
_SHED_SHARE = 0.5

# Characters per token in typical English, to size the expected queue load. For refusals a
# bound is needed instead: every whitespace-separated word is at least one token (WordPiece
# and BPE alike), while characters per token have none (WordPiece makes one [UNK] of a
# 100-character word).
_TYPICAL_CHARS_PER_TOKEN = 4


class QueueView(Protocol):
    """What admission reads from the batcher."""

    @property
    def depth(self) -> int: ...

    @property
    def workers(self) -> int: ...

    @property
    def seconds_per_token(self) -> float | None: ...

    def estimated_wait(self, tokens: int, *, ahead: int = 0) -> float: ...


@dataclass(frozen=True, slots=True)
class Ticket:
    """An admitted request: when, and the wait the model estimate predicted."""

    admitted: float
    predicted: float
    windows: int  # expected: reserved in the queue until `release`
    tokens: int


class ShedError(QueueFullError):
    """Refused because the estimated wait would outlast the request's deadline."""


class Admission:
    def __init__(
        self,
        queue: QueueView,
        *,
        max_length: int,
        max_windows_per_text: int,
        max_request_windows: int,
        max_queue: int,
        metrics: Metrics | None = None,
    ) -> None:
        self.queue = queue
        self._metrics = metrics
        self.max_length = max_length
        # What the window planner gives a text: a window of about `max_length` tokens less
        # the special tokens, and a stride of 3/4 of it.
        self._window = max(8, max_length - 4)
        self._stride = max(1, (self._window * 3) // 4)
        self._saturated = self._window + (max_windows_per_text - 1) * self._stride
        self.max_windows_per_text = max_windows_per_text
        self.max_request_windows = max_request_windows
        self.max_queue = max_queue
        self._overhead_s = 0.0
        self._overhead_at = float("-inf")
        # Admitted but not yet queued (being tokenised): counted as if queued.
        self._reserved_windows = 0
        self._reserved_tokens = 0
        self._reserved_requests = 0

    def windows(self, tokens: int) -> int:
        """Windows the planner makes of a pair of `tokens` tokens."""
        if tokens <= self._window:
            return 1
        return min(self.max_windows_per_text, math.ceil((tokens - self._window) / self._stride) + 1)

    def _chars(self, pair: Pair) -> int:
        return len(pair[0]) + len(pair[1] or "")

    def least_windows(self, pair: Pair) -> int:
        """Windows the pair needs at least: its words are at least that many tokens."""
        return self.windows(self.least_tokens(pair))

    def least_tokens(self, pair: Pair) -> int:
        """A lower bound on the pair's tokens, counted no further than windows grow."""
        prompt, response = pair
        if len(prompt) + len(response or "") <= self._window:
            return 1  # fewer characters than a window holds tokens: one window, no count
        # Past `_saturated` tokens a text gets `max_windows_per_text` windows whatever its
        # length, so splitting stops there (a 32,000-character text: ~0.1 ms, not ~1 ms).
        cap = self._saturated
        words = len(prompt.split(maxsplit=cap))
        if response and words <= cap:
            words += len(response.split(maxsplit=cap))
        return words

    def check_budget(self, pairs: Sequence[Pair]) -> list[int]:
        """Refuse a request whose words alone need more than `max_request_windows` windows
        (413), before anything else is spent on it; the lower bounds on tokens, per pair."""
        least_tokens: list[int] = []
        windows = 0
        for pair in pairs:
            tokens = self.least_tokens(pair)
            windows += self.windows(tokens)
            if windows > self.max_request_windows:  # no need to count the rest
                self.check_windows(windows, estimated=True)
            least_tokens.append(tokens)
        return least_tokens

    def before_tokenising(
        self, pairs: Sequence[Pair], deadline: float, least_tokens: Sequence[int] | None = None
    ) -> Ticket:
        """Refuse `pairs` now if they cannot or should not be scored (steps 1 to 3);
        `least_tokens` is what `check_budget` returned for them, if it ran."""
        if least_tokens is None:
            least_tokens = self.check_budget(pairs)
        chars = [self._chars(p) for p in pairs]
        expected_windows = sum(self.windows(c // _TYPICAL_CHARS_PER_TOKEN) for c in chars)
        # Padded tokens: a window is nearly full; short texts are about their length.
        expected_tokens = sum(
            min(self.max_length, max(1, c // _TYPICAL_CHARS_PER_TOKEN)) for c in chars
        ) + self.max_length * (expected_windows - len(pairs))
        queue = self.queue
        cost = queue.seconds_per_token
        now = time.monotonic()
        if cost is not None:
            # Alone, the windows run side by side on every worker; a window costs about its
            # tokens, and the tokens of a text in windows are in full windows.
            padded = sum(
                t if self.windows(t) == 1 else self.windows(t) * self._window for t in least_tokens
            )
            alone = padded * cost / queue.workers
            if alone > deadline - now:
                self._rejected("too_costly")
                raise InvalidInputError(
                    "body",
                    f"needs about {alone:.1f} s of model time on an idle server, more than its "
                    f"deadline of {deadline - now:.1f} s (MODERATION_REQUEST_TIMEOUT_MS); "
                    "send it in smaller parts",
                    status=413,
                    code="over_deadline",
                )
        depth = queue.depth + self._reserved_windows
        if depth and depth + expected_windows > self.max_queue:
            self._rejected("queue_full")
            raise QueueFullError(f"the queue holds {depth} sequences (limit {self.max_queue})")
        # Each request being tokenised goes before this one by at most this one's tokens.
        ahead = min(self._reserved_tokens, self._reserved_requests * expected_tokens)
        predicted = queue.estimated_wait(expected_tokens, ahead=ahead)
        wait = predicted
        if now - self._overhead_at < _OVERHEAD_FRESH_S:
            wait += self._overhead_s
        if wait > _SHED_SHARE * (deadline - now):
            self._rejected("estimated_wait")
            error = ShedError(
                f"the estimated wait ({wait:.2f} s) is past the request's deadline "
                f"({deadline - now:.2f} s)"
            )
            error.retry_after = wait
            raise error
        self._reserved_windows += expected_windows
        self._reserved_tokens += expected_tokens
        self._reserved_requests += 1
        return Ticket(now, predicted, expected_windows, expected_tokens)

    def release(self, ticket: Ticket) -> None:
        """The request's sequences are queued (the batcher counts them now) or never will be."""
        self._reserved_windows -= ticket.windows
        self._reserved_tokens -= ticket.tokens
        self._reserved_requests -= 1

    def observe(self, ticket: Ticket) -> None:
        """An admitted request got its scores, or ran out of time waiting for them."""
        now = time.monotonic()
        beyond = max(0.0, now - ticket.admitted - ticket.predicted)
        if now - self._overhead_at < _OVERHEAD_FRESH_S:
            self._overhead_s += _OVERHEAD_WEIGHT * (beyond - self._overhead_s)
        else:  # forgotten: start again from this request, weighted like any other
            self._overhead_s = _OVERHEAD_WEIGHT * beyond
        self._overhead_at = now

    def check_windows(self, windows: int, *, estimated: bool = False) -> None:
        """Refuse a request of more than `max_request_windows` windows (413)."""
        if windows > self.max_request_windows:
            self._rejected("too_costly")
            needs = "at least " if estimated else ""
            raise InvalidInputError(
                "body",
                f"needs {needs}{windows} model windows; the limit is {self.max_request_windows} "
                "per request (MODERATION_MAX_REQUEST_WINDOWS); send it in smaller parts",
                status=413,
                code="too_many_windows",
            )

    def _rejected(self, reason: RejectReason) -> None:
        if self._metrics is not None:
            self._metrics.rejected(reason)
