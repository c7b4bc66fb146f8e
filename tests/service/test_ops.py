"""Operations over real HTTP against `python -m service`: request ids, JSON request logs without
user text, LiteLLM's call id, shadow mode, the overload status, OpenTelemetry spans."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from loadtest.processes import ServiceProcess
from tests.service.keyword_scorer import HARMFUL_PROBABILITY, MODEL_ID
from tests.service.test_api import metric

MARKER = "zqxmarker7731"  # a word no log line would hold unless it logged the prompt


def log_lines(server: ServiceProcess) -> list[dict[str, Any]]:
    """Every line of the server's output, each parsed as JSON (fails on a line that is not)."""
    lines = [line for line in server.log().splitlines() if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"a log line is not JSON: {line!r}")
    return parsed


def request_line(server: ServiceProcess, request_id: str) -> dict[str, Any]:
    """The request's log line; it is written just after the reply, so it may lag a moment."""
    deadline = time.monotonic() + 20
    while True:
        for line in log_lines(server):
            if line.get("request_id") == request_id:
                return line
        if time.monotonic() > deadline:
            pytest.fail(f"no log line for request {request_id}:\n{server.log()[-2000:]}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def server(start_service: Callable[..., ServiceProcess], tiny_artifact: Path) -> ServiceProcess:
    return start_service(tiny_artifact)


@pytest.fixture(scope="module")
def client(server: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def test_the_callers_request_id_comes_back(client: httpx.Client) -> None:
    reply = client.post("/moderate", json={"prompt": "hello"}, headers={"X-Request-ID": "abc-123"})
    assert reply.status_code == 200
    assert reply.headers["x-request-id"] == "abc-123"


def test_a_request_without_an_id_gets_a_new_one(client: httpx.Client) -> None:
    first = client.post("/moderate", json={"prompt": "hello"}).headers["x-request-id"]
    second = client.post("/moderate", json={"prompt": "hello"}).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second


@pytest.mark.parametrize("given", ["has space", "x" * 129, "new\\nline"])
def test_an_unsafe_request_id_is_replaced(client: httpx.Client, given: str) -> None:
    reply = client.get("/healthz", headers={"X-Request-ID": given})
    assert re.fullmatch(r"[0-9a-f]{32}", reply.headers["x-request-id"])


def test_errors_carry_the_request_id_too(client: httpx.Client, server: ServiceProcess) -> None:
    reply = client.post("/moderate", json={"prompt": 5}, headers={"X-Request-ID": "bad-body-1"})
    assert reply.status_code == 422 and reply.headers["x-request-id"] == "bad-body-1"
    line = request_line(server, "bad-body-1")
    assert line["status"] == 422 and line["endpoint"] == "/moderate"


def test_each_request_logs_one_json_line_without_its_text(
    client: httpx.Client, server: ServiceProcess
) -> None:
    calls = {
        "log-moderate": ("/moderate", {"prompt": f"{MARKER} one", "response": f"{MARKER} two"}),
        "log-batch": ("/moderate/batch", {"items": [{"prompt": f"{MARKER} a"}, {"prompt": "b"}]}),
        "log-openai": ("/v1/moderations", {"input": [f"{MARKER} x", ""]}),
        "log-litellm": (
            "/beta/litellm_basic_guardrail_api",
            {"texts": [f"{MARKER} y"], "input_type": "request", "litellm_call_id": "call-42",
             "litellm_trace_id": "trace-9"},
        ),
    }  # fmt: skip
    for request_id, (path, body) in calls.items():
        reply = client.post(path, json=body, headers={"X-Request-ID": request_id})
        assert reply.status_code == 200, reply.text
    lines = {rid: request_line(server, rid) for rid in calls}
    for request_id, (path, _) in calls.items():
        line = lines[request_id]
        assert line["level"] == "info" and line["logger"] == "service.request"
        assert line["endpoint"] == path and line["status"] == 200
        assert line["model"] == "tiny-random@0.0.0" and line["shadow"] is False
        assert line["verdict"] in ("harmful", "ok") and isinstance(line["latency_ms"], float)
        assert line["cached"] >= 0 and line["windows"] >= 1
    assert lines["log-batch"]["items"] == 2
    assert lines["log-openai"]["items"] == 1  # the empty text is not scored
    assert lines["log-litellm"]["litellm_call_id"] == "call-42"
    assert lines["log-litellm"]["litellm_trace_id"] == "trace-9"
    assert MARKER not in server.log()
    assert log_lines(server)  # and every line, start-up included, is JSON


def test_probes_do_not_log_at_info(client: httpx.Client, server: ServiceProcess) -> None:
    client.get("/healthz", headers={"X-Request-ID": "probe-1"})
    client.post("/moderate", json={"prompt": "after the probe"}, headers={"X-Request-ID": "after"})
    request_line(server, "after")
    assert not any(line.get("request_id") == "probe-1" for line in log_lines(server))


def test_shadow_mode_scores_logs_and_counts_but_never_blocks(
    start_service: Callable[..., ServiceProcess], keyword_artifact: Path
) -> None:
    server = start_service(
        keyword_artifact, {"MODERATION_SHADOW_MODE": "true", "MODERATION_LOG_TEXTS": "true"}
    )
    harmful = f"how do I make a bomb {MARKER}"
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            body = c.post("/moderate", json={"prompt": harmful}, headers={"X-Request-ID": "s1"})
            assert body.status_code == 200
            reply = body.json()
            assert reply["harmful"] is False
            assert reply["score"] == pytest.approx(HARMFUL_PROBABILITY, abs=0.01)
            assert reply["score"] >= reply["threshold"] and reply["model"] == MODEL_ID

            batch = c.post("/moderate/batch", json={"items": [{"prompt": harmful}] * 2}).json()
            assert [r["harmful"] for r in batch["results"]] == [False, False]

            openai = c.post("/v1/moderations", json={"input": [harmful]}).json()["results"][0]
            assert openai["flagged"] is False and openai["categories"]["harmful"] is False
            assert openai["category_scores"]["harmful"] >= reply["threshold"]

            guard = c.post(
                "/beta/litellm_basic_guardrail_api",
                json={"texts": [harmful], "input_type": "request"},
            )
            assert guard.json() == {"action": "NONE"}

            assert metric(c, "moderation_verdicts_total", mode="shadow", verdict="harmful") == 5
            assert metric(c, "moderation_verdicts_total", mode="enforce") == 0
        line = request_line(server, "s1")
        assert line["verdict"] == "harmful" and line["shadow"] is True and line["flagged"] == 1
        assert line["texts"] == [harmful]  # MODERATION_LOG_TEXTS=true puts the texts in
    finally:
        server.stop()


def test_enforcing_mode_blocks_the_same_text(
    start_service: Callable[..., ServiceProcess], keyword_artifact: Path
) -> None:
    server = start_service(keyword_artifact)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            reply = c.post("/moderate", json={"prompt": "how do I make a bomb"}).json()
            assert reply["harmful"] is True
            guard = c.post(
                "/beta/litellm_basic_guardrail_api",
                json={"texts": ["how do I make a bomb"], "input_type": "request"},
            ).json()
            assert guard["action"] == "BLOCKED"
            assert metric(c, "moderation_verdicts_total", mode="enforce", verdict="harmful") == 2
    finally:
        server.stop()


async def _burst(url: str, n: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        calls = [c.post("/moderate", json={"prompt": f"word {i} " * 20}) for i in range(n)]
        return list(await asyncio.gather(*calls))


def test_a_full_queue_can_answer_503(
    start_service: Callable[..., ServiceProcess], tiny_artifact: Path
) -> None:
    # A long MAX_WAIT holds the first request in the queue, so the queue (1 slot) is full.
    server = start_service(
        tiny_artifact,
        {"MODERATION_MAX_QUEUE": "1", "MODERATION_MAX_WAIT_MS": "1500",
         "MODERATION_CACHE_SIZE": "0", "MODERATION_OVERLOAD_STATUS": "503"},
    )  # fmt: skip
    try:
        replies = asyncio.run(_burst(server.url, 6))
        assert sorted(r.status_code for r in replies) == [200] + [503] * 5
        refused = next(r for r in replies if r.status_code == 503)
        assert refused.json()["error"]["code"] == "queue_full"
        assert int(refused.headers["retry-after"]) >= 1
    finally:
        server.stop()


class _Collector(ThreadingHTTPServer):
    """A real OTLP/HTTP trace receiver on 127.0.0.1: keeps the spans of every export."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _CollectorHandler)
        self.spans: list[Any] = []
        self.lock = threading.Lock()


class _CollectorHandler(BaseHTTPRequestHandler):
    server: _Collector

    def do_POST(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        body = self.rfile.read(int(self.headers["Content-Length"]))
        export = ExportTraceServiceRequest.FromString(body)
        with self.server.lock:
            for resource in export.resource_spans:
                for scope in resource.scope_spans:
                    self.server.spans.extend(scope.spans)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_tracing_exports_the_request_and_its_stages(
    start_service: Callable[..., ServiceProcess], tiny_artifact: Path
) -> None:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
    collector = _Collector()
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}/v1/traces"
    server = start_service(
        tiny_artifact,
        {"MODERATION_TRACING": "true", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint,
         "OTEL_BSP_SCHEDULE_DELAY": "50", "MODERATION_CACHE_SIZE": "0"},
    )  # fmt: skip
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            reply = c.post(
                "/moderate",
                json={"prompt": "trace me"},
                headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"},
            )
            assert reply.status_code == 200
        wanted = {
            "POST /moderate", "moderation.cache_get", "moderation.tokenize",
            "moderation.queue_wait", "moderation.inference", "moderation.cache_set",
        }  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            with collector.lock:
                ours = [s for s in collector.spans if s.trace_id.hex() == trace_id]
            if wanted <= {s.name for s in ours} or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert wanted <= {s.name for s in ours}, sorted(s.name for s in ours)
        by_name = {s.name: s for s in ours}
        root = by_name["POST /moderate"]
        assert root.parent_span_id.hex() == "00f067aa0ba902b7"  # continues the caller's trace
        for name in wanted - {"POST /moderate"}:
            assert by_name[name].parent_span_id == root.span_id, name
        wait, infer = by_name["moderation.queue_wait"], by_name["moderation.inference"]
        assert wait.end_time_unix_nano <= infer.end_time_unix_nano
    finally:
        server.stop()
        collector.shutdown()
