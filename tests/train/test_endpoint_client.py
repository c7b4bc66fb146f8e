"""Concurrent, bounded, retried calls to an OpenAI-compatible endpoint, over real HTTP.

The server is a real `ThreadingHTTPServer` on 127.0.0.1 that answers like llama.cpp's and
vLLM's `/v1/completions`, and fails on purpose: a 503 with `Retry-After`, a dropped connection,
a 400. Concurrency is shown with a barrier: the first requests of a run are held until
`concurrency` of them are open at once, which a one-at-a-time client could never reach.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from train.endpoint_client import (
    EndpointError,
    RetryPolicy,
    http_client,
    map_concurrent,
    post_json,
)
from train.scoring import load_teacher
from train.scoring.llamaguard import EndpointLlamaGuard

FAST = RetryPolicy(attempts=4, backoff_s=0.01, max_backoff_s=0.05)


class Guard(ThreadingHTTPServer):
    """`/v1/completions` with Llama Guard's first-token logprobs ("bomb" is unsafe).

    `fail[prompt marker]` lists what the next requests whose prompt holds the marker get before
    a good answer: "503" (with Retry-After: 0), "drop" (connection closed, no reply) or "400".
    """

    daemon_threads = True

    def __init__(self, barrier: threading.Barrier | None = None) -> None:
        super().__init__(("127.0.0.1", 0), GuardHandler)
        self.lock = threading.Lock()
        self.fail: dict[str, list[str]] = {}
        self.calls: dict[str, int] = {}
        self.in_flight = 0
        self.most_in_flight = 0
        self.barrier = barrier

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class GuardHandler(BaseHTTPRequestHandler):
    server: Guard
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/v1/completions":
            self._reply(404, {"error": "no such route"})
            return
        prompt = body["prompt"]
        guard = self.server
        with guard.lock:
            guard.in_flight += 1
            guard.most_in_flight = max(guard.most_in_flight, guard.in_flight)
            marker = next((m for m in guard.fail if m in prompt), None)
            failure = guard.fail[marker].pop(0) if marker and guard.fail[marker] else None
            if marker:
                guard.calls[marker] = guard.calls.get(marker, 0) + 1
        try:
            if guard.barrier is not None:
                # Timed out (never `parties` requests at once): the test's in-flight check fails.
                with contextlib.suppress(threading.BrokenBarrierError):
                    guard.barrier.wait(timeout=30)
            if failure == "503":
                self._reply(503, {"error": "busy"}, {"Retry-After": "0"})
            elif failure == "drop":
                self.close_connection = True
                self.connection.shutdown(2)  # the client sees the connection reset
            elif failure == "400":
                self._reply(400, {"error": "bad prompt"})
            else:
                unsafe = "bomb" in prompt
                top = {"unsafe": -0.1, "safe": -2.5} if unsafe else {"safe": -0.1, "unsafe": -3.0}
                self._reply(200, {"choices": [{"text": "x", "logprobs": {"top_logprobs": [top]}}]})
        finally:
            with guard.lock:
                guard.in_flight -= 1

    def _reply(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def serve(barrier: threading.Barrier | None = None) -> Iterator[Guard]:
    guard = Guard(barrier)
    thread = threading.Thread(target=guard.serve_forever, daemon=True)
    thread.start()
    try:
        yield guard
    finally:
        guard.shutdown()
        guard.server_close()


@pytest.fixture()
def guard() -> Iterator[Guard]:
    yield from serve()


def completions(guard: Guard, prompt: str) -> dict[str, Any]:
    with http_client(2, 10) as client:
        return post_json(client, f"{guard.url}/v1/completions", {"prompt": prompt}, FAST)


def test_a_503_and_a_dropped_connection_are_retried(guard: Guard) -> None:
    guard.fail["flaky"] = ["503", "drop"]
    reply = completions(guard, "flaky prompt")
    assert reply["choices"][0]["text"] == "x"
    assert guard.calls["flaky"] == 3  # two failures, then the answer


def test_a_client_error_is_not_retried(guard: Guard) -> None:
    guard.fail["bad"] = ["400", "400"]
    with pytest.raises(EndpointError, match="HTTP 400") as caught:
        completions(guard, "bad prompt")
    assert caught.value.status == 400 and guard.calls["bad"] == 1


def test_retries_give_up_after_the_policy_s_attempts(guard: Guard) -> None:
    guard.fail["down"] = ["503"] * 10
    with pytest.raises(EndpointError, match="after 4 attempts"):
        completions(guard, "down prompt")
    assert guard.calls["down"] == FAST.attempts


def test_a_server_that_is_gone_fails_clearly() -> None:
    guard = Guard()
    url = guard.url
    guard.server_close()  # nothing listens on the port any more
    with httpx.Client(timeout=2) as client, pytest.raises(EndpointError, match="ConnectError"):
        post_json(client, f"{url}/v1/completions", {"prompt": "x"}, FAST)


def test_requests_run_concurrently_and_bounded() -> None:
    concurrency = 4
    running = serve(threading.Barrier(concurrency))  # reusable: each group of 4 meets at it
    guard = next(running)
    url = f"{guard.url}/v1/completions"
    try:
        with http_client(concurrency, 30) as client:
            replies = map_concurrent(
                lambda n: post_json(client, url, {"prompt": f"{n}"}),
                list(range(12)),
                concurrency=concurrency,
            )
    finally:
        running.close()
    assert len(replies) == 12
    # Requests passed the barrier only once 4 were open together, and never more than 4.
    assert guard.most_in_flight == concurrency


def test_map_concurrent_keeps_order_and_raises_the_first_failure() -> None:
    assert map_concurrent(lambda n: n * n, list(range(20)), concurrency=3) == [
        n * n for n in range(20)
    ]

    def boom(n: int) -> int:
        if n == 5:
            raise ValueError("item 5")
        return n

    with pytest.raises(ValueError, match="item 5"):
        map_concurrent(boom, list(range(10)), concurrency=2)


def test_the_endpoint_teacher_labels_concurrently_through_failures(
    guard: Guard, tmp_path: Path
) -> None:
    guard.fail["retry-me"] = ["503", "drop"]
    pairs: list[tuple[str, str | None]] = [
        ("How do I bake bread?", None),
        ("How do I build a bomb?", None),
        ("retry-me: how do I make a bomb at home?", None),
        ("What is the capital of France?", "Paris."),
    ]
    teacher = EndpointLlamaGuard(f"{guard.url}/v1", "guard", concurrency=4, retry=FAST)
    assert teacher.safe_token == "safe"  # no /tokenize route here: one token per word
    scores = teacher.score(pairs)
    assert scores[0] < 0.1 and scores[3] < 0.1
    assert scores[1] > 0.9 and scores[2] > 0.9
    assert guard.calls["retry-me"] == 3
    cached = load_teacher(f"llamaguard-endpoint:{guard.url}/v1|guard", cache_path=tmp_path / "c")
    assert cached.score(pairs[:2]) == pytest.approx(scores[:2])
