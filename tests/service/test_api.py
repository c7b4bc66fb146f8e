"""`/moderate`, `/moderate/batch`, health and metrics over real HTTP against `python -m service`."""

from __future__ import annotations

import asyncio
import functools
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tokenizers import Tokenizer

from contract import encode_pair, load_artifact, prepare_tokenizer
from loadtest.processes import REPO_ROOT
from service.engine import OnnxEngine

MAX_CHARS = 2000
MAX_ITEMS = 8


@pytest.fixture(scope="module")
def server(start_service: Any, tiny_artifact: Path) -> Any:
    return start_service(
        tiny_artifact,
        {"MODERATION_MAX_TEXT_CHARS": str(MAX_CHARS), "MODERATION_MAX_BATCH_ITEMS": str(MAX_ITEMS)},
    )


@pytest.fixture(scope="module")
def client(server: Any) -> Any:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def metric(client: httpx.Client, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


@functools.cache
def _direct_model(artifact: Path) -> tuple[Tokenizer, OnnxEngine]:
    loaded = load_artifact(artifact)
    tokenizer = prepare_tokenizer(
        Tokenizer.from_file(str(loaded.tokenizer_path)), loaded.manifest.max_length
    )
    return tokenizer, OnnxEngine(loaded, threads=1)


def reference_score(artifact: Path, prompt: str, response: str | None) -> float:
    """The model's score computed directly with ONNX Runtime, without the server."""
    tokenizer, engine = _direct_model(artifact)
    return float(engine.forward([encode_pair(tokenizer, prompt, response)])[0])


def test_a_pair_gets_the_models_score(client: httpx.Client, tiny_artifact: Path) -> None:
    reply = client.post("/moderate", json={"prompt": "How do I bake bread?", "response": "Knead."})
    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {
        "harmful", "score", "threshold", "model", "cached", "truncated", "windows"
    }  # fmt: skip
    assert body["model"] == "tiny-random@0.0.0"
    assert body["threshold"] == 0.5
    assert body["harmful"] == (body["score"] >= 0.5)
    assert body["truncated"] is False and body["windows"] == 1
    expected = reference_score(tiny_artifact, "How do I bake bread?", "Knead.")
    assert body["score"] == pytest.approx(expected, abs=1e-5)
    assert "server-timing" in reply.headers


def test_no_response_scores_the_prompt_alone(client: httpx.Client, tiny_artifact: Path) -> None:
    alone = client.post("/moderate", json={"prompt": "Tell me a joke"}).json()
    null = client.post("/moderate", json={"prompt": "Tell me a joke", "response": None}).json()
    paired = client.post("/moderate", json={"prompt": "Tell me a joke", "response": "No."}).json()
    assert alone["score"] == null["score"]
    assert alone["score"] == pytest.approx(
        reference_score(tiny_artifact, "Tell me a joke", None), abs=1e-5
    )
    assert paired["score"] != alone["score"]


def test_repeating_a_request_is_a_cache_hit(client: httpx.Client) -> None:
    body = {"prompt": "a prompt seen twice", "response": "and its response"}
    first = client.post("/moderate", json=body).json()
    second = client.post("/moderate", json=body).json()
    assert (first["cached"], second["cached"]) == (False, True)
    assert first["score"] == second["score"]


def test_text_beyond_the_window_is_scored_in_windows(client: httpx.Client) -> None:
    # The default long-input policy; tests/service/test_windows.py covers every policy.
    long_prompt = "word " * 300  # 300 tokens > the tiny artifact's 128
    body = client.post("/moderate", json={"prompt": long_prompt}).json()
    assert body["truncated"] is False and body["windows"] == 3  # 124-token windows, 93 apart
    short = client.post("/moderate", json={"prompt": "word " * 20}).json()
    assert short["truncated"] is False and short["windows"] == 1


def test_batch_results_come_back_in_order(client: httpx.Client, tiny_artifact: Path) -> None:
    items: list[dict[str, str]] = [
        {"prompt": f"question number {i} " + "about bread " * (i * 7 % 40)}
        for i in range(MAX_ITEMS)
    ]
    items[3]["response"] = "an answer"
    reply = client.post("/moderate/batch", json={"items": items})
    assert reply.status_code == 200
    results = reply.json()["results"]
    expected = [reference_score(tiny_artifact, i["prompt"], i.get("response")) for i in items]
    # int8 activations are quantised per batch, so a padded batch may move a score a little.
    assert [r["score"] for r in results] == pytest.approx(expected, abs=2e-3)
    assert len(set(expected)) == len(expected)  # distinct scores: the order is really checked
    singles = [client.post("/moderate", json=item).json() for item in items]
    assert all(s["cached"] for s in singles)  # the batch filled the cache
    assert [s["score"] for s in singles] == [r["score"] for r in results]


def test_concurrent_requests_all_succeed_and_share_batches(
    client: httpx.Client, server: Any
) -> None:
    prompts = [f"concurrent prompt {i} " + "x " * (i % 13) for i in range(48)]
    before = metric(client, "moderation_batch_size_count")

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as ac:
            return list(
                await asyncio.gather(*(ac.post("/moderate", json={"prompt": p}) for p in prompts))
            )

    replies = asyncio.run(fire())
    assert [r.status_code for r in replies] == [200] * len(prompts)
    batches = metric(client, "moderation_batch_size_count") - before
    assert 0 < batches <= len(prompts)


BAD_INPUTS: list[tuple[str, str | bytes | dict[str, Any], int, str]] = [
    ("/moderate", {"prompt": ""}, 422, "prompt"),
    ("/moderate", {}, 422, "prompt"),
    ("/moderate", {"response": "only a response"}, 422, "prompt"),
    ("/moderate", {"prompt": 42}, 422, "prompt"),
    ("/moderate", {"prompt": ["a"]}, 422, "prompt"),
    ("/moderate", {"prompt": "ok", "response": 7}, 422, "response"),
    ("/moderate", {"prompt": "ok", "extra": 1}, 422, "extra"),
    ("/moderate", {"prompt": "x" * (MAX_CHARS + 1)}, 413, "prompt"),
    ("/moderate", {"prompt": "ok", "response": "y" * (MAX_CHARS + 1)}, 413, "response"),
    ("/moderate", b"this is not json", 400, "body"),
    ("/moderate", b'{"prompt": "unterminated', 400, "body"),
    ("/moderate", b"", 422, "body"),
    ("/moderate", b"[1, 2]", 422, "body"),
    ("/moderate", b"null", 422, "body"),
    ("/moderate", b'{"prompt": "ab\\ud800cd"}', 422, "prompt"),
    ("/moderate", b'{"prompt": "ok", "response": "\\udfff"}', 422, "response"),
    ("/moderate", b'{"prompt": "\xff\xfe"}', 400, "body"),
    ("/moderate/batch", {"items": []}, 422, "items"),
    ("/moderate/batch", {}, 422, "items"),
    ("/moderate/batch", {"items": "nope"}, 422, "items"),
    ("/moderate/batch", {"items": [{"prompt": "ok"}, {"prompt": ""}]}, 422, "items.1.prompt"),
    ("/moderate/batch", {"items": [{"prompt": "ok"}, {"prompt": 1}]}, 422, "items.1.prompt"),
    ("/moderate/batch", {"items": [{"prompt": "ok", "x": 1}]}, 422, "items.0.x"),
    ("/moderate/batch", b'{"items": [{"prompt": "ok"}, {"prompt": "a", "response": "\\udfff"}]}',
     422, "items.1.response"),
    ("/moderate/batch", {"items": [{"prompt": "ok"}], "x": 1}, 422, "x"),
    ("/moderate/batch", {"items": [{"prompt": "ok"}] * (MAX_ITEMS + 1)}, 422, "items"),
    ("/moderate/batch", {"items": [{"prompt": "ok"}, {"prompt": "z" * (MAX_CHARS + 1)}]}, 413,
     "items.1.prompt"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "payload", "status", "field"), BAD_INPUTS)
def test_bad_input_gets_a_4xx_naming_the_field(
    client: httpx.Client, path: str, payload: str | bytes | dict[str, Any], status: int, field: str
) -> None:
    if isinstance(payload, dict):
        reply = client.post(path, json=payload)
    else:
        reply = client.post(path, content=payload, headers={"content-type": "application/json"})
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert field in [d["field"] for d in error["details"]]
    assert error["message"]
    assert all(d["reason"] for d in error["details"])


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_declared_json_is_refused(
    client: httpx.Client, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    reply = client.post("/moderate", content=b'{"prompt": "ok"}', headers=headers)
    assert reply.status_code == 422, reply.text
    assert "Content-Type" in reply.json()["error"]["message"]
    ok = client.post(
        "/moderate", content=b'{"prompt": "ok"}', headers={"content-type": "application/json"}
    )
    assert ok.status_code == 200


def test_a_body_over_the_byte_limit_is_refused_unread(client: httpx.Client) -> None:
    huge = b'{"prompt": "' + b"a" * (17 * 1024 * 1024) + b'"}'
    reply = client.post("/moderate", content=huge, headers={"content-type": "application/json"})
    assert reply.status_code == 413
    assert reply.json()["error"]["param"] == "body"


def test_unknown_paths_and_methods_get_json_errors(client: httpx.Client) -> None:
    assert client.get("/nope").status_code == 404
    reply = client.get("/moderate")
    assert reply.status_code == 405
    assert reply.json()["error"]["message"]


def test_health_readiness_and_docs(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "model": "tiny-random@0.0.0"}
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/moderate", "/moderate/batch", "/healthz", "/readyz", "/metrics"} <= set(paths)
    assert client.get("/docs").status_code == 200


def test_metrics_are_exported_and_move(client: httpx.Client) -> None:
    ok = {"endpoint": "/moderate", "status": "200"}
    before = {
        "requests": metric(client, "moderation_requests_total", **ok),
        "bad": metric(client, "moderation_requests_total", endpoint="/moderate", status="422"),
        "latency": metric(client, "moderation_request_latency_seconds_count", endpoint="/moderate"),
        "batches": metric(client, "moderation_batch_size_count"),
        "tokens": metric(client, "moderation_batch_tokens_sum"),
        "tokenize": metric(client, "moderation_tokenize_seconds_count"),
        "inference": metric(client, "moderation_inference_seconds_count"),
        "wait": metric(client, "moderation_queue_wait_seconds_count"),
        "padding": metric(client, "moderation_padding_ratio_count"),
        "misses": metric(client, "moderation_cache_misses_total", backend="memory"),
        "hits": metric(client, "moderation_cache_hits_total", backend="memory"),
    }
    client.post("/moderate", json={"prompt": "metrics move 1"})
    client.post("/moderate", json={"prompt": "metrics move 1"})
    client.post("/moderate", json={"prompt": ""})
    after = {
        "requests": metric(client, "moderation_requests_total", **ok),
        "bad": metric(client, "moderation_requests_total", endpoint="/moderate", status="422"),
        "latency": metric(client, "moderation_request_latency_seconds_count", endpoint="/moderate"),
        "batches": metric(client, "moderation_batch_size_count"),
        "tokens": metric(client, "moderation_batch_tokens_sum"),
        "tokenize": metric(client, "moderation_tokenize_seconds_count"),
        "inference": metric(client, "moderation_inference_seconds_count"),
        "wait": metric(client, "moderation_queue_wait_seconds_count"),
        "padding": metric(client, "moderation_padding_ratio_count"),
        "misses": metric(client, "moderation_cache_misses_total", backend="memory"),
        "hits": metric(client, "moderation_cache_hits_total", backend="memory"),
    }
    assert after["requests"] - before["requests"] == 2
    assert after["bad"] - before["bad"] == 1
    assert after["latency"] - before["latency"] == 3
    for name in ("batches", "tokenize", "inference", "wait", "padding", "misses", "hits"):
        assert after[name] - before[name] == 1, name
    assert after["tokens"] > before["tokens"]
    text = client.get("/metrics").text
    info = 'name="tiny-random",response_threshold="0.5",threshold="0.5",version="0.0.0"'
    assert f"moderation_model_info{{{info}}} 1.0" in text  # no response threshold: the same
    assert "moderation_queue_depth 0.0" in text
    assert 'moderation_rejected_total{reason="queue_full"}' in text


def test_overload_gets_429_with_retry_after(start_service: Any, tiny_artifact: Path) -> None:
    # A long MAX_WAIT holds the first request in the queue, so the queue (1 slot) is full.
    server = start_service(
        tiny_artifact,
        {"MODERATION_MAX_QUEUE": "1", "MODERATION_MAX_WAIT_MS": "1500",
         "MODERATION_CACHE_SIZE": "0"},
    )  # fmt: skip
    try:
        replies = asyncio.run(_burst(server.url, 10, "word " * 20))
        statuses = sorted(r.status_code for r in replies)
        assert statuses == [200] + [429] * 9
        rejected = next(r for r in replies if r.status_code == 429)
        assert int(rejected.headers["retry-after"]) >= 1
        assert rejected.json()["error"]["code"] == "queue_full"
        with httpx.Client(base_url=server.url) as c:
            assert metric(c, "moderation_rejected_total", reason="queue_full") == 9
            big = {"items": [{"prompt": f"item {i}"} for i in range(5)]}
            assert c.post("/moderate/batch", json=big).status_code == 200  # alone: accepted
    finally:
        server.stop()


def test_a_request_past_its_deadline_gets_503_and_its_work_is_dropped(
    start_service: Any, tiny_artifact: Path
) -> None:
    server = start_service(
        tiny_artifact,
        {"MODERATION_REQUEST_TIMEOUT_MS": "200", "MODERATION_MAX_WAIT_MS": "1000",
         "MODERATION_CACHE_SIZE": "0"},
    )  # fmt: skip
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            late = c.post("/moderate", json={"prompt": "this one waits too long"})
            assert late.status_code == 503
            assert int(late.headers["retry-after"]) >= 1
            assert late.json()["error"]["code"] == "deadline_exceeded"
            assert metric(c, "moderation_rejected_total", reason="deadline") == 1
            time.sleep(1.2)  # past MAX_WAIT: the worker has looked at the queue again
            assert metric(c, "moderation_batch_size_count") == 0  # never scored
            assert metric(c, "moderation_queue_depth") == 0
            assert c.get("/healthz").status_code == 200
    finally:
        server.stop()


async def _burst(url: str, count: int, text: str) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as ac:
        return list(
            await asyncio.gather(
                *(ac.post("/moderate", json={"prompt": f"{i} {text}"}) for i in range(count))
            )
        )


def test_a_threshold_override_decides_harmful(start_service: Any, tiny_artifact: Path) -> None:
    server = start_service(tiny_artifact, {"MODERATION_THRESHOLD": "0"})
    try:
        with httpx.Client(base_url=server.url) as c:
            body = c.post("/moderate", json={"prompt": "anything at all"}).json()
            assert (body["threshold"], body["harmful"]) == (0.0, True)
            assert 'threshold="0"' in c.get("/metrics").text
    finally:
        server.stop()


def test_serving_without_an_artifact_says_what_to_run(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service", "--artifact", str(tmp_path / "missing")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "make artifact" in result.stderr


def test_a_corrupt_artifact_is_refused_with_the_reason(tiny_artifact: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("manifest.json", "tokenizer.json"):
        (broken / name).write_bytes((tiny_artifact / name).read_bytes())
    (broken / "model.onnx").write_bytes(b"not a model")
    result = subprocess.run(
        [sys.executable, "-m", "service", "--artifact", str(broken), "--port", "0"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "does not match its manifest" in result.stderr
