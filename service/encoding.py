"""How pairs become model input: the encoding types, the two encoder protocols, the default encoder.

A `PairEncoder` turns (prompt, response) pairs into `EncodedItem`s, blocking (it tokenises). The
default, `TruncatingEncoder`, truncates to the model's window (one sequence per pair);
`service.windows` has encoders that return several sequences per pair (windows over a long text),
whose scores the `Moderator` combines by taking the maximum, since one harmful window makes the
pair harmful. The encoder's `scheme` is part of the cache key.

An `AsyncPairEncoder` is what the `Moderator` awaits: a `PairEncoder` run off the event loop
(`service.encode_queue.EncodeQueue`).
"""

from __future__ import annotations

from array import array
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tokenizers import Tokenizer

from contract import EncodedPair, Pair, PairLayout, encode_pair, encode_pairs


@dataclass(frozen=True, slots=True)
class EncodedItem:
    """Model input for one pair: one sequence, or several whose maximum score is the pair's."""

    sequences: list[EncodedPair]
    truncated: bool


class PairEncoder(Protocol):
    scheme: str  # names the encoding in cache keys; change it when the encoding changes

    def __call__(self, pairs: Sequence[Pair]) -> list[EncodedItem]: ...


class AsyncPairEncoder(Protocol):
    @property
    def scheme(self) -> str: ...

    async def encode(self, pairs: Sequence[Pair]) -> list[EncodedItem]: ...


class TruncatingEncoder:
    """The contract's pair format, truncated to the model's max length (pairs: to the
    artifact's pair layout, when it has one): one sequence per pair."""

    def __init__(self, tokenizer: Tokenizer, layout: PairLayout | None = None) -> None:
        self.tokenizer = tokenizer  # already set up by `contract.prepare_tokenizer`
        self.layout = layout
        self.scheme = "truncate" + layout_scheme(layout)

    def __call__(self, pairs: Sequence[Pair]) -> list[EncodedItem]:
        if len(pairs) == 1:  # the common case; skips the batch API's thread-pool round trip
            encoded = [encode_pair(self.tokenizer, *pairs[0], self.layout)]
        else:
            encoded = encode_pairs(self.tokenizer, list(pairs), self.layout)
        return [EncodedItem(sequences=[e], truncated=e.truncated) for e in encoded]


def layout_scheme(layout: PairLayout | None) -> str:
    """The pair layout's part of an encoder's scheme (cache keys): empty without one."""
    if layout is None:
        return ""
    return f":pairs{layout.max_length}-{layout.prompt_tokens}-{layout.response_tokens}"


def sequence_key(seq: EncodedPair) -> Hashable:
    """Single-flight key: identical token sequences get one score.

    Bytes, because a bytes object caches its hash and a tuple of ints does not: the batcher's
    dictionaries hash a key on every lookup.
    """
    return (array("i", seq.input_ids).tobytes(), array("i", seq.token_type_ids).tobytes())
