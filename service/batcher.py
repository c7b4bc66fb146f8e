"""Length-aware dynamic batching, independent of HTTP and of the model backend.

Callers `await submit(sequences)` from the event loop. Each distinct sequence becomes one queue
item; worker threads (one per model session) each repeatedly pick a batch from the waiting items
and call their `forward` (the model) on it, then hand the scores back to the event loop in one
callback per batch. A score is whatever `forward` gives per sequence (`R`: a float, or a row of
floats for a model with several outputs); the batcher only passes it on.

On a CPU the forward pass costs roughly in proportion to padded tokens, so padding is pure
waste: a batch is built around one anchor item and filled with items of similar length, under a
maximum size, a token budget (size x longest member) and a bound on the share of pad tokens.
`fifo` instead takes items in arrival order and pads them to the longest (the baseline the
benchmark compares against).

Who goes next is decided across requests, not sequences, by tokens (`service.fair_share`): the
anchor is the item with the smallest fair-queueing start tag (then finish tag), so each waiting
request gets about the same tokens of engine time, a short request goes before the next window
of a long text that arrived earlier, and nothing starves. With `heavy_tokens` set, a request
of that many tokens (the windows of a long text, a large batch) is heavy, and so is a batch
with any of its items; while light requests keep arriving (within `light_hold_s`), heavy
batches hold all workers but one (the last free worker waits for light work rather than
starting a heavy batch that a short request would then wait behind), and at most `heavy_share`
of the others' time.
One long-ish prompt is not heavy: uniform traffic is never held back.

The batcher also keeps what admission control needs before any work is queued: the tokens each
request has waiting and a running estimate of the seconds a padded token costs
(`seconds_per_token`), hence `estimated_wait()`, the wait under fair queueing: a prompt is not
refused for the backlog of a long text it would go before.

Overload is answered at once: a full queue raises `QueueFullError`; a request still waiting at
its deadline gets `DeadlineExceededError` and its items leave the queue unscored. Identical
sequences waiting or running at the same time (same `key`) are scored once (single flight).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol

from typing_extensions import TypeVar

from service.fair_share import FairClock, WorkerReserve


class Sized(Protocol):
    def __len__(self) -> int: ...


S = TypeVar("S", bound=Sized)
R = TypeVar("R", default=float)  # one sequence's score


class Scores(Protocol):
    """What `forward` returns: one score per input (a list, or a numpy array, whose rows or
    values are handed out as Python lists or floats)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int, /) -> Any: ...


Strategy = Literal["length_aware", "fifo"]


class BatcherError(Exception):
    """Base of the errors `submit` raises; `retry_after` is the seconds a client should wait."""

    retry_after: float = 1.0


class QueueFullError(BatcherError):
    """The queue holds `max_queue` sequences already."""


class DeadlineExceededError(BatcherError):
    """The request waited past its deadline; its work was dropped."""


class BatcherClosedError(BatcherError):
    """The batcher is shutting down."""


class InferenceError(RuntimeError):
    """`forward` raised; the cause is chained."""


@dataclass(frozen=True)
class BatcherConfig:
    max_batch_size: int = 32
    max_batch_tokens: int = 4096
    max_padding_ratio: float = 0.2
    max_wait_s: float = 0.0
    max_queue: int = 2048
    strategy: Strategy = "length_aware"
    # A request of at least this many tokens is heavy, and so is a batch with any of its items
    # (0: none is).
    heavy_tokens: int = 0
    # While a request of fewer than `heavy_tokens` came within this many seconds, heavy batches
    # may not take the last free worker (0: they may; see `service.fair_share.WorkerReserve`)
    # and take at most this share of each other worker's time.
    light_hold_s: float = 0.0
    heavy_share: float = 1.0


class BatchObserver(Protocol):
    """Receives the batcher's measurements (called from worker threads and the event loop)."""

    def batch_done(
        self,
        *,
        size: int,
        padded_tokens: int,
        real_tokens: int,
        queue_waits: Sequence[float],
        inference_seconds: float,
    ) -> None: ...

    def rejected(self, reason: Literal["queue_full", "deadline"]) -> None: ...

    def queue_depth(self, depth: int) -> None: ...


