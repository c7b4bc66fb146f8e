"""The OpenAI-compatible backend over real HTTP.

A small `/v1/completions` server (the protocol of vLLM and llama.cpp's server) runs the tiny
generator in-process; `EndpointGenerator` renders the paper's prompt with the model's chat
template, sends it as raw text and gets the instructions the model was fitted to produce.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.train.augment.conftest import EVAL_PROMPT, HARMFUL
from train.augment.cleanup import extract_instruction
from train.augment.generators import EndpointGenerator, SamplingParams, TransformersGenerator
from train.augment.prompts import PromptVariant, instruction_prompt


@pytest.fixture(scope="module")
def completions_server(tiny_generator: Path) -> Iterator[str]:
    model = TransformersGenerator(str(tiny_generator), batch_size=8)
    lock = threading.Lock()
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(body)
            if self.path != "/v1/completions":
                self.send_error(404)
                return
            params = SamplingParams(
                body["max_tokens"], body["temperature"], body["top_p"], body.get("seed", 0)
            )
            with lock:  # one forward at a time, like llama.cpp's server
                (completion,) = model.complete([body["prompt"]], params)
            payload = json.dumps({
                "choices": [{"text": completion.text, "index": 0}],
                "usage": {"completion_tokens": completion.tokens},
            }).encode()  # fmt: skip
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_endpoint_backend_generates_through_the_chat_template(
    completions_server: str, tiny_generator: Path
) -> None:
    gen = EndpointGenerator(completions_server, "tiny", str(tiny_generator), concurrency=4)
    prompt = instruction_prompt(gen.templater, PromptVariant(), {}, random.Random(0))
    assert prompt.endswith("<|im_start|>assistant\nI have an idea for a prompt:")
    out = gen.complete([prompt] * 8, SamplingParams(24, 1.0, 0.95, seed=7))
    texts = {extract_instruction(c.text) for c in out}
    assert texts <= {*HARMFUL, EVAL_PROMPT} and texts
    assert gen.stats.samples == 8 and gen.stats.tokens > 0
