"""Optional API keys: unit checks of key matching, then a real server with keys on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import openai
import pytest

from loadtest.processes import ServiceProcess
from service.auth import ApiKeys, presented_key

KEYS = ("key-one", "key-two-is-longer")


def _scope(*headers: tuple[str, str]) -> dict[str, object]:
    return {"headers": [(k.encode(), v.encode()) for k, v in headers]}


def test_every_configured_key_is_accepted_and_nothing_else() -> None:
    keys = ApiKeys(KEYS)
    assert keys and all(keys.accepts(k) for k in KEYS)
    for wrong in ("", "key-on", "key-one ", "KEY-ONE", "key-two-is-longer-still"):
        assert not keys.accepts(wrong)
    assert not ApiKeys([]) and not ApiKeys([""])


def test_the_key_is_read_from_bearer_or_x_api_key() -> None:
    assert presented_key(_scope(("authorization", "Bearer abc"))) == "abc"
    assert presented_key(_scope(("authorization", "bearer  abc "))) == "abc"
    assert presented_key(_scope(("x-api-key", "xyz"))) == "xyz"
    assert presented_key(_scope(("authorization", "Basic dXNlcg=="))) is None
    assert presented_key(_scope(("authorization", "Bearer "))) is None
    assert presented_key(_scope()) is None


@pytest.fixture(scope="module")
def server(
    start_service: Callable[..., ServiceProcess], keyword_artifact: Path
) -> Iterator[ServiceProcess]:
    running = start_service(keyword_artifact, {"MODERATION_API_KEYS": ",".join(KEYS)})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def guarded_ops_server(
    start_service: Callable[..., ServiceProcess], keyword_artifact: Path
) -> Iterator[ServiceProcess]:
    running = start_service(
        keyword_artifact,
        {"MODERATION_API_KEYS": f" {KEYS[0]} , ", "MODERATION_AUTH_PROTECT_OPS": "true"},
    )
    yield running
    running.stop()


PROTECTED = [
    ("/moderate", {"prompt": "hello"}),
    ("/moderate/batch", {"items": [{"prompt": "hello"}]}),
    ("/v1/moderations", {"input": "hello"}),
    ("/beta/litellm_basic_guardrail_api", {"input_type": "request", "texts": ["hello"]}),
]


@pytest.mark.parametrize(("path", "body"), PROTECTED)
def test_without_a_key_every_scoring_route_is_401(
    server: ServiceProcess, path: str, body: dict[str, object]
) -> None:
    missing = httpx.post(f"{server.url}{path}", json=body)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.json()["error"]["code"] == "missing_api_key"
    wrong = httpx.post(f"{server.url}{path}", json=body, headers={"x-api-key": "nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert "nope" not in wrong.text


@pytest.mark.parametrize(("path", "body"), PROTECTED)
def test_with_a_key_every_scoring_route_answers(
    server: ServiceProcess, path: str, body: dict[str, object]
) -> None:
    bearer = httpx.post(
        f"{server.url}{path}", json=body, headers={"authorization": f"Bearer {KEYS[0]}"}
    )
    header = httpx.post(f"{server.url}{path}", json=body, headers={"x-api-key": KEYS[1]})
    assert bearer.status_code == header.status_code == 200


def test_ops_routes_stay_open_by_default(server: ServiceProcess) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert httpx.get(f"{server.url}{path}").status_code == 200, path


def test_ops_routes_can_be_guarded(guarded_ops_server: ServiceProcess) -> None:
    url = guarded_ops_server.url
    for path in ("/healthz", "/readyz", "/metrics", "/docs"):
        assert httpx.get(f"{url}{path}").status_code == 401, path
        ok = httpx.get(f"{url}{path}", headers={"authorization": f"Bearer {KEYS[0]}"})
        assert ok.status_code == 200, path
    # Blank entries in the comma-separated list are not keys.
    assert httpx.get(f"{url}/healthz", headers={"x-api-key": ""}).status_code == 401


def test_rejections_are_counted(server: ServiceProcess) -> None:
    httpx.post(f"{server.url}/moderate", json={"prompt": "hello"})
    metrics = httpx.get(f"{server.url}/metrics").text
    assert 'endpoint="/moderate",status="401"' in metrics


def test_the_openai_sdk_gets_an_authentication_error(server: ServiceProcess) -> None:
    wrong = openai.OpenAI(base_url=f"{server.url}/v1", api_key="nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        wrong.moderations.create(input="hello")
    assert caught.value.code == "invalid_api_key"
    right = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEYS[1], max_retries=0)
    assert right.moderations.create(input="hello").results[0].flagged is False