class _Request:
    """One `submit` call: where its items' scores go."""

    __slots__ = (
        "deadline", "done", "future", "heavy", "pending", "remaining", "results", "tag", "timer"
    )  # fmt: skip

    def __init__(
        self, future: asyncio.Future[list[Any]], size: int, deadline: float, tag: int
    ) -> None:
        self.future = future
        self.results: list[Any] = [None] * size
        self.remaining = size
        self.deadline = deadline
        self.done = False
        self.timer: asyncio.TimerHandle | None = None
        # Fair queueing's tag: the virtual time at which its tokens scored so far end.
        self.tag = tag
        self.pending = 0  # tokens of the items it queued that wait for a batch
        self.heavy = False  # held back from the workers while light requests arrive

    def finish(self, error: BaseException | None = None) -> None:
        if self.done:
            return
        self.done = True
        if self.timer is not None:
            self.timer.cancel()
        if self.future.done():
            return
        if error is None:
            self.future.set_result(self.results)
        else:
            self.future.set_exception(error)


class _Item(Generic[S]):
    """One distinct queued sequence and every (request, position) waiting for its score."""

    __slots__ = ("enqueued_at", "key", "length", "owner", "sequence", "waiters")

    def __init__(self, sequence: S, key: Hashable | None, now: float) -> None:
        self.sequence = sequence
        self.length = max(1, len(sequence))
        self.key = key
        self.enqueued_at = now
        self.waiters: list[tuple[_Request, int]] = []
        self.owner: _Request | None = None  # the request that queued it (fairness)

    def alive(self, now: float) -> bool:
        return any(not req.done and req.deadline > now for req, _ in self.waiters)


