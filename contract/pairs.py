"""The input format: a (prompt, response) pair encoded as a tokenizer text pair.

No response means the prompt alone (a single sequence). Truncation is `longest_first` to the
manifest's max length, the same in training and serving, so a model never sees a layout it
was not trained on. `truncated` tells the caller that some text was cut.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenizers import Encoding, Tokenizer

# A moderation input: the prompt, and the response when there is one.
Pair = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class EncodedPair:
    input_ids: list[int]
    attention_mask: list[int]
    token_type_ids: list[int]
    truncated: bool

    def __len__(self) -> int:
        return len(self.input_ids)


def prepare_tokenizer(tokenizer: Tokenizer, max_length: int) -> Tokenizer:
    """Configure a tokenizer for `encode_pair`: truncation to `max_length`, no padding.

    Padding is the batcher's job (it pads each batch to its own longest member).
    """
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length, strategy="longest_first")
    return tokenizer


def _from_encoding(encoding: Encoding) -> EncodedPair:
    return EncodedPair(
        input_ids=list(encoding.ids),
        attention_mask=list(encoding.attention_mask),
        token_type_ids=list(encoding.type_ids),
        truncated=bool(encoding.overflowing),
    )


def encode_pair(tokenizer: Tokenizer, prompt: str, response: str | None) -> EncodedPair:
    """Encode one pair with a tokenizer set up by `prepare_tokenizer`."""
    if response is None or response == "":
        return _from_encoding(tokenizer.encode(prompt))
    return _from_encoding(tokenizer.encode(prompt, response))


def encode_pairs(tokenizer: Tokenizer, pairs: list[Pair]) -> list[EncodedPair]:
    """Batch form of `encode_pair` (tokenizers runs the batch in Rust, in parallel)."""
    inputs: list[str | tuple[str, str]] = [p if not r else (p, r) for p, r in pairs]
    return [_from_encoding(e) for e in tokenizer.encode_batch(inputs)]
