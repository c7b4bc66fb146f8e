"""Fair shares in the real batcher (`service/fair_share.py`): who goes next, and which worker.

Every assertion is about order or shares (which batches the model saw, and how many heavy
batches ran at once), never about time: a fake model that records its batches, and the tiny
real ONNX artifact with windows cut from a long text by the real encoder.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from contract import EncodedPair, load_artifact, prepare_tokenizer
from service.batcher import BatcherConfig, DynamicBatcher
from service.encoding import sequence_key
from service.engine import OnnxEngine
from service.fair_share import FairClock, WorkerReserve
from service.windows import LongInputPolicy, build_encoder
from tests.service.long_text import benign_words
from tests.service.test_batcher import (
    RecordingModel,
    Seq,
    expected,
    queued_then_released,
    run,
    seq,
    until,
)


def test_a_short_request_goes_before_the_next_window_of_a_long_one() -> None:
    # A long request queued first holds no turn over a short one queued after it: the short
    # one's 3 tokens end before the long one's next 20.
    model = RecordingModel(hold_first=True)
    config = BatcherConfig(max_batch_size=2, max_batch_tokens=1000, max_padding_ratio=0.1)

    async def body(batcher: DynamicBatcher[Seq]) -> None:
        long_request = [seq(100 + n, 20) for n in range(8)]
        await queued_then_released(batcher, model, [long_request, [seq(1, 3)]])

    run(model, config, body)
    batches = model.batches[1:]  # after the blocker
    assert batches[0] == [seq(1, 3)]
    assert sorted(s.ids[0] for b in batches[1:] for s in b) == list(range(100, 108))


class SteppedModel:
    """Records batches; each call waits for one `step()` (so the test sees every choice)."""

    def __init__(self) -> None:
        self.batches: list[list[Seq]] = []
        self.calls = 0
        self._steps = threading.Semaphore(0)

    def __call__(self, batch: list[Seq]) -> list[float]:
        self.calls += 1
        self._steps.acquire(timeout=10)
        self.batches.append(list(batch))
        return [expected(s) for s in batch]

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            self._steps.release()


def test_a_waiting_prompt_is_not_passed_by_shorter_ones_that_arrive_later() -> None:
    # Uniform traffic: a 100-token prompt waits behind a 5-token one that came with it (the
    # tie), but not behind one that came a batch later, though that one ends sooner. Ranked by
    # finish tags alone, every later short prompt would pass it (shortest first).
    model = SteppedModel()
    config = BatcherConfig(max_batch_size=1, max_batch_tokens=1000)

    async def main() -> None:
        batcher: DynamicBatcher[Seq] = DynamicBatcher([model], config)
        batcher.start()
        try:
            tasks = [asyncio.ensure_future(batcher.submit([seq(999, 3)]))]
            await until(lambda: model.calls == 1)
            tasks += [asyncio.ensure_future(batcher.submit([s])) for s in (seq(1, 100), seq(2, 5))]
            await until(lambda: batcher.depth == 2)
            model.step()
            await until(lambda: model.calls == 2)  # the 5-token prompt is running
            tasks.append(asyncio.ensure_future(batcher.submit([seq(3, 5)])))
            await until(lambda: batcher.depth == 2)
            model.step(3)
            await asyncio.gather(*tasks)
        finally:
            model.step(10)
            batcher.close()

    asyncio.run(main())
    assert [b[0].ids[0] for b in model.batches] == [999, 2, 1, 3]


def served_tokens(batches: Sequence[Sequence[Seq]], owners: dict[int, str]) -> list[dict[str, int]]:
    """Tokens served to each owner after each batch (owner by first token)."""
    totals = dict.fromkeys(owners.values(), 0)
    out = []
    for batch in batches:
        for s in batch:
            totals[owners[s.ids[0]]] += len(s)
        out.append(dict(totals))
    return out


def test_waiting_requests_get_equal_tokens_not_equal_turns() -> None:
    # A has items of 40 tokens, B of 10: B gets four items for each of A's, so at every point
    # the two have been served the same tokens, give or take one item.
    model = RecordingModel(hold_first=True)
    config = BatcherConfig(max_batch_size=1, max_batch_tokens=1000)
    a = [seq(100 + n, 40) for n in range(6)]
    b = [seq(200 + n, 10) for n in range(24)]

    async def body(batcher: DynamicBatcher[Seq]) -> None:
        await queued_then_released(batcher, model, [a, b])

    run(model, config, body)
    owners = {s.ids[0]: "a" for s in a} | {s.ids[0]: "b" for s in b}
    for totals in served_tokens(model.batches[1:], owners):
        if totals["a"] < 240 and totals["b"] < 240:  # both still waiting
            assert abs(totals["a"] - totals["b"]) <= 40


def test_a_stream_of_short_requests_never_starves_a_long_one() -> None:
    # 3 clients send 4-token requests one after another, without a pause, while a request of
    # 20-token windows waits: each window goes after a bounded number of short batches
    # (its 20 tokens over their 4, per client), not after the stream ends.
    model = RecordingModel()
    config = BatcherConfig(max_batch_size=1, max_batch_tokens=1000)
    windows = [seq(1000 + n, 20) for n in range(6)]

    async def body(batcher: DynamicBatcher[Seq]) -> None:
        done = False

        async def client(k: int) -> None:
            n = 0
            while not done:
                n += 1
                await batcher.submit([seq(10_000 * (k + 1) + n, 4)])

        clients = [asyncio.ensure_future(client(k)) for k in range(3)]
        await asyncio.sleep(0)  # the clients are sending
        await batcher.submit(windows)
        done = True
        await asyncio.gather(*clients)

    run(model, config, body)
    positions = [
        n for n, b in enumerate(model.batches) if b[0].ids[0] >= 1000 and b[0].ids[0] < 2000
    ]
    assert len(positions) == len(windows)
    gaps = [later - earlier - 1 for earlier, later in itertools.pairwise(positions)]
    assert max(gaps) <= 3 * (20 // 4 + 1)


class ConcurrentHeavy:
    """A model that counts the heavy batches (first item of 20+ tokens) running at once."""

    def __init__(self, heavy: int = 20) -> None:
        self.heavy = heavy
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.batches: list[list[Seq]] = []

    def __call__(self, batch: list[Seq]) -> list[float]:
        heavy = max(len(s) for s in batch) >= self.heavy
        with self.lock:
            self.batches.append(list(batch))
            self.running += heavy
            self.most = max(self.most, self.running)
        time.sleep(0.002)  # room for the other worker to start one too, if it were allowed
        with self.lock:
            self.running -= heavy
        return [s.ids[0] / 1000.0 for s in batch]


def two_workers(
    config: BatcherConfig, groups: Sequence[Sequence[Seq]], forwards: Sequence[Any]
) -> list[list[float]]:
    async def main() -> list[list[float]]:
        batcher: DynamicBatcher[Seq] = DynamicBatcher(list(forwards), config, key=lambda s: s.ids)
        batcher.start()
        try:
            results = []
            for group in groups:  # in order: the light one is seen first
                results.append(asyncio.ensure_future(batcher.submit(list(group))))
                await asyncio.sleep(0)
            return list(await asyncio.gather(*results))
        finally:
            batcher.close()

    return asyncio.run(main())


def test_while_light_work_arrives_heavy_batches_leave_a_worker_free() -> None:
    # The request of 12 windows of 20 tokens is heavy by its 240 tokens, not by any window.
    model = ConcurrentHeavy()
    config = BatcherConfig(max_batch_size=1, heavy_tokens=100, light_hold_s=60.0)
    heavy = [seq(100 + n, 20) for n in range(12)]
    results = two_workers(config, [[seq(1, 3)], heavy], [model, model])
    assert results[1] == [s.ids[0] / 1000.0 for s in heavy]
    assert model.most == 1


def test_without_light_work_heavy_batches_take_every_worker() -> None:
    # Both workers must be inside a heavy batch at once for either to get past the barrier.
    barrier = threading.Barrier(2, timeout=10)

    def forward(batch: list[Seq]) -> list[float]:
        if batch[0].ids[0] < 102:
            barrier.wait()
        return [s.ids[0] / 1000.0 for s in batch]

    config = BatcherConfig(max_batch_size=1, heavy_tokens=20, light_hold_s=60.0)
    heavy = [seq(100 + n, 20) for n in range(6)]
    assert two_workers(config, [heavy], [forward, forward]) == [[s.ids[0] / 1000 for s in heavy]]


def test_long_prompts_one_per_request_are_not_held_back() -> None:
    # Requests of one 100-token prompt each are light (200 tokens make a request heavy), so
    # beside light work both workers still take them at once (the barrier needs both inside
    # a batch): traffic of long-ish prompts alone is never held back.
    barrier = threading.Barrier(2, timeout=10)

    def forward(batch: list[Seq]) -> list[float]:
        if batch[0].ids[0] in (101, 102):
            barrier.wait()
        return [s.ids[0] / 1000.0 for s in batch]

    config = BatcherConfig(max_batch_size=1, heavy_tokens=200, light_hold_s=60.0, heavy_share=0.5)
    groups = [[seq(1, 3)], [seq(101, 100)], [seq(102, 100)]]
    assert two_workers(config, groups, [forward, forward]) == [[0.001], [0.101], [0.102]]


def test_the_reserve_and_the_clock_on_their_own() -> None:
    reserve = WorkerReserve(workers=2, hold_s=1.0)
    assert reserve.heavy_blocked_for(10.0, heavy_running=1) == 0.0  # no light work yet
    reserve.light_arrived(10.0)
    assert reserve.heavy_blocked_for(10.25, heavy_running=0) == 0.0  # a worker is left
    assert reserve.heavy_blocked_for(10.25, heavy_running=1) == 0.75
    assert reserve.heavy_blocked_for(11.5, heavy_running=1) == 0.0  # light work stopped
    assert WorkerReserve(workers=1, hold_s=1.0).heavy_blocked_for(0.0, heavy_running=0) == 0.0
    # Half a worker's time for heavy batches while light work arrives: a pause as long as each.
    halves = WorkerReserve(workers=2, hold_s=1.0, heavy_share=0.5)
    halves.light_arrived(10.0)
    rested_at = halves.rested_at(10.5, heavy_seconds=0.25)
    assert rested_at == 10.75
    assert halves.heavy_blocked_for(10.5, heavy_running=0, rested_at=rested_at) == 0.25
    assert halves.heavy_blocked_for(10.75, heavy_running=0, rested_at=rested_at) == 0.0
    assert halves.rested_at(12.0, heavy_seconds=0.25) == 12.0  # no light work: no pause
    clock = FairClock()
    tag = clock.arrival()
    clock.served(FairClock.finish(tag, 30))
    assert clock.arrival() == 30
    clock.served(10)  # an older request's smaller tag never moves the clock back
    assert clock.arrival() == 30


# -- the tiny real model, with windows cut by the real encoder --------------------------------


class RecordingEngine:
    """The real engine's forward, recording batches; holds its first call until released."""

    def __init__(self, engine: OnnxEngine) -> None:
        self.engine = engine
        self.batches: list[list[EncodedPair]] = []
        self.gate = threading.Event()
        self.entered = threading.Event()

    def __call__(self, batch: list[EncodedPair]) -> Any:
        self.entered.set()
        self.gate.wait(10)
        self.batches.append(list(batch))
        return self.engine.score_rows(batch)


