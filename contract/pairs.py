"""The input format: a (prompt, response) pair encoded as a tokenizer text pair.

No response means the prompt alone (a single sequence), truncated to the manifest's max length
(it keeps the head). A pair is encoded one of two ways, the same in training and serving, so a
model never sees a layout it was not trained on:

- no `PairLayout` (artifacts before issue 14): `longest_first` truncation of the pair to the
  manifest's max length, which cuts the end of a long prompt (where jailbreak wrappers put the
  request) and keeps about half the window for each side;
- a `PairLayout` (the manifest's `pair_layout`): a window of its own for pairs, the prompt's
  TAIL and the response's HEAD, each with a token budget; a side shorter than its budget gives
  what it leaves to the other.

`truncated` tells the caller that some text was cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator
from tokenizers import Encoding, Tokenizer

# A moderation input: the prompt, and the response when there is one.
Pair = tuple[str, str | None]


def has_response(response: str | None) -> bool:
    """Whether a pair has a response: an empty one is encoded as the prompt alone."""
    return bool(response)


class PairLayout(BaseModel):
    """Token budgets for a (prompt, response) pair: `max_length` tokens in all, special tokens
    included; `prompt_tokens` of the prompt's end and `response_tokens` of the response's
    start when both are long."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_length: int = Field(gt=8, le=8192)
    prompt_tokens: int = Field(ge=0)
    response_tokens: int = Field(ge=1)

    @model_validator(mode="after")
    def _budgets_fit(self) -> PairLayout:
        if self.prompt_tokens + self.response_tokens >= self.max_length:
            raise ValueError(
                f"prompt_tokens + response_tokens ({self.prompt_tokens} + "
                f"{self.response_tokens}) leave no room for special tokens in {self.max_length}"
            )
        return self


# The issue-14 layout: 256 tokens, room for the 3 special tokens of BERT-style tokenizers and
# the 4 of RoBERTa-style ones (MPNet); the request usually sits in a wrapper's last sentences.
DEFAULT_PAIR_LAYOUT = PairLayout(max_length=256, prompt_tokens=96, response_tokens=156)


@dataclass(frozen=True, slots=True)
class EncodedPair:
    input_ids: list[int]
    attention_mask: list[int]
    token_type_ids: list[int]
    truncated: bool

    def __len__(self) -> int:
        return len(self.input_ids)


def prepare_tokenizer(
    tokenizer: Tokenizer, max_length: int, layout: PairLayout | None = None
) -> Tokenizer:
    """Configure a tokenizer for `encode_pair`: truncation to `max_length`, no padding.

    Padding is the batcher's job (it pads each batch to its own longest member). With a
    `layout`, `max_length` still applies to prompts alone; the layout is checked against the
    tokenizer's special tokens, and must be passed to `encode_pair(s)` as well.
    """
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length, strategy="longest_first")
    if layout is not None:
        specials = _pair_specials(tokenizer)
        if layout.prompt_tokens + layout.response_tokens + specials > layout.max_length:
            raise ValueError(
                f"{layout} leaves no room for this tokenizer's {specials} special tokens"
            )
    return tokenizer


def _pair_specials(tokenizer: Tokenizer) -> int:
    processor = tokenizer.post_processor
    if processor is None:
        raise ValueError("a pair layout needs a tokenizer with a post-processor")
    return int(processor.num_special_tokens_to_add(True))


def _from_encoding(encoding: Encoding) -> EncodedPair:
    return EncodedPair(
        input_ids=list(encoding.ids),
        attention_mask=list(encoding.attention_mask),
        token_type_ids=list(encoding.type_ids),
        truncated=bool(encoding.overflowing),
    )


def encode_pair(
    tokenizer: Tokenizer, prompt: str, response: str | None, layout: PairLayout | None = None
) -> EncodedPair:
    """Encode one pair with a tokenizer set up by `prepare_tokenizer` (the same `layout`)."""
    if response is None or response == "":
        return _from_encoding(tokenizer.encode(prompt))
    if layout is None:
        return _from_encoding(tokenizer.encode(prompt, response))
    sides = tokenizer.encode_batch([prompt, response], add_special_tokens=False)
    return _laid_out(tokenizer, sides[0], sides[1], layout)


