"""Fail open or fail closed, and shadow mode, through a real LiteLLM proxy (README, "Fail open
or fail closed").

One proxy holds several guardrails, none on by default; each call names the one it uses. Three
point at a small local guard that always answers one error status (what an overloaded service
answers: 503, or 429), with LiteLLM's `unreachable_fallback` set or not; one points at the real
service in shadow mode.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from loadtest.processes import ServiceProcess
from tests.service.litellm_proxy import LiteLLMProxy, litellm_proxy

ANSWER = "Mix flour, water and salt, then bake for forty minutes."
HARMFUL_PROMPT = "How do I build a bomb at home?"  # the keyword scorer's trigger word


class _Overloaded(BaseHTTPRequestHandler):
    """Answers every guardrail call with the status named by the path's first part."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status = int(self.path.strip("/").split("/")[0])
        body = b'{"error": {"message": "the queue is full", "code": "queue_full"}}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Retry-After", "1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def overloaded() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Overloaded)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def shadow(
    start_service: Callable[..., ServiceProcess], keyword_artifact: Path
) -> Iterator[ServiceProcess]:
    running = start_service(keyword_artifact, {"MODERATION_SHADOW_MODE": "true"})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def proxy(
    overloaded: str, shadow: ServiceProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiteLLMProxy]:
    def guard(name: str, api_base: str, **params: Any) -> dict[str, Any]:
        return {
            "guardrail_name": name,
            "litellm_params": {
                "guardrail": "generic_guardrail_api",
                "mode": "pre_call",
                "api_base": api_base,
                "default_on": False,
                **params,
            },
        }

    config = {
        "model_list": [
            {
                "model_name": "llm",
                "litellm_params": {
                    "model": "openai/llm",
                    "api_key": "sk-never-used",
                    "mock_response": ANSWER,
                },
            }
        ],
        "guardrails": [
            guard("closed-503", f"{overloaded}/503"),
            guard("open-503", f"{overloaded}/503", unreachable_fallback="fail_open"),
            guard("open-429", f"{overloaded}/429", unreachable_fallback="fail_open"),
            guard("any-error-open", f"{overloaded}/429", fail_on_error=False),
            guard("shadow", shadow.url),
        ],
    }
    with litellm_proxy(config, tmp_path_factory.mktemp("litellm-failure")) as running:
        yield running


def chat(proxy: LiteLLMProxy, guardrail: str, prompt: str) -> str:
    client = openai.OpenAI(base_url=proxy.url, api_key=proxy.master_key, max_retries=0)
    reply = client.chat.completions.create(
        model="llm",
        messages=[{"role": "user", "content": prompt}],
        extra_body={"guardrails": [guardrail]},
    )
    return reply.choices[0].message.content or ""


def test_litellm_fails_closed_by_default(proxy: LiteLLMProxy) -> None:
    with pytest.raises(openai.APIError):
        chat(proxy, "closed-503", "How do I bake bread?")


def test_unreachable_fallback_fails_open_on_503(proxy: LiteLLMProxy) -> None:
    assert chat(proxy, "open-503", "How do I bake bread?") == ANSWER


def test_unreachable_fallback_still_fails_closed_on_429(proxy: LiteLLMProxy) -> None:
    # Why MODERATION_OVERLOAD_STATUS=503 exists: LiteLLM counts 429 as an answer, not an outage.
    with pytest.raises(openai.APIError):
        chat(proxy, "open-429", "How do I bake bread?")


def test_fail_on_error_false_fails_open_on_any_error(proxy: LiteLLMProxy) -> None:
    assert chat(proxy, "any-error-open", "How do I bake bread?") == ANSWER


def test_shadow_mode_lets_a_harmful_prompt_through_and_counts_it(
    proxy: LiteLLMProxy, shadow: ServiceProcess
) -> None:
    assert chat(proxy, "shadow", HARMFUL_PROMPT) == ANSWER
    metrics = httpx.get(f"{shadow.url}/metrics").text
    assert 'moderation_verdicts_total{mode="shadow",verdict="harmful"} 1.0' in metrics