def real_model(artifact: Path) -> tuple[Any, RecordingEngine]:
    loaded = load_artifact(artifact)
    max_length = loaded.manifest.max_length
    tokenizer = prepare_tokenizer(Tokenizer.from_file(str(loaded.tokenizer_path)), max_length)
    encoder = build_encoder(
        tokenizer, max_length, policy=LongInputPolicy.WINDOWS, stride=None, max_windows=32
    )
    return encoder, RecordingEngine(OnnxEngine(loaded, threads=1))


def score_queued(
    engine: RecordingEngine, groups: list[list[EncodedPair]], config: BatcherConfig
) -> list[list[Any]]:
    """Queue every group behind a held first batch (in order), then let the engine run."""

    async def main() -> list[list[Any]]:
        batcher: DynamicBatcher[EncodedPair, Any] = DynamicBatcher(
            [engine], config, key=sequence_key
        )
        batcher.start()
        try:
            blocker = asyncio.ensure_future(batcher.submit(groups[0][:1]))
            await asyncio.to_thread(engine.entered.wait, 5)
            tasks = []
            for group in groups:
                tasks.append(asyncio.ensure_future(batcher.submit(group)))
                await asyncio.sleep(0)
            while batcher.depth < sum(len(g) for g in groups) - 1:
                await asyncio.sleep(0.005)
            engine.gate.set()
            await blocker
            return list(await asyncio.gather(*tasks))
        finally:
            engine.gate.set()
            batcher.close()

    return asyncio.run(main())


