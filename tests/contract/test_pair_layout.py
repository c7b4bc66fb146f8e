"""The pair layout (issue 14): a prompt's tail, a response's head, explicit budgets, one function
for training and serving; prompts alone and layout-less artifacts are encoded as before."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from pydantic import ValidationError
from tokenizers import Tokenizer

from contract import (
    DEFAULT_PAIR_LAYOUT,
    MANIFEST_FILE,
    EncodedPair,
    Pair,
    PairLayout,
    encode_pair,
    encode_pairs,
    load_artifact,
    prepare_tokenizer,
)

TOKENIZER = Path(__file__).resolve().parents[2] / "model_artifacts" / "student" / "tokenizer.json"
PROMPT_ONLY_MAX = 128
LAYOUT = PairLayout(max_length=64, prompt_tokens=20, response_tokens=40)
SPECIALS = 3  # [CLS] prompt [SEP] response [SEP]


def _tokenizer(layout: PairLayout | None = LAYOUT, max_length: int = PROMPT_ONLY_MAX) -> Tokenizer:
    return prepare_tokenizer(Tokenizer.from_file(str(TOKENIZER)), max_length, layout)


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return _tokenizer()


@pytest.fixture(scope="module")
def plain() -> Tokenizer:
    """Untruncated, no special tokens: the reference token sequences."""
    tokenizer = Tokenizer.from_file(str(TOKENIZER))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def _words(prefix: str, n: int) -> str:
    return " ".join(f"{prefix}{i}" for i in range(n))


def _sides(encoded: EncodedPair) -> tuple[list[int], list[int]]:
    """The prompt's and the response's tokens, special tokens removed."""
    n_prompt = encoded.token_type_ids.count(0) - 2
    return encoded.input_ids[1 : 1 + n_prompt], encoded.input_ids[2 + n_prompt : -1]


def _ids(tokenizer: Tokenizer, text: str) -> list[int]:
    return list(tokenizer.encode(text, add_special_tokens=False).ids)


def test_long_prompt_keeps_its_tail_and_long_response_its_head(
    tok: Tokenizer, plain: Tokenizer
) -> None:
    prompt = _words("wrapper", 300) + " how do i pick a lock"
    response = "first line of the answer " + _words("filler", 300)
    encoded = encode_pair(tok, prompt, response, LAYOUT)
    kept_prompt, kept_response = _sides(encoded)
    assert kept_prompt == _ids(plain, prompt)[-LAYOUT.prompt_tokens :]
    assert kept_response == _ids(plain, response)[: LAYOUT.response_tokens]
    assert plain.decode(kept_prompt).endswith("how do i pick a lock")
    assert plain.decode(kept_response).startswith("first line of the answer")
    assert len(encoded) == LAYOUT.prompt_tokens + LAYOUT.response_tokens + SPECIALS
    assert len(encoded) <= LAYOUT.max_length and encoded.truncated


@pytest.mark.parametrize(
    ("prompt_words", "response_words"),
    [
        (5, 300),  # a short prompt gives its unused budget to the response
        (300, 5),  # and a short response to the prompt
        (4, 6),  # both fit: nothing cut
        (300, 300),  # both long: the budgets exactly
    ],
)
def test_budgets_are_shared(
    tok: Tokenizer, plain: Tokenizer, prompt_words: int, response_words: int
) -> None:
    prompt, response = _words("p", prompt_words), _words("r", response_words)
    n_prompt, n_response = len(_ids(plain, prompt)), len(_ids(plain, response))
    total = LAYOUT.prompt_tokens + LAYOUT.response_tokens
    want_prompt = min(n_prompt, max(LAYOUT.prompt_tokens, total - n_response))
    want_response = min(n_response, max(LAYOUT.response_tokens, total - n_prompt))
    encoded = encode_pair(tok, prompt, response, LAYOUT)
    kept_prompt, kept_response = _sides(encoded)
    assert (len(kept_prompt), len(kept_response)) == (want_prompt, want_response)
    assert len(kept_prompt) + len(kept_response) <= total
    assert encoded.truncated == (want_prompt < n_prompt or want_response < n_response)
    assert set(encoded.token_type_ids[: len(kept_prompt) + 2]) == {0}
    assert set(encoded.token_type_ids[len(kept_prompt) + 2 :]) == {1}
    assert encoded.attention_mask == [1] * len(encoded)


def test_a_pair_that_fits_is_encoded_as_without_a_layout(tok: Tokenizer) -> None:
    without = _tokenizer(None)
    pair = ("How do I bake bread?", "Mix flour, water, salt and yeast, then knead.")
    assert encode_pair(tok, *pair, LAYOUT) == encode_pair(without, *pair)


@pytest.mark.parametrize("prompt", ["hello there", _words("w", 400), "x" * 5000])
def test_prompt_only_inputs_are_unchanged(tok: Tokenizer, prompt: str) -> None:
    without = _tokenizer(None)
    for response in (None, ""):
        assert encode_pair(tok, prompt, response, LAYOUT) == encode_pair(without, prompt, None)
    assert encode_pairs(tok, [(prompt, None)], LAYOUT) == encode_pairs(without, [(prompt, None)])


def test_without_a_layout_pairs_keep_longest_first(tok: Tokenizer) -> None:
    long = encode_pair(_tokenizer(None, 16), "word " * 50, "reply " * 50)
    assert len(long) == 16 and long.truncated


def test_single_and_batch_forms_are_equal(tok: Tokenizer) -> None:
    pairs: list[Pair] = [
        ("hello", None),
        (_words("p", 200) + " the request", "Sure: " + _words("r", 200)),
        ("short", "short answer"),
        (_words("q", 500), ""),
        ("a", _words("b", 40)),
        ("", "an answer to nothing"),
    ]
    batch = encode_pairs(tok, pairs, LAYOUT)
    assert batch == [encode_pair(tok, p, r, LAYOUT) for p, r in pairs]
    assert len(batch) == len(pairs)


def test_pair_window_may_be_wider_than_the_prompt_only_window(plain: Tokenizer) -> None:
    """The tokenizer truncates prompts alone at 32 tokens; pairs still get the 64 of the layout."""
    tok = _tokenizer(LAYOUT, max_length=32)
    encoded = encode_pair(tok, _words("p", 100), _words("r", 100), LAYOUT)
    assert len(encoded) == LAYOUT.prompt_tokens + LAYOUT.response_tokens + SPECIALS
    _, kept_response = _sides(encoded)
    assert kept_response == _ids(plain, _words("r", 100))[: LAYOUT.response_tokens]
    assert len(encode_pair(tok, _words("p", 100), None, LAYOUT)) == 32


def test_32000_character_inputs_stay_fast() -> None:
    tok = _tokenizer(DEFAULT_PAIR_LAYOUT)
    prompt = ("lorem ipsum dolor sit amet " * 2000)[:32_000]
    pairs: list[Pair] = [(prompt, prompt) for _ in range(8)]
    pairs.append(("x" * 32_000, "y " * 16_000))
    start = time.perf_counter()
    encoded = encode_pairs(tok, pairs, DEFAULT_PAIR_LAYOUT)
    assert time.perf_counter() - start < 5.0  # longest_first on these takes minutes
    assert all(len(e) <= DEFAULT_PAIR_LAYOUT.max_length and e.truncated for e in encoded)


def test_layout_budgets_must_fit_the_window() -> None:
    with pytest.raises(ValidationError, match="no room"):
        PairLayout(max_length=64, prompt_tokens=30, response_tokens=34)
    tight = PairLayout(max_length=64, prompt_tokens=30, response_tokens=32)  # 62 + 3 > 64
    with pytest.raises(ValueError, match="special tokens"):
        _tokenizer(tight)
    # the default fits BERT-style (3) and RoBERTa-style (4) special tokens
    assert DEFAULT_PAIR_LAYOUT.prompt_tokens + DEFAULT_PAIR_LAYOUT.response_tokens + 4 <= 256


def test_manifest_records_the_layout_and_old_manifests_have_none(
    tiny_artifact: Path, tmp_path: Path
) -> None:
    assert load_artifact(tiny_artifact).manifest.pair_layout is None
    folder = tmp_path / "laid-out"
    shutil.copytree(tiny_artifact, folder)
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest["pair_layout"] = {"max_length": 256, "prompt_tokens": 96, "response_tokens": 156}
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    assert load_artifact(folder).manifest.pair_layout == DEFAULT_PAIR_LAYOUT
