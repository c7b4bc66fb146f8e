"""The prompt mix: real prompts from the data dir, a synthetic fallback, repeats, the token cap."""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

import pytest

from loadtest.prompts import (
    PromptStream,
    build_prompt_mix,
    cap_tokens,
    load_prompts,
    save_prompts,
    synthetic_prompts,
)


def test_real_mix_comes_from_the_data_dir(data_dir: Path) -> None:
    prompts, source = build_prompt_mix(data_dir, n=500)
    assert len(prompts) == 500
    assert "ToxicChat" in source
    assert len(set(prompts)) > 450  # shuffled real prompts, not one repeated line


def test_synthetic_fallback_has_chat_like_lengths(tmp_path: Path) -> None:
    prompts, source = build_prompt_mix(tmp_path / "missing", n=2000)
    assert "synthetic" in source
    words = [len(p.split()) for p in prompts]
    assert 8 <= statistics.median(words) <= 20
    assert max(words) > 60  # a long tail, like ToxicChat
    assert prompts == synthetic_prompts(2000)  # deterministic


def test_repeat_share_controls_hot_repeats() -> None:
    prompts = [f"prompt {i}" for i in range(1000)]
    stream = PromptStream(prompts, repeat_share=0.3, hot=10, seed=1)
    drawn = [next(stream) for _ in range(5000)]
    hot = sum(1 for p in drawn if int(p.split()[1]) < 10)
    assert 0.26 < hot / len(drawn) < 0.34
    fresh = Counter(p for p in drawn if int(p.split()[1]) >= 10)
    assert max(fresh.values()) == 1  # fresh prompts are never repeated


def test_fresh_prompts_never_repeat() -> None:
    stream = PromptStream(["a", "b", "c", "d"], repeat_share=0.0, hot=1)
    assert [next(stream) for _ in range(7)] == ["b", "c", "d", "b (1)", "c (1)", "d (1)", "b (2)"]


def test_bad_repeat_share_is_rejected() -> None:
    with pytest.raises(ValueError, match="repeat_share"):
        PromptStream(["a"], repeat_share=1.5)


def test_cap_tokens_cuts_long_prompts_only(tiny_artifact: Path) -> None:
    from tokenizers import Tokenizer

    long = "word " * 2000
    capped = cap_tokens(["short prompt", long], tiny_artifact / "tokenizer.json", 100)
    assert capped[0] == "short prompt"
    tokenizer = Tokenizer.from_file(str(tiny_artifact / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    assert len(tokenizer.encode(capped[1], add_special_tokens=False).ids) == 100


def test_prompts_file_round_trip(tmp_path: Path) -> None:
    save_prompts(tmp_path / "p.json", ["x", "y"], "test")
    assert load_prompts(tmp_path / "p.json") == (["x", "y"], "test")


def test_first_pass_keeps_runs_apart() -> None:
    first = PromptStream(["a", "b", "c"], hot=1, first_pass=0)
    later = PromptStream(["a", "b", "c"], hot=1, first_pass=100)
    seen = {next(first) for _ in range(50)}
    assert not seen & {next(later) for _ in range(50)}