# The server's defaults, on the tiny model's 128-token windows: two windows per batch.
SERVER_LIKE = BatcherConfig(max_batch_size=32, max_batch_tokens=256, max_padding_ratio=0.1)


def test_short_prompts_queued_behind_a_long_text_go_before_its_windows(
    tiny_artifact: Path,
) -> None:
    encoder, engine = real_model(tiny_artifact)
    (long_item,) = encoder([(" ".join(benign_words(3000)), None)])
    assert len(long_item.sequences) == 32
    shorts = [
        item.sequences
        for item in encoder([(f"How do I bake bread, take {n}?", None) for n in range(4)])
    ]
    results = score_queued(engine, [long_item.sequences, *shorts], SERVER_LIKE)
    batches = engine.batches[1:]  # after the held first window
    short_ids = {tuple(s[0].input_ids) for s in shorts}
    first_window = next(n for n, b in enumerate(batches) if len(b[0].input_ids) > 100)
    last_short = max(
        n for n, b in enumerate(batches) if any(tuple(s.input_ids) in short_ids for s in b)
    )
    assert last_short < first_window  # all four before any of the 31 windows left
    # Scores are the model's, whatever the order.
    alone = engine.engine.score_rows([s[0] for s in shorts])
    assert [r[0] for r in results[1:]] == [list(row) for row in alone]


def test_two_long_texts_take_turns_on_the_real_engine(tiny_artifact: Path) -> None:
    encoder, engine = real_model(tiny_artifact)
    first, second = encoder(
        [(" ".join(benign_words(3000, seed=1)), None), (" ".join(benign_words(3000, seed=2)), None)]
    )
    results = score_queued(engine, [first.sequences, second.sequences], SERVER_LIKE)
    assert [len(r) for r in results] == [32, 32]
    queued = {"first": first.sequences[1:], "second": second.sequences}  # the first is held
    owner = {sequence_key(s): name for name, seqs in queued.items() for s in seqs}
    total = {name: sum(len(s.input_ids) for s in seqs) for name, seqs in queued.items()}
    served = dict.fromkeys(queued, 0)
    for batch in engine.batches[1:]:
        for s in batch:
            served[owner[sequence_key(s)]] += len(s.input_ids)
        if all(served[name] < total[name] for name in queued):  # both still waiting
            assert abs(served["first"] - served["second"]) <= 256  # one batch
