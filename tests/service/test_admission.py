"""Admission control on its own: the character estimate against the real window planner, queue
room reserved while tokenising, and refusals by cost and by estimated wait, against a real
batcher (with a deterministic scorer standing in for the model, as in `test_batcher`)."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from contract import load_artifact, prepare_tokenizer
from service.admission import Admission, ShedError
from service.batcher import BatcherConfig, DynamicBatcher, QueueFullError
from service.errors import InvalidInputError
from service.windows import WindowPlanner
from tests.service.test_batcher import RecordingModel, Seq, seq

MAX_LENGTH = 128


def admission(batcher: DynamicBatcher[Seq], **limits: int) -> Admission:
    return Admission(
        batcher,
        max_length=MAX_LENGTH,
        max_windows_per_text=limits.get("max_windows", 32),
        max_request_windows=limits.get("max_request_windows", 64),
        max_queue=limits.get("max_queue", 2048),
    )


def idle_batcher(model: RecordingModel | None = None, workers: int = 1) -> DynamicBatcher[Seq]:
    return DynamicBatcher([model or RecordingModel()] * workers, BatcherConfig(max_batch_size=8))


def test_the_character_estimate_never_exceeds_the_planned_windows(tiny_artifact: Path) -> None:
    # A refusal from characters alone must never hit a text the planner would have allowed.
    loaded = load_artifact(tiny_artifact)
    tokenizer = prepare_tokenizer(
        Tokenizer.from_file(str(loaded.tokenizer_path)), loaded.manifest.max_length
    )
    planner = WindowPlanner(tokenizer, MAX_LENGTH, stride=None, max_windows=32)
    guard = admission(idle_batcher())
    rng = random.Random(0)
    vocabularies = [
        ["the", "cat", "sat", "on", "a", "mat", "and", "then", "it", "ran", "away"],
        ["internationalization", "representational", "responsibilities", "characteristically"],
        ["1234567890", "3.14159", "$99.99", "2026-11-30", "https://example.com/a?b=c"],
        ["漢字", "かな", "한국어", "😀", "ü", "ß"],
        ["a", "i", ",", ".", "!", "?"],
        ["x" * 150, "y" * 40],  # words longer than WordPiece takes: one [UNK] each
    ]
    for words in vocabularies:
        for size in (10, 200, 1_000, 5_000):
            text = " ".join(rng.choices(words, k=size))[:32_000]
            planned = len(planner.windows(text, None).pieces)
            assert guard.least_windows((text, None)) <= planned, (words[0], size)
            response = " ".join(rng.choices(words, k=size // 2))
            planned = len(planner.windows("a question", response).pieces)
            assert guard.least_windows(("a question", response)) <= planned, (words[0], size)


def test_queue_room_is_reserved_while_tokenising() -> None:
    guard = admission(idle_batcher(), max_queue=4)
    deadline = time.monotonic() + 5
    tickets = [guard.before_tokenising([("short text", None)], deadline) for _ in range(4)]
    with pytest.raises(QueueFullError):
        guard.before_tokenising([("one more", None)], deadline)
    guard.release(tickets[0])
    guard.before_tokenising([("one more", None)], deadline)


def test_a_request_over_the_window_budget_is_refused_from_its_characters() -> None:
    guard = admission(idle_batcher(), max_request_windows=8)
    long_text = "word " * 6_400  # 32,000 characters: far more than 8 windows at any ratio
    with pytest.raises(InvalidInputError) as caught:
        guard.before_tokenising([(long_text, None)], time.monotonic() + 5)
    assert caught.value.status == 413 and caught.value.code == "too_many_windows"
    with pytest.raises(InvalidInputError):
        guard.check_windows(9)  # and counted exactly after tokenising
    guard.check_windows(8)


class SlowScorer:
    """Scores `first token / 1000` after a fixed delay per batch: a cost per token to measure."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s

    def __call__(self, batch: list[Seq]) -> list[float]:
        time.sleep(self.delay_s)
        return [s.ids[0] / 1000.0 for s in batch]


def test_refusals_by_measured_cost_and_estimated_wait() -> None:
    async def main() -> None:
        batcher: DynamicBatcher[Seq] = DynamicBatcher(
            [SlowScorer(0.05)], BatcherConfig(max_batch_size=8)
        )
        batcher.start()
        try:
            guard = admission(batcher)
            # Nothing measured yet: nothing is refused for its cost or its wait.
            guard.before_tokenising([("word " * 1_000, None)], time.monotonic() + 0.001)
            await batcher.submit([seq(n, 10) for n in range(4)])  # 50 ms for 40 tokens
            assert batcher.seconds_per_token is not None
            # ~15 tokens at ~1.25 ms each: no deadline problem alone, but an estimated wait
            # past half of 5 ms.
            with pytest.raises(ShedError) as shed:
                guard.before_tokenising([("a short prompt " * 4, None)], time.monotonic() + 0.005)
            assert shed.value.retry_after > 0
            with pytest.raises(InvalidInputError) as costly:  # ~8 windows: seconds of model time
                guard.before_tokenising([("word " * 1_000, None)], time.monotonic() + 0.5)
            assert costly.value.status == 413 and costly.value.code == "over_deadline"
        finally:
            batcher.close()

    asyncio.run(main())


class GatedScorer(SlowScorer):
    """A `SlowScorer` whose calls after the first wait until `gate` is set."""

    def __init__(self, delay_s: float) -> None:
        super().__init__(delay_s)
        self.calls = 0
        self.gate = threading.Event()
        self.entered = threading.Event()

    def __call__(self, batch: list[Seq]) -> list[float]:
        self.calls += 1
        if self.calls > 1:
            self.entered.set()
            self.gate.wait(10)
        return super().__call__(batch)


def test_a_prompt_is_not_shed_for_the_backlog_of_a_long_request_it_goes_before() -> None:
    # 2,000 tokens of one request wait: seconds of model time. A prompt of ~15 tokens goes
    # before nearly all of it (fair queueing), so its estimated wait is a turn of that request,
    # not all of it; a text of 1,000 words (~1,800 tokens expected) waits for as many of the
    # backlog's tokens as its own, and is shed.
    async def main() -> None:
        model = GatedScorer(0.05)
        batcher: DynamicBatcher[Seq] = DynamicBatcher([model], BatcherConfig(max_batch_size=8))
        batcher.start()
        try:
            guard = admission(batcher)
            await batcher.submit([seq(n, 10) for n in range(4)])  # measures ~1.25 ms a token
            cost = batcher.seconds_per_token
            assert cost is not None
            blocker = asyncio.ensure_future(batcher.submit([seq(1, 5)]))
            await asyncio.to_thread(model.entered.wait, 5)
            backlog = asyncio.ensure_future(batcher.submit([seq(100 + n, 100) for n in range(20)]))
            while batcher.depth < 20:
                await asyncio.sleep(0.005)
            assert batcher.estimated_wait(15) == pytest.approx((15 + 15) * cost)
            assert batcher.estimated_wait(1_000) == pytest.approx(2_000 * cost)
            deadline = time.monotonic() + 2_000 * cost  # the prompt's wait is far under half
            ticket = guard.before_tokenising([("a short prompt " * 4, None)], deadline)
            guard.release(ticket)
            with pytest.raises(ShedError):
                guard.before_tokenising([("word " * 1_000, None)], deadline)
            model.gate.set()
            await asyncio.gather(blocker, backlog)
        finally:
            model.gate.set()
            batcher.close()

    asyncio.run(main())
