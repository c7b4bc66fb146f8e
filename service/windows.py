"""Long inputs: what the model sees when a (prompt, response) pair is longer than its window.

Three policies (`MODERATION_LONG_INPUT_POLICY`):

- `windows` (default): overlapping windows slide over the text and every window is scored; the
  pair takes the maximum, so one harmful sentence anywhere makes the pair harmful. With a
  response, the windows slide over the response and each carries the prompt as context (cut to
  its head and tail when long; to its tail under the artifact's pair layout, which gives pairs
  a window and budgets of their own), because a pair's verdict is about the response.
- `head_tail`: one sequence made of the start and the end of the text (a quarter head, the rest
  tail, after Sun et al. 2019, "How to Fine-Tune BERT for Text Classification"). Cheap, but the
  middle is never seen.
- `truncate`: the contract's truncation: only the start is seen (of a pair under a layout: the
  prompt's tail and the response's head).

Windows are cut from the text at token offsets and snapped to word starts, then encoded with the
contract's pair format like any other pair, so a window looks exactly like a short input to the
model, and short inputs are encoded exactly as before. `truncated` stays honest: it is true when
some text was seen by no window (a cut prompt, the window cap, or a non-window policy).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tokenizers import Encoding, Tokenizer

from contract import Pair, PairLayout, encode_pairs
from service.encoding import EncodedItem, PairEncoder, TruncatingEncoder, layout_scheme

# Re-tokenising a slice cut at word starts gives back the same tokens; the margin only absorbs
# tokenizers whose pre-tokeniser merges across the cut (it costs 2 tokens of each window).
_MARGIN_TOKENS = 2
# Share of a budget given to the head in head+tail cuts (Sun et al.: 128 head + 382 tail of 512).
_HEAD_SHARE = 0.25
# English averages 4-5 characters per WordPiece token: a text of more than 8 characters per
# token of the window almost never fits, so it skips the (wasted) whole-text encoding.
_MAX_CHARS_PER_TOKEN = 8


class LongInputPolicy(StrEnum):
    WINDOWS = "windows"
    HEAD_TAIL = "head_tail"
    TRUNCATE = "truncate"


@dataclass(frozen=True, slots=True)
class _Tokens:
    """One text's tokens: character spans and which tokens start a word."""

    text: str
    spans: list[tuple[int, int]]
    word_start: list[bool]

    @classmethod
    def of(cls, text: str, encoding: Encoding) -> _Tokens:
        word_ids = encoding.word_ids
        starts = [n == 0 or word_ids[n] != word_ids[n - 1] for n in range(len(word_ids))]
        return cls(text=text, spans=list(encoding.offsets), word_start=starts)

    def __len__(self) -> int:
        return len(self.spans)

    def slice(self, start: int, end: int) -> str:
        """The text of tokens [start, end)."""
        return self.text[self.spans[start][0] : self.spans[end - 1][1]]

    def word_floor(self, index: int, lower: int) -> int:
        """`index` moved back to the first token of its word, or `index` itself when that word
        starts before `lower` (a word longer than a window is cut, not skipped)."""
        snapped = index
        while snapped > lower and not self.word_start[snapped]:
            snapped -= 1
        return snapped if self.word_start[snapped] else index

    def word_ceil(self, index: int, upper: int) -> int:
        """`index` moved forward to the next word start, but not past `upper`."""
        snapped = index
        while snapped < upper and not self.word_start[snapped]:
            snapped += 1
        return snapped


@dataclass(frozen=True, slots=True)
class Plan:
    """The pieces of one pair that the model scores (max over pieces), and whether text was lost."""

    pieces: list[Pair]
    truncated: bool


