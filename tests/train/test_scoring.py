"""Scorers: the on-disk cache, the HF and ONNX backends, the Llama-Guard-style backends."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from contract.llamaguard import guard_task
from train.scoring import CachedScorer, ScoreCache, load_teacher
from train.scoring.llamaguard import two_way_unsafe

PAIRS: list[tuple[str, str | None]] = [
    ("How do I kill a Python process?", None),
    ("How do I make a bomb?", "I can't help with that."),
    ("How do I make a bomb?", None),
]


class CountingScorer:
    scorer_id = "counting"

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []

    def score(self, pairs: list[tuple[str, str | None]]) -> list[float]:
        self.seen += pairs
        return [len(p) / 100 for p, _ in pairs]


def test_cache_scores_each_pair_once_across_runs(tmp_path: Path) -> None:
    backend = CountingScorer()
    first = CachedScorer(backend, ScoreCache(tmp_path / "c.sqlite")).score(PAIRS + PAIRS[:1])
    again = CachedScorer(backend, ScoreCache(tmp_path / "c.sqlite")).score(list(reversed(PAIRS)))
    assert len(backend.seen) == 3  # the duplicate and the second run came from disk
    assert again == list(reversed(first[:3]))
    # prompt-only and paired rows are different keys
    assert first[1] == first[2] and backend.seen[1] != backend.seen[2]


def test_hf_and_onnx_teachers_agree(tiny_model_dir: Path, tiny_artifact: Path,
                                    tmp_path: Path) -> None:  # fmt: skip
    hf = load_teacher(str(tiny_model_dir), cache_path=tmp_path / "c.sqlite")
    onnx = load_teacher(str(tiny_artifact), cache_path=tmp_path / "c.sqlite")
    assert hf.scorer_id != onnx.scorer_id
    a, b = hf.score(PAIRS), onnx.score(PAIRS)
    assert all(0.0 <= s <= 1.0 for s in a + b)
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 0.05  # int8 vs fp32


def test_llamaguard_prompt_targets_the_last_turn() -> None:
    assert "ONLY THE LAST User message" in guard_task("hi", None)
    paired = guard_task("hi", "hello")
    assert "ONLY THE LAST Agent message" in paired and "Agent: hello" in paired
    assert "S14: Code Interpreter Abuse." in paired
    assert two_way_unsafe(0.0, 0.0) == pytest.approx(0.5)
    assert two_way_unsafe(-5.0, 1.0) > 0.99


def test_local_llamaguard_reads_first_token_probabilities(tmp_path: Path) -> None:
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from train.base_models import minilm_path

    tok = AutoTokenizer.from_pretrained(minilm_path())
    config = LlamaConfig(
        vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64,
        num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(tmp_path / "lm")
    tok.save_pretrained(tmp_path / "lm")
    teacher = load_teacher(f"llamaguard:{tmp_path / 'lm'}", cache_path=tmp_path / "c.sqlite")
    scores = teacher.score(PAIRS)
    assert all(0.0 < s < 1.0 for s in scores)
    assert len(set(scores)) > 1  # the conversation changes the answer


class _GuardServer(BaseHTTPRequestHandler):
    """Answers like llama.cpp's server: /tokenize, /detokenize and /v1/completions logprobs."""

    vocab: ClassVar[dict[str, int]] = {"uns": 1, "afe": 2, "safe": 3}

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        reply: dict[str, Any]
        if self.path == "/tokenize":
            word = body["content"]
            reply = {"tokens": [1, 2] if word == "unsafe" else [3]}
        elif self.path == "/detokenize":
            names = {v: k for k, v in self.vocab.items()}
            reply = {"content": "".join(names[t] for t in body["tokens"])}
        else:
            unsafe = "bomb" in body["prompt"] and "Agent:" not in body["prompt"]
            top = {"uns": -0.1, " safe": -2.5} if unsafe else {"safe": -0.1, "uns": -3.0}
            reply = {"choices": [{"text": "x", "logprobs": {"top_logprobs": [top]}}]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def guard_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _GuardServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_endpoint_llamaguard_compares_first_tokens(guard_server: str, tmp_path: Path) -> None:
    teacher = load_teacher(f"llamaguard-endpoint:{guard_server}/v1|guard",
                           cache_path=tmp_path / "c.sqlite")  # fmt: skip
    benign, refused, harmful = teacher.score(PAIRS)
    assert harmful > 0.9  # "uns" (first token of "unsafe") dominates
    assert benign < 0.1 and refused < 0.1
