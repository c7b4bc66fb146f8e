"""The dynamic batcher on its own: a model stand-in that records every batch it is given.

The batcher's contract is with any `forward(list) -> scores` callable, so these tests use a
deterministic scorer (score = first token / 1000) and check the batches it saw.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from service.batcher import (
    BatcherClosedError,
    BatcherConfig,
    DeadlineExceededError,
    DynamicBatcher,
    InferenceError,
    QueueFullError,
    select_length_aware,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Seq:
    ids: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.ids)


def seq(first: int, length: int) -> Seq:
    return Seq((first,) + (7,) * (length - 1))


def expected(s: Seq) -> float:
    return s.ids[0] / 1000.0


class RecordingModel:
    """Scores `first token / 1000`; records batches; can hold its first call until released."""

    def __init__(self, *, hold_first: bool = False, fail_on: int | None = None) -> None:
        self.batches: list[list[Seq]] = []
        self.gate = threading.Event()
        self.entered = threading.Event()
        if not hold_first:
            self.gate.set()
        self.fail_on = fail_on

    def __call__(self, batch: list[Seq]) -> list[float]:
        self.entered.set()
        self.gate.wait(10)
        self.batches.append(list(batch))
        if self.fail_on is not None and any(s.ids[0] == self.fail_on for s in batch):
            raise RuntimeError("model exploded")
        return [expected(s) for s in batch]

    def seen(self) -> list[Seq]:
        return [s for batch in self.batches for s in batch]


class Observer:
    def __init__(self) -> None:
        self.rejections: list[str] = []
        self.sizes: list[int] = []

    def batch_done(self, *, size: int, **_: Any) -> None:
        self.sizes.append(size)

    def rejected(self, reason: str) -> None:
        self.rejections.append(reason)

    def queue_depth(self, depth: int) -> None:
        pass


def run(
    model: RecordingModel,
    config: BatcherConfig,
    body: Callable[[DynamicBatcher[Seq]], Awaitable[T]],
    observer: Observer | None = None,
) -> T:
    async def main() -> T:
        batcher: DynamicBatcher[Seq] = DynamicBatcher(
            [model], config, key=lambda s: s.ids, observer=observer
        )
        batcher.start()
        try:
            return await body(batcher)
        finally:
            model.gate.set()
            batcher.close()

    return asyncio.run(main())


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.005)


def random_sequences(n: int, seed: int = 0) -> list[Seq]:
    rng = random.Random(seed)
    # A chat-like mix: mostly short, a long tail.
    return [seq(i + 1, min(400, max(2, int(rng.lognormvariate(2.8, 1.0))))) for i in range(n)]


async def queued_then_released(
    batcher: DynamicBatcher[Seq], model: RecordingModel, groups: list[list[Seq]]
) -> list[list[float]]:
    """Hold the model on a first item so every group queues up, then let it all run."""
    blocker = asyncio.ensure_future(batcher.submit([seq(999, 3)]))
    await asyncio.to_thread(model.entered.wait, 5)
    tasks = [asyncio.ensure_future(batcher.submit(g)) for g in groups]
    await until(lambda: batcher.depth == len({s for g in groups for s in g}))
    model.gate.set()
    await blocker
    return list(await asyncio.gather(*tasks))


CONFIG = BatcherConfig(max_batch_size=8, max_batch_tokens=256, max_padding_ratio=0.25)


def test_results_come_back_in_order_for_every_request() -> None:
    model = RecordingModel(hold_first=True)
    sequences = random_sequences(120)
    groups = [sequences[i : i + 7] for i in range(0, len(sequences), 7)]

    results = run(model, CONFIG, lambda b: queued_then_released(b, model, groups))

    for group, scores in zip(groups, results, strict=True):
        assert scores == [expected(s) for s in group]
    assert len(model.batches) > 2  # the queue really was split into several batches


@pytest.mark.parametrize("strategy", ["length_aware", "fifo"])
def test_batches_respect_the_size_limit_and_token_budget(strategy: str) -> None:
    config = BatcherConfig(max_batch_size=8, max_batch_tokens=256, strategy=strategy)  # type: ignore[arg-type]
    model = RecordingModel(hold_first=True)
    groups = [[s] for s in random_sequences(150, seed=1)]

    run(model, config, lambda b: queued_then_released(b, model, groups))

    for batch in model.batches:
        assert len(batch) <= config.max_batch_size
        padded = len(batch) * max(len(s) for s in batch)
        assert len(batch) == 1 or padded <= config.max_batch_tokens
    assert max(len(batch) for batch in model.batches) > 1


def padding_ratio(batch: list[Seq]) -> float:
    padded = len(batch) * max(len(s) for s in batch)
    return 1 - sum(len(s) for s in batch) / padded


def test_length_aware_batches_keep_padding_bounded_where_fifo_does_not() -> None:
    groups = [[s] for s in random_sequences(150, seed=2)]
    aware = RecordingModel(hold_first=True)
    run(aware, CONFIG, lambda b: queued_then_released(b, aware, groups))
    fifo = RecordingModel(hold_first=True)
    fifo_config = BatcherConfig(max_batch_size=8, max_batch_tokens=256, strategy="fifo")
    run(fifo, fifo_config, lambda b: queued_then_released(b, fifo, groups))

    assert all(padding_ratio(b) <= CONFIG.max_padding_ratio + 1e-9 for b in aware.batches)
    assert max(padding_ratio(b) for b in fifo.batches) > CONFIG.max_padding_ratio
    assert sorted(map(expected, aware.seen())) == sorted(map(expected, fifo.seen()))


def test_the_oldest_waiting_item_is_always_in_the_next_batch() -> None:
    rng = random.Random(3)
    for _ in range(500):
        lengths = [rng.randint(1, 300) for _ in range(rng.randint(1, 60))]
        chosen = select_length_aware(lengths, CONFIG)
        assert 0 in chosen
        assert len(set(chosen)) == len(chosen)


def test_a_full_queue_rejects_at_once() -> None:
    config = BatcherConfig(max_batch_size=2, max_batch_tokens=256, max_queue=4)
    model = RecordingModel(hold_first=True)
    observer = Observer()

    async def body(batcher: DynamicBatcher[Seq]) -> None:
        running = asyncio.ensure_future(batcher.submit([seq(1, 5)]))
        await asyncio.to_thread(model.entered.wait, 5)
        queued = asyncio.ensure_future(batcher.submit([seq(n, 5) for n in range(2, 6)]))
        await until(lambda: batcher.depth == 4)
        started = time.monotonic()
        with pytest.raises(QueueFullError):
            await batcher.submit([seq(10, 5)])
        assert time.monotonic() - started < 1.0  # answered, not queued behind the model
        # An identical sequence joins the queued one instead of needing a slot.
        joined = asyncio.ensure_future(batcher.submit([seq(3, 5)]))
        model.gate.set()
        assert await running == [0.001]
        assert await queued == [0.002, 0.003, 0.004, 0.005]
        assert await joined == [0.003]

    run(model, config, body, observer)
    assert observer.rejections == ["queue_full"]


def test_a_request_past_its_deadline_gets_an_error_and_its_work_is_dropped() -> None:
    model = RecordingModel(hold_first=True)
    observer = Observer()

    async def body(batcher: DynamicBatcher[Seq]) -> None:
        running = asyncio.ensure_future(batcher.submit([seq(1, 5)]))
        await asyncio.to_thread(model.entered.wait, 5)
        with pytest.raises(DeadlineExceededError):
            await batcher.submit([seq(2, 5), seq(3, 5)], deadline=time.monotonic() + 0.05)
        survivor = asyncio.ensure_future(batcher.submit([seq(4, 5)]))
        model.gate.set()
        await running
        assert await survivor == [0.004]

    run(model, CONFIG, body, observer)
    assert {s.ids[0] for s in model.seen()} == {1, 4}
    assert observer.rejections == ["deadline"]


def test_a_cancelled_request_leaves_the_queue() -> None:
    model = RecordingModel(hold_first=True)

    async def body(batcher: DynamicBatcher[Seq]) -> None:
        running = asyncio.ensure_future(batcher.submit([seq(1, 5)]))
        await asyncio.to_thread(model.entered.wait, 5)
        abandoned = asyncio.ensure_future(batcher.submit([seq(2, 5)]))
        await until(lambda: batcher.depth == 1)
        abandoned.cancel()
        await asyncio.sleep(0)
        model.gate.set()
        await running
        assert await batcher.submit([seq(3, 5)]) == [0.003]

    run(model, CONFIG, body)
    assert 2 not in {s.ids[0] for s in model.seen()}


def test_identical_sequences_in_flight_are_scored_once() -> None:
    model = RecordingModel(hold_first=True)
    same = seq(42, 9)

    async def body(batcher: DynamicBatcher[Seq]) -> list[list[float]]:
        first = asyncio.ensure_future(batcher.submit([same]))  # running while the others join
        await asyncio.to_thread(model.entered.wait, 5)
        others = [asyncio.ensure_future(batcher.submit([same])) for _ in range(5)]
        mixed = asyncio.ensure_future(batcher.submit([seq(5, 3), same, same, seq(5, 3)]))
        await asyncio.sleep(0.05)
        model.gate.set()
        return [await first, *[await o for o in others], await mixed]

    results = run(model, CONFIG, body)
    assert results[:6] == [[0.042]] * 6
    assert results[6] == [0.005, 0.042, 0.042, 0.005]
    assert [s.ids[0] for s in model.seen()].count(42) == 1
    assert [s.ids[0] for s in model.seen()].count(5) == 1


def test_a_model_error_fails_only_its_batch() -> None:
    model = RecordingModel(fail_on=13)

    async def body(batcher: DynamicBatcher[Seq]) -> None:
        with pytest.raises(InferenceError, match="model exploded"):
            await batcher.submit([seq(13, 4)])
        assert await batcher.submit([seq(14, 4)]) == [0.014]

    run(model, CONFIG, body)


def test_max_wait_lets_an_idle_engine_gather_a_batch() -> None:
    config = BatcherConfig(max_batch_size=8, max_batch_tokens=256, max_wait_s=0.5)
    model = RecordingModel()

    async def body(batcher: DynamicBatcher[Seq]) -> None:
        first = asyncio.ensure_future(batcher.submit([seq(1, 6)]))
        await asyncio.sleep(0.05)
        second = asyncio.ensure_future(batcher.submit([seq(2, 6)]))
        assert await first == [0.001]
        assert await second == [0.002]

    run(model, config, body)
    assert [len(b) for b in model.batches] == [2]


def test_closing_fails_what_is_still_queued() -> None:
    model = RecordingModel(hold_first=True)

    async def body(batcher: DynamicBatcher[Seq]) -> None:
        running = asyncio.ensure_future(batcher.submit([seq(1, 5)]))
        await asyncio.to_thread(model.entered.wait, 5)
        queued = asyncio.ensure_future(batcher.submit([seq(2, 5)]))
        await until(lambda: batcher.depth == 1)
        threading.Timer(0.1, model.gate.set).start()  # lets the running batch end during close
        batcher.close()
        with pytest.raises(BatcherClosedError):
            await queued
        assert await running == [0.001]  # the batch that was running still delivers
        with pytest.raises(BatcherClosedError):
            await batcher.submit([seq(3, 5)])

    run(model, CONFIG, body)


def test_a_request_larger_than_the_queue_is_taken_when_the_queue_is_empty() -> None:
    config = BatcherConfig(max_batch_size=4, max_batch_tokens=256, max_queue=2)
    model = RecordingModel()

    async def body(batcher: DynamicBatcher[Seq]) -> list[float]:
        return await batcher.submit([seq(n, 4) for n in range(1, 6)])

    assert run(model, config, body) == [0.001, 0.002, 0.003, 0.004, 0.005]


def test_workers_run_batches_side_by_side() -> None:
    """One worker per forward: both are inside a batch at the same time."""
    first, second = RecordingModel(hold_first=True), RecordingModel(hold_first=True)

    async def main() -> list[list[float]]:
        batcher: DynamicBatcher[Seq] = DynamicBatcher(
            [first, second], BatcherConfig(max_batch_size=1), key=lambda s: s.ids
        )
        batcher.start()
        try:
            tasks = [asyncio.ensure_future(batcher.submit([seq(n, 4)])) for n in (1, 2)]
            entered = await asyncio.gather(
                asyncio.to_thread(first.entered.wait, 5), asyncio.to_thread(second.entered.wait, 5)
            )
            assert entered == [True, True]
            first.gate.set()
            second.gate.set()
            return list(await asyncio.gather(*tasks))
        finally:
            first.gate.set()
            second.gate.set()
            batcher.close()

    assert asyncio.run(main()) == [[expected(seq(1, 4))], [expected(seq(2, 4))]]
    assert len(first.seen()) == len(second.seen()) == 1


def test_a_batcher_needs_a_forward() -> None:
    with pytest.raises(ValueError, match="at least one"):
        DynamicBatcher([], CONFIG)


def test_a_free_worker_takes_a_light_item_while_heavy_batches_hold_the_others() -> None:
    heavy_model, light_model = RecordingModel(hold_first=True), RecordingModel(hold_first=True)
    config = BatcherConfig(max_batch_size=1, heavy_tokens=10)

    async def main() -> list[list[Seq]]:
        batcher: DynamicBatcher[Seq] = DynamicBatcher([heavy_model, light_model], config)
        batcher.start()
        try:
            heavy = [seq(100 + n, 20) for n in range(6)]
            first = asyncio.ensure_future(batcher.submit(heavy))
            # Both workers hold a heavy batch: nothing light was waiting (work conserving).
            await asyncio.to_thread(heavy_model.entered.wait, 5)
            await asyncio.to_thread(light_model.entered.wait, 5)
            light = asyncio.ensure_future(batcher.submit([seq(1, 3)]))
            await until(lambda: batcher.depth == 5)
            light_model.gate.set()  # one worker frees; the other still runs a heavy batch
            await light
            heavy_model.gate.set()
            await first
            return light_model.batches
        finally:
            heavy_model.gate.set()
            light_model.gate.set()
            batcher.close()

    batches = asyncio.run(main())
    # Its next batch was the light item, though older heavy items waited with an earlier turn.
    assert batches[1] == [seq(1, 3)]