def encode_pairs(
    tokenizer: Tokenizer, pairs: Sequence[Pair], layout: PairLayout | None = None
) -> list[EncodedPair]:
    """Batch form of `encode_pair` (tokenizers runs the batch in Rust, in parallel)."""
    if layout is None:
        inputs: list[str | tuple[str, str]] = [p if not r else (p, r) for p, r in pairs]
        return [_from_encoding(e) for e in tokenizer.encode_batch(inputs)]
    out: list[EncodedPair | None] = [None] * len(pairs)
    alone = [n for n, (_, r) in enumerate(pairs) if not r]
    if alone:
        encoded = tokenizer.encode_batch([pairs[n][0] for n in alone])
        for n, encoding in zip(alone, encoded, strict=True):
            out[n] = _from_encoding(encoding)
    both = [n for n, (_, r) in enumerate(pairs) if r]
    if both:
        texts = [text for n in both for text in (pairs[n][0], pairs[n][1] or "")]
        sides = tokenizer.encode_batch(texts, add_special_tokens=False)
        for k, n in enumerate(both):
            out[n] = _laid_out(tokenizer, sides[2 * k], sides[2 * k + 1], layout)
    return [e for e in out if e is not None]


def _laid_out(
    tokenizer: Tokenizer, prompt: Encoding, response: Encoding, layout: PairLayout
) -> EncodedPair:
    """The prompt's tail and the response's head within the layout's budgets, with the
    tokenizer's special tokens. `prompt` and `response` are encoded without special tokens,
    each cut by the tokenizer's truncation into a head and its `overflowing` rest."""
    prompt_len, response_len = _length(prompt), _length(response)
    spare_prompt = max(0, layout.prompt_tokens - prompt_len)
    spare_response = max(0, layout.response_tokens - response_len)
    keep_prompt = min(prompt_len, layout.prompt_tokens + spare_response)
    keep_response = min(response_len, layout.response_tokens + spare_prompt)
    processor = tokenizer.post_processor
    if processor is None:
        raise ValueError("a pair layout needs a tokenizer with a post-processor")
    # The post-processor, not `tokenizer.post_process`: that one would truncate again to the
    # prompt-only max length, which may be shorter than the pair window.
    encoding = processor.process(
        _tail(prompt, keep_prompt), _head(response, keep_response), add_special_tokens=True
    )
    cut = keep_prompt < prompt_len or keep_response < response_len
    return EncodedPair(
        input_ids=list(encoding.ids),
        attention_mask=list(encoding.attention_mask),
        token_type_ids=list(encoding.type_ids),
        truncated=cut,
    )


def _length(encoding: Encoding) -> int:
    return len(encoding) + sum(len(part) for part in encoding.overflowing)


def _head(encoding: Encoding, n: int) -> Encoding:
    """The first `n` tokens; merging only the chunks needed (merging all of a 32,000-character
    text's chunks takes seconds)."""
    chunks = [encoding]
    have = len(encoding)
    for part in encoding.overflowing:
        if have >= n:
            break
        chunks.append(part)
        have += len(part)
    head = chunks[0] if len(chunks) == 1 else Encoding.merge(chunks, growing_offsets=False)
    head.truncate(n, direction="right")
    return head


def _tail(encoding: Encoding, n: int) -> Encoding:
    """The last `n` tokens (`n` may be 0: an empty encoding)."""
    chunks = [encoding, *encoding.overflowing]
    picked: list[Encoding] = []
    have = 0
    while chunks and (have < n or not picked):
        picked.insert(0, chunks.pop())
        have += len(picked[0])
    tail = picked[0] if len(picked) == 1 else Encoding.merge(picked, growing_offsets=False)
    tail.truncate(n, direction="left")
    return tail
