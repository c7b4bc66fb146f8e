"""Abuse and shutdown over real HTTP against `python -m service` (issue 17).

Hostile bodies, clients that leave, oversized and slow headers, requests over the window budget,
and SIGTERM. Each asserts hard functional properties (status codes, reply sizes, exit within
the configured bound); speed figures are printed by `python -m loadtest.reliability`.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from loadtest.reliability import exchange
from tests.service.test_api import metric

MAX_ITEMS = 8
JSON_ENDPOINTS = {
    "/moderate": "prompt",
    "/moderate/batch": "items",
    "/v1/moderations": "input",
    "/beta/litellm_basic_guardrail_api": "texts",
}


@pytest.fixture(scope="module")
def server(start_service: Any, tiny_artifact: Path) -> Any:
    return start_service(
        tiny_artifact,
        {
            "MODERATION_MAX_BATCH_ITEMS": str(MAX_ITEMS),
            "MODERATION_MAX_REQUEST_WINDOWS": "16",
            "MODERATION_HEADER_TIMEOUT_SECONDS": "1",
            "MODERATION_BODY_TIMEOUT_SECONDS": "1",
            "MODERATION_MAX_HEADER_BYTES": "8192",
            "MODERATION_LOG_LEVEL": "debug",
        },
    )


@pytest.fixture(scope="module")
def client(server: Any) -> Any:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


@pytest.mark.parametrize("path", list(JSON_ENDPOINTS))
def test_deeply_nested_json_is_a_400_on_every_json_endpoint(
    client: httpx.Client, path: str
) -> None:
    deep = "[" * 5000 + "]" * 5000
    for body in (f'{{"{JSON_ENDPOINTS[path]}": {deep}}}', deep, '{"a":' * 3000 + "1" + "}" * 3000):
        reply = client.post(path, content=body, headers={"content-type": "application/json"})
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"]["code"] == "invalid_json"


def test_a_huge_invalid_batch_gets_a_small_4xx(client: httpx.Client) -> None:
    body = b'{"items": [' + b",".join([b"{}"] * 2_000_000) + b"]}"
    started = time.perf_counter()
    reply = client.post(
        "/moderate/batch", content=body, headers={"content-type": "application/json"}
    )
    took_ms = (time.perf_counter() - started) * 1000
    server_ms = float(reply.headers["server-timing"].split("dur=")[1])
    print(f"\n2M-item batch (6 MB): {reply.status_code} in {took_ms:.0f} ms "
          f"({server_ms:.0f} ms server-side), reply {len(reply.content)} bytes")  # fmt: skip
    assert reply.status_code == 422
    assert len(reply.content) < 64 * 1024
    assert "MODERATION_MAX_JSON_VALUES" in reply.json()["error"]["message"]


@pytest.mark.parametrize(("path", "status"), [("/moderate/batch", 422), ("/v1/moderations", 400)])
def test_an_overlong_list_is_refused_by_its_length(
    client: httpx.Client, path: str, status: int
) -> None:
    # Invalid items too: the length alone decides, so there is one error, not one per item.
    items = [{"bad": n} for n in range(1000)]
    reply = client.post(path, json={JSON_ENDPOINTS[path]: items})
    assert reply.status_code == status
    error = reply.json()["error"]
    assert f"the limit is {MAX_ITEMS}" in error["message"]
    assert len(error["details"]) == 1


def test_validation_errors_are_capped_with_a_total(client: httpx.Client) -> None:
    items = [{"prompt": 1, "response": 2, "extra": 3} for _ in range(MAX_ITEMS)]
    reply = client.post("/moderate/batch", json={"items": items})
    assert reply.status_code == 422
    error = reply.json()["error"]
    assert len(error["details"]) == 20
    assert int(reply.headers["x-error-count"]) == 3 * MAX_ITEMS
    assert error["message"].endswith(f"(and {3 * MAX_ITEMS - 20} more errors)")


def test_clients_leaving_mid_body_are_499s_not_server_errors(
    client: httpx.Client, server: Any
) -> None:
    head = b"POST /moderate HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
    before = metric(client, "moderation_requests_total", endpoint="/moderate", status="499")
    for _ in range(20):
        exchange(server.port, head + b'Content-Length: 500\r\n\r\n{"prompt": "ha', close_after_s=0)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = metric(client, "moderation_requests_total", endpoint="/moderate", status="499")
        if left - before == 20:
            break
        time.sleep(0.05)
    assert left - before == 20
    assert metric(client, "moderation_requests_total", status="500") == 0
    log = server.log()
    assert "Traceback" not in log
    lines = [json.loads(line) for line in log.splitlines() if '"status":499' in line]
    assert len(lines) >= 20 and {line["level"] for line in lines} == {"debug"}  # once each


def test_a_request_over_the_window_budget_is_refused_before_tokenising(
    client: httpx.Client,
) -> None:
    text = "lorem ipsum dolor sit amet " * 1150  # ~31,000 characters: many windows each
    bodies = {
        "/moderate/batch": {"items": [{"prompt": text}] * 4},
        "/v1/moderations": {"input": [text] * 4},
        "/beta/litellm_basic_guardrail_api": {"input_type": "request", "texts": [text] * 4},
    }
    for path, body in bodies.items():
        reply = client.post(path, json=body)
        assert reply.status_code == 413, (path, reply.text)
        error = reply.json()["error"]
        assert error["code"] == "too_many_windows"
        assert "MODERATION_MAX_REQUEST_WINDOWS" in error["message"]
    # One such text fits the budget (16) and is scored.
    assert client.post("/moderate", json={"prompt": text[:2000]}).status_code == 200


def test_oversized_and_slow_headers_are_cut_off(server: Any) -> None:
    big = exchange(server.port, b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n")
    assert big == b"" or big.startswith(b"HTTP/1.1 431 ")  # or reset before it was read
    started = time.monotonic()
    slow = exchange(server.port, b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
    assert slow.startswith(b"HTTP/1.1 408 ")
    silent = exchange(server.port, b"")
    assert silent.startswith(b"HTTP/1.1 408 ")
    print(f"\nslow headers cut off after {time.monotonic() - started:.1f} s (two, 1 s limit)")


def test_sigterm_drains_then_exits_within_the_bound(
    start_service: Any, tiny_artifact: Path
) -> None:
    drain_s, bound_s = 1.5, 6.0
    server = start_service(
        tiny_artifact,
        {
            "MODERATION_SHUTDOWN_DRAIN_SECONDS": str(drain_s),
            "MODERATION_SHUTDOWN_TIMEOUT_SECONDS": str(bound_s),
            # Slow clients are held past the bound unless the shutdown cuts them off.
            "MODERATION_BODY_TIMEOUT_SECONDS": "60",
            "MODERATION_HEADER_TIMEOUT_SECONDS": "60",
        },
    )
    slow = []
    for _ in range(3):  # clients holding a half-sent body
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"POST /moderate HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b'Content-Length: 100\r\n\r\n{"prompt": ')  # fmt: skip
        slow.append(sock)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            assert c.get("/readyz").status_code == 200
            server.proc.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            time.sleep(0.3)
            assert c.get("/readyz").status_code == 503  # the listener is still open
            body = {"prompt": "still served while draining"}
            assert c.post("/moderate", json=body).status_code == 200
        code = server.proc.wait(bound_s + 5)
        took = time.monotonic() - signalled
        print(f"\nSIGTERM: exit {code} after {took:.1f} s (drain {drain_s} s, bound {bound_s} s)")
        assert code == 0
        assert took < bound_s + 2  # the bound, plus the app's own shutdown
    except subprocess.TimeoutExpired:
        pytest.fail("the server did not exit after SIGTERM")
    finally:
        for sock in slow:
            sock.close()
        server.stop()


def test_a_body_with_too_many_values_is_refused_before_parsing(client: httpx.Client) -> None:
    # Many values in a field the schema ignores (LiteLLM's request_data): still refused.
    body = {"input_type": "request", "texts": ["hi"], "request_data": {"x": [0] * 50_000}}
    reply = client.post("/beta/litellm_basic_guardrail_api", content=json.dumps(body).encode(),
                        headers={"content-type": "application/json"})  # fmt: skip
    assert reply.status_code == 422
    assert "MODERATION_MAX_JSON_VALUES" in reply.json()["error"]["message"]