class DynamicBatcher(Generic[S, R]):
    """Queue + batch selection + worker thread(s) around a `forward(list[S]) -> scores` call."""

    def __init__(
        self,
        forwards: Sequence[Callable[[list[S]], Scores]],
        config: BatcherConfig,
        *,
        key: Callable[[S], Hashable] | None = None,
        observer: BatchObserver | None = None,
        default_timeout_s: float = 5.0,
    ) -> None:
        """One worker thread per `forwards` entry (e.g. one per model session); each takes the
        next batch as soon as it is free, so batches run side by side."""
        if not forwards:
            raise ValueError("the batcher needs at least one forward callable")
        self._forwards = list(forwards)
        self.config = config
        self._key = key
        self._observer = observer
        self._default_timeout_s = default_timeout_s
        self._cond = threading.Condition(threading.Lock())
        self._pending: list[_Item[S]] = []
        self._pending_tokens = 0  # sum of the pending items' lengths
        # The requests with items waiting. Workers replace the list and only the event loop
        # appends, so the event loop reads it without the lock (`estimated_wait`).
        self._backlog: list[_Request] = []
        self._inflight: dict[Hashable, _Item[S]] = {}
        # Seconds of one worker per padded token, from the batches run so far (None: none yet).
        self._seconds_per_token: float | None = None
        self._threads: list[threading.Thread] = []
        self._heavy_running = 0  # workers running a heavy batch (lock held to change)
        # Fair shares (lock held to use): the virtual clock, the reserved worker.
        self._clock = FairClock()
        self._reserve = WorkerReserve(len(self._forwards), config.light_hold_s, config.heavy_share)
        self._heavy_limit = config.heavy_tokens or sys.maxsize
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker threads; call from the event loop that will `submit`."""
        self._loop = asyncio.get_running_loop()
        for i, forward in enumerate(self._forwards):
            thread = threading.Thread(
                target=self._work, args=(forward,), name=f"batcher-{i}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def close(self, timeout: float = 10.0) -> None:
        """Fail everything still queued, then stop the workers after their current batch.

        Call from the event loop thread (it resolves the waiting requests' futures).
        """
        with self._cond:
            self._closed = True
            dropped, self._pending = self._pending, []
            self._pending_tokens = 0
            self._backlog = []
            self._inflight.clear()
            self._cond.notify_all()
        error = BatcherClosedError("the server is shutting down")
        for item in dropped:
            for req, _ in item.waiters:
                req.finish(error)
        for thread in self._threads:
            thread.join(timeout)

    @property
    def depth(self) -> int:
        """Sequences waiting (not yet picked for a batch)."""
        return len(self._pending)

    @property
    def workers(self) -> int:
        return len(self._forwards)

    @property
    def pending_tokens(self) -> int:
        """Tokens waiting (not yet picked for a batch)."""
        return self._pending_tokens

    @property
    def seconds_per_token(self) -> float | None:
        """One worker's seconds per padded token, averaged over recent batches."""
        return self._seconds_per_token

    def estimated_wait(self, tokens: int, *, ahead: int = 0) -> float:
        """Seconds until a request of `tokens` tokens queued now is scored (0 before any batch
        ran), plus `ahead` tokens counted in full (work about to be queued).

        Under fair queueing each waiting request is served about min(its tokens, `tokens`)
        before the new one ends: a prompt waits for a turn of each long text, not for all of it.
        """
        cost = self._seconds_per_token
        if cost is None:
            return 0.0
        waiting = sum(min(req.pending, tokens) for req in self._backlog)
        return (waiting + ahead + tokens) * cost / len(self._forwards)

    # -- event-loop side ---------------------------------------------------------------------

    async def submit(self, sequences: Sequence[S], *, deadline: float | None = None) -> list[R]:
        """Score `sequences`; return one score per sequence, in order.

        `deadline` is a `time.monotonic()` instant (default: now + the default timeout).
        Raises `QueueFullError`, `DeadlineExceededError`, `BatcherClosedError`, `InferenceError`.
        """
        if not sequences:
            return []
        loop = self._loop
        if loop is None or self._closed:
            raise BatcherClosedError("the batcher is not running")
        now = time.monotonic()
        if deadline is None:
            deadline = now + self._default_timeout_s
        keys = [self._key(s) for s in sequences] if self._key is not None else None
        heavy = sum(len(s) for s in sequences) >= self._heavy_limit
        added = 0
        with self._cond:
            req = _Request(loop.create_future(), len(sequences), deadline, self._clock.arrival())
            req.heavy = heavy
            if not heavy:
                self._reserve.light_arrived(now)
            inflight = self._inflight
            # Only this request's keys are hashed: `set - dict.keys()` would hash every key
            # in flight, on every request.
            new = len(sequences) if keys is None else sum(k not in inflight for k in set(keys))
            # A request larger than the whole queue is still taken when the queue is empty.
            if new and self._pending and len(self._pending) + new > self.config.max_queue:
                full = True
            else:
                full = False
                for i, seq in enumerate(sequences):
                    k = keys[i] if keys is not None else None
                    item = inflight.get(k) if k is not None else None
                    if item is None:
                        item = _Item(seq, k, now)
                        item.owner = req
                        self._pending.append(item)
                        added += item.length
                        if k is not None:
                            inflight[k] = item
                    item.waiters.append((req, i))
                self._pending_tokens += added
                if added:
                    req.pending = added
                    self._backlog.append(req)
                self._cond.notify()
            depth = len(self._pending)
        if full:
            self._reject("queue_full")
            raise QueueFullError(
                f"the queue holds {depth} sequences (limit {self.config.max_queue})"
            )
        if self._observer is not None:
            self._observer.queue_depth(depth)
        req.timer = loop.call_later(max(0.0, deadline - now), self._expire, req)
        try:
            return await req.future
        except asyncio.CancelledError:
            req.finish()  # the caller left: its items leave the queue unless shared
            raise

    def _expire(self, req: _Request) -> None:
        if not req.done:
            self._reject("deadline")
            req.finish(DeadlineExceededError("the request waited past its deadline"))

    def _reject(self, reason: Literal["queue_full", "deadline"]) -> None:
        if self._observer is not None:
            self._observer.rejected(reason)

    def _deliver(
        self, items: list[_Item[S]], scores: Scores | None, error: BaseException | None
    ) -> None:
        with self._cond:
            for item in items:
                if item.key is not None and self._inflight.get(item.key) is item:
                    del self._inflight[item.key]
        for n, item in enumerate(items):
            for req, pos in item.waiters:
                if req.done:
                    continue
                if scores is None:
                    req.finish(error)
                    continue
                req.results[pos] = scores[n]
                req.remaining -= 1
                if req.remaining == 0:
                    req.finish()

    # -- worker side -------------------------------------------------------------------------

    def _work(self, forward: Callable[[list[S]], Scores]) -> None:
        loop = self._loop
        assert loop is not None
        rested_at = float("-inf")  # this worker's next heavy batch: not before (worker reserve)
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                self._wait_to_fill()
                batch, blocked_for = self._take_batch(time.monotonic(), rested_at)
                if not batch and blocked_for > 0:
                    # Only heavy work waits, and this worker is kept for light work: until some
                    # arrives (submit notifies) or none has for `light_hold_s`.
                    self._cond.wait(blocked_for)
                    continue
                depth = len(self._pending)
                heavy = self._is_heavy(batch)
                self._heavy_running += heavy
                if self._pending:
                    # `submit` wakes one worker; what this one left is for the next (a long
                    # text's windows arrive in one call, and were scored on one worker).
                    self._cond.notify()
            if self._observer is not None:
                self._observer.queue_depth(depth)
            if not batch:
                continue
            started = time.monotonic()
            try:
                self._run(loop, forward, batch)
            finally:
                if heavy:
                    now = time.monotonic()
                    with self._cond:
                        self._heavy_running -= 1
                        rested_at = self._reserve.rested_at(now, now - started)

    @staticmethod
    def _is_heavy(batch: list[_Item[S]]) -> bool:
        return any(item.owner is not None and item.owner.heavy for item in batch)

    def _wait_to_fill(self) -> None:
        """With `max_wait_s` > 0, let the oldest item wait up to that long for company."""
        max_wait = self.config.max_wait_s
        if max_wait <= 0:
            return
        limit = self.config.max_batch_size
        while not self._closed and self._pending and len(self._pending) < limit:
            remaining = self._pending[0].enqueued_at + max_wait - time.monotonic()
            if remaining <= 0:
                return
            self._cond.wait(remaining)

    def _take_batch(
        self, now: float, rested_at: float = float("-inf")
    ) -> tuple[list[_Item[S]], float]:
        """Drop dead items, then remove and return the next batch (lock held), or no batch and
        how long the worker reserve keeps this worker (resting until `rested_at`) off the heavy
        items that wait."""
        blocked_for = self._reserve.heavy_blocked_for(now, self._heavy_running, rested_at)
        alive: list[_Item[S]] = []
        candidates: list[int] = []  # indices in `alive` this worker may take
        anchor = -1  # in `candidates`
        first: tuple[int, int] = (sys.maxsize, sys.maxsize)  # the anchor's (start, finish) tags
        for item in self._pending:  # in arrival order: ties go to the oldest
            if item.alive(now):
                owner = item.owner
                if blocked_for <= 0 or owner is None or not owner.heavy:
                    start = owner.tag if owner is not None else self._clock.now
                    tags = (start, FairClock.finish(start, item.length))
                    if tags < first:
                        first, anchor = tags, len(candidates)
                    candidates.append(len(alive))
                alive.append(item)
            else:
                if item.owner is not None:
                    item.owner.pending -= item.length
                if item.key is not None and self._inflight.get(item.key) is item:
                    del self._inflight[item.key]
        self._pending = alive
        self._pending_tokens = sum(item.length for item in alive)
        if not candidates:
            self._backlog = [req for req in self._backlog if req.pending > 0]
            return [], blocked_for if alive else 0.0
        lengths = [alive[n].length for n in candidates]
        if self.config.strategy == "fifo":
            chosen = select_fifo(lengths, self.config)
        else:
            chosen = select_length_aware(lengths, self.config, anchor=anchor)
        picked = {candidates[n] for n in chosen}
        self._pending = [item for n, item in enumerate(alive) if n not in picked]
        batch = [alive[n] for n in sorted(picked)]
        self._pending_tokens -= sum(item.length for item in batch)
        self._clock.served(first[1])
        for item in batch:  # each item is charged to the request that queued it
            if item.owner is not None:
                item.owner.tag += item.length
                item.owner.pending -= item.length
        self._backlog = [req for req in self._backlog if req.pending > 0]
        return batch, 0.0

    def _run(
        self,
        loop: asyncio.AbstractEventLoop,
        forward: Callable[[list[S]], Scores],
        batch: list[_Item[S]],
    ) -> None:
        started = time.monotonic()
        scores: Scores | None = None
        error: BaseException | None = None
        try:
            scores = forward([item.sequence for item in batch])
            if hasattr(scores, "tolist"):  # numpy: Python floats (or rows), off the event loop
                scores = scores.tolist()
            if len(scores) != len(batch):
                raise ValueError(f"forward returned {len(scores)} scores for {len(batch)} inputs")
        except Exception as exc:
            scores = None
            error = InferenceError(f"inference failed: {exc}")
            error.__cause__ = exc
        finished = time.monotonic()
        longest = max(item.length for item in batch)
        if scores is not None:
            cost = (finished - started) / (longest * len(batch))
            previous = self._seconds_per_token
            # A running average that follows drift in a few dozen batches.
            self._seconds_per_token = cost if previous is None else 0.95 * previous + 0.05 * cost
        if self._observer is not None:
            self._observer.batch_done(
                size=len(batch),
                padded_tokens=longest * len(batch),
                real_tokens=sum(item.length for item in batch),
                queue_waits=[started - item.enqueued_at for item in batch],
                inference_seconds=finished - started,
            )
        # RuntimeError: the loop closed during shutdown; nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._deliver, batch, scores, error)


def select_fifo(lengths: Sequence[int], config: BatcherConfig) -> list[int]:
    """Indices of the batch taken in arrival order: size and token budget only."""
    chosen: list[int] = []
    longest = 0
    for n, length in enumerate(lengths):
        top = max(longest, length)
        size = len(chosen) + 1
        if chosen and (size > config.max_batch_size or top * size > config.max_batch_tokens):
            break
        chosen.append(n)
        longest = top
    return chosen


def select_length_aware(
    lengths: Sequence[int], config: BatcherConfig, *, anchor: int = 0
) -> list[int]:
    """Indices of the batch around the `anchor` item, grown with similar lengths.

    Walks outwards from the anchor in length order, each step taking whichever neighbour (the
    next shorter or the next longer) adds less padding, while the batch stays within the size
    limit, the token budget and the padding ratio. A single item always forms a batch.
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    pos = order.index(anchor)
    lo = hi = pos
    longest = lengths[anchor]
    total = lengths[anchor]
    size = 1

    def fits(new_longest: int, new_total: int, new_size: int) -> bool:
        padded = new_longest * new_size
        return (
            new_size <= config.max_batch_size
            and padded <= config.max_batch_tokens
            and padded - new_total <= config.max_padding_ratio * padded
        )

    while size < config.max_batch_size:
        best: tuple[int, int, int] | None = None  # (added padding, side, index)
        if lo > 0:
            length = lengths[order[lo - 1]]
            if fits(longest, total + length, size + 1):
                best = (longest - length, -1, lo - 1)
        if hi < len(order) - 1:
            length = lengths[order[hi + 1]]
            new_longest = max(longest, length)
            if fits(new_longest, total + length, size + 1):
                added = new_longest * (size + 1) - (total + length) - (longest * size - total)
                if best is None or added < best[0]:
                    best = (added, 1, hi + 1)
        if best is None:
            break
        _, side, idx = best
        length = lengths[order[idx]]
        if side < 0:
            lo = idx
        else:
            hi = idx
            longest = max(longest, length)
        total += length
        size += 1
    return [order[i] for i in range(lo, hi + 1)]
