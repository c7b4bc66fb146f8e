"""Tokenisation off the event loop, on one thread, with concurrent calls coalesced into rounds.

Each hop to the tokeniser thread costs the event loop a future, a wake-up of the thread and a
wake-up of its own when the result comes back, and at saturation the loop's CPU is taken from
the model's. So calls are grouped: the first call schedules a round at the end of the current
loop iteration (requests read together go together), and calls that arrive while a round runs
go in the next one. A round is one encoder call (`encode_batch`), split back per call. Under
light load every call is a round of its own, as with a plain executor.

A call of more than `long_chars` characters (texts that need windows) is encoded on a thread of
its own instead, outside the rounds: tokenising and planning 16 texts of 32,000 characters takes
a good part of a second, and every short request of the rounds behind it would wait that long.
It runs at normal priority: at a lower one, a busy machine can leave it off the CPU while it
holds the GIL, and the event loop then waits for the very thread it meant to put last.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor

from contract import Pair
from service.encoding import EncodedItem, PairEncoder
from service.metrics import Metrics

_Call = tuple[Sequence[Pair], "asyncio.Future[list[EncodedItem]]"]


class EncodeQueue:
    """`await queue.encode(pairs)`: the encoder's items for `pairs`, computed on `executor`.

    An `AsyncPairEncoder`, the one the `Moderator` is given.
    """

    def __init__(
        self,
        encoder: PairEncoder,
        executor: Executor,
        metrics: Metrics | None = None,
        *,
        long_chars: int | None = None,
    ) -> None:
        self.encoder = encoder
        self._executor = executor
        self._metrics = metrics
        self._waiting: list[_Call] = []
        self._busy = False
        self._long_chars = long_chars
        self._long_executor = (
            None
            if long_chars is None
            else ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokenize-long")
        )

    def close(self) -> None:
        if self._long_executor is not None:
            self._long_executor.shutdown(wait=False, cancel_futures=True)

    @property
    def scheme(self) -> str:
        return self.encoder.scheme

    async def encode(self, pairs: Sequence[Pair]) -> list[EncodedItem]:
        loop = asyncio.get_running_loop()
        if self._long_executor is not None and self._long_chars is not None:
            chars = sum(len(prompt) + len(response or "") for prompt, response in pairs)
            if chars > self._long_chars:
                return await loop.run_in_executor(self._long_executor, self._encode_long, pairs)
        future: asyncio.Future[list[EncodedItem]] = loop.create_future()
        self._waiting.append((pairs, future))
        if not self._busy:
            self._busy = True
            # Deferred to the end of this loop iteration, so that requests read together go
            # in one round.
            loop.call_soon(self._start_round, loop)
        return await future

    def _start_round(self, loop: asyncio.AbstractEventLoop) -> None:
        calls = [c for c in self._waiting if not c[1].done()]  # a cancelled caller left
        self._waiting = []
        if not calls:
            self._busy = False
            return
        try:
            round_ = loop.run_in_executor(self._executor, self._encode_round, [p for p, _ in calls])
        except RuntimeError as exc:  # the executor was shut down: the server is stopping
            self._busy = False
            for _, future in calls:
                future.set_exception(exc)
            return
        round_.add_done_callback(lambda done: self._finish_round(loop, calls, done))

    def _finish_round(
        self,
        loop: asyncio.AbstractEventLoop,
        calls: list[_Call],
        done: asyncio.Future[list[list[EncodedItem] | BaseException]],
    ) -> None:
        outcomes: list[list[EncodedItem] | BaseException]
        if done.cancelled():
            outcomes = [RuntimeError("the tokeniser round was cancelled")] * len(calls)
        elif (error := done.exception()) is not None:
            outcomes = [error] * len(calls)
        else:
            outcomes = done.result()
        for (_, future), outcome in zip(calls, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
        self._start_round(loop)

    def _encode_round(self, calls: list[Sequence[Pair]]) -> list[list[EncodedItem] | BaseException]:
        """One encoder call for every pair of the round; split back per call (tokeniser thread)."""
        started = time.perf_counter()
        try:
            items = self.encoder([pair for pairs in calls for pair in pairs])
        except Exception:
            # One bad call must not fail the others: encode them one by one to find it.
            return [self._encode_alone(pairs) for pairs in calls]
        finally:
            if self._metrics is not None:
                self._metrics.tokenize.observe(time.perf_counter() - started)
        outcomes: list[list[EncodedItem] | BaseException] = []
        start = 0
        for pairs in calls:
            outcomes.append(items[start : start + len(pairs)])
            start += len(pairs)
        return outcomes

    def _encode_long(self, pairs: Sequence[Pair]) -> list[EncodedItem]:
        started = time.perf_counter()
        try:
            return self.encoder(pairs)
        finally:
            if self._metrics is not None:
                self._metrics.tokenize.observe(time.perf_counter() - started)

    def _encode_alone(self, pairs: Sequence[Pair]) -> list[EncodedItem] | BaseException:
        try:
            return self.encoder(pairs)
        except Exception as exc:
            return exc