class WindowPlanner:
    """Cuts pairs that overflow `max_length` tokens into pieces that fit."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        max_length: int,
        *,
        stride: int | None,
        max_windows: int,
        layout: PairLayout | None = None,
    ) -> None:
        if max_windows < 1:
            raise ValueError("max_windows must be at least 1")
        # A private copy: the serving tokenizer truncates, and its settings are shared state.
        self._tokenizer = Tokenizer.from_str(tokenizer.to_str())
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        specials = self._tokenizer.post_processor
        single = specials.num_special_tokens_to_add(False) if specials else 0
        pair = specials.num_special_tokens_to_add(True) if specials else 0
        self.max_length = max_length
        self._room_single = max_length - single  # tokens a whole input may have
        self._room_pair = max_length - pair
        self.layout = layout
        if layout is not None:  # pairs get the layout's window and budgets
            self._room_pair = layout.prompt_tokens + layout.response_tokens
        self.single_budget = self._room_single - _MARGIN_TOKENS  # tokens of a cut piece
        self.pair_budget = self._room_pair - _MARGIN_TOKENS
        if self.pair_budget < 8:
            raise ValueError(f"max_length {max_length} leaves no room for windows")
        self.stride = stride
        self.max_windows = max_windows

    def _tokens(self, texts: Sequence[str]) -> list[_Tokens]:
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [_Tokens.of(t, e) for t, e in zip(texts, encodings, strict=True)]

    def windows(self, prompt: str, response: str | None) -> Plan:
        if not response:
            (tokens,) = self._tokens([prompt])
            if len(tokens) <= self._room_single:
                return Plan([(prompt, None)], False)
            texts, lost = self._slide(tokens, self.single_budget)
            return Plan([(t, None) for t in texts], lost)
        prompt_tokens, response_tokens = self._tokens([prompt, response])
        if len(prompt_tokens) + len(response_tokens) <= self._room_pair:
            return Plan([(prompt, response)], False)
        if self._layout_cuts_prompt_only(len(prompt_tokens), len(response_tokens)):
            return Plan([(prompt, response)], True)
        prompt_budget = self._prompt_budget(len(prompt_tokens), len(response_tokens))
        context = self._context(prompt_tokens, prompt_budget)
        texts, lost = self._slide(response_tokens, self.pair_budget - prompt_budget)
        return Plan([(context, t) for t in texts], lost or len(prompt_tokens) > prompt_budget)

    def head_tail(self, prompt: str, response: str | None) -> Plan:
        if not response:
            (tokens,) = self._tokens([prompt])
            if len(tokens) <= self._room_single:
                return Plan([(prompt, None)], False)
            return Plan([(_head_tail(tokens, self.single_budget), None)], True)
        prompt_tokens, response_tokens = self._tokens([prompt, response])
        if len(prompt_tokens) + len(response_tokens) <= self._room_pair:
            return Plan([(prompt, response)], False)
        if self._layout_cuts_prompt_only(len(prompt_tokens), len(response_tokens)):
            return Plan([(prompt, response)], True)
        prompt_budget = self._prompt_budget(len(prompt_tokens), len(response_tokens))
        piece = (
            self._context(prompt_tokens, prompt_budget),
            _head_tail(response_tokens, self.pair_budget - prompt_budget),
        )
        return Plan([piece], True)

    def _layout_cuts_prompt_only(self, prompt_len: int, response_len: int) -> bool:
        """With a pair layout, a response within its share needs no windows: the contract's
        encoding keeps it whole and the prompt's tail."""
        layout = self.layout
        if layout is None:
            return False
        share = layout.response_tokens + max(0, layout.prompt_tokens - prompt_len)
        return response_len <= share

    def _prompt_budget(self, prompt_len: int, response_len: int) -> int:
        """Tokens of a pair's window that go to the prompt: up to half (the layout's prompt
        budget, with one), more if the response is short, never more than the prompt has."""
        if self.layout is not None:
            return min(prompt_len, self.layout.prompt_tokens)
        half = self.pair_budget // 2
        return min(prompt_len, max(half, self.pair_budget - response_len))

    def _context(self, prompt_tokens: _Tokens, budget: int) -> str:
        """The prompt as a window's context: its tail with a pair layout (where jailbreak
        wrappers put the request), else its head and tail."""
        if self.layout is not None:
            return _tail(prompt_tokens, budget)
        return _head_tail(prompt_tokens, budget)

    def _slide(self, tokens: _Tokens, budget: int) -> tuple[list[str], bool]:
        """Windows of at most `budget` tokens over `tokens`, and whether some token is in none."""
        n = len(tokens)
        if n <= budget:
            return [tokens.text], False
        last = n - budget
        stride = self.stride or max(1, (budget * 3) // 4)
        count = math.ceil(last / stride) + 1
        if count <= self.max_windows:
            starts = [min(k * stride, last) for k in range(count)]
        elif self.max_windows == 1:
            starts = [0]
        else:  # over the cap: spread the allowed windows evenly from start to end
            starts = [round(k * last / (self.max_windows - 1)) for k in range(self.max_windows)]
        texts: list[str] = []
        covered = 0  # tokens [0, covered) are in some window
        lost = False
        for start in starts:
            begin = tokens.word_floor(start, lower=0) if start > 0 else 0
            end = min(n, begin + budget)
            if end < n:
                end = tokens.word_floor(end, lower=begin + 1)
            lost = lost or begin > covered
            covered = max(covered, end)
            texts.append(tokens.slice(begin, end))
        return texts, lost or covered < n


def _tail(tokens: _Tokens, budget: int) -> str:
    """The text itself if it fits in `budget` tokens, else its end from a word start."""
    n = len(tokens)
    if n <= budget:
        return tokens.text
    return tokens.slice(tokens.word_ceil(n - budget, upper=n - 1), n)


def _head_tail(tokens: _Tokens, budget: int) -> str:
    """The text itself if it fits in `budget` tokens, else its head and tail joined by a space."""
    n = len(tokens)
    if n <= budget:
        return tokens.text
    head_end = tokens.word_floor(max(1, int(budget * _HEAD_SHARE)), lower=0)
    tail_start = tokens.word_ceil(n - (budget - head_end), upper=n - 1)
    return tokens.slice(0, head_end) + " " + tokens.slice(tail_start, n)


class PlannedEncoder:
    """A `PairEncoder` that encodes pairs whole when they fit and planned pieces otherwise."""

    def __init__(self, tokenizer: Tokenizer, planner: WindowPlanner, policy: LongInputPolicy):
        if policy is LongInputPolicy.TRUNCATE:
            raise ValueError("the truncate policy is the core's TruncatingEncoder")
        self.tokenizer = tokenizer  # set up by `contract.prepare_tokenizer`
        self.planner = planner
        self.policy = policy
        self.layout = planner.layout
        window = max(planner.max_length, self.layout.max_length if self.layout else 0)
        self._likely_fits_chars = window * _MAX_CHARS_PER_TOKEN
        self._plan = planner.windows if policy is LongInputPolicy.WINDOWS else planner.head_tail
        stride = planner.stride or "auto"
        self.scheme = (
            f"windows:{stride}:{planner.max_windows}"
            if policy is LongInputPolicy.WINDOWS
            else "head_tail"
        ) + layout_scheme(self.layout)

    def __call__(self, pairs: Sequence[Pair]) -> list[EncodedItem]:
        items: list[EncodedItem | None] = [None] * len(pairs)
        # Nearly all traffic fits: one tokenisation with truncation, as in the core encoder; the
        # encoding says when it did not fit after all, and the pair is planned below.
        short = [
            n for n, (p, r) in enumerate(pairs) if len(p) + len(r or "") <= self._likely_fits_chars
        ]
        encoded = encode_pairs(self.tokenizer, [pairs[n] for n in short], self.layout)
        for n, sequence in zip(short, encoded, strict=True):
            if not sequence.truncated:
                items[n] = EncodedItem(sequences=[sequence], truncated=False)
        for n, item in enumerate(items):
            if item is None:
                plan = self._plan(*pairs[n])
                pieces = encode_pairs(self.tokenizer, plan.pieces, self.layout)
                lost = plan.truncated or any(p.truncated for p in pieces)
                items[n] = EncodedItem(sequences=pieces, truncated=lost)
        return [item for item in items if item is not None]


def build_encoder(
    tokenizer: Tokenizer,
    max_length: int,
    *,
    policy: LongInputPolicy,
    stride: int | None,
    max_windows: int,
    layout: PairLayout | None = None,
) -> PairEncoder:
    """The encoder for the configured long-input policy (`tokenizer` already prepared, with
    the artifact's pair `layout` when it has one)."""
    if policy is LongInputPolicy.TRUNCATE:
        return TruncatingEncoder(tokenizer, layout)
    planner = WindowPlanner(
        tokenizer, max_length, stride=stride, max_windows=max_windows, layout=layout
    )
    return PlannedEncoder(tokenizer, planner, policy)
