"""LiteLLM's Generic Guardrail API: the endpoint itself, then a real LiteLLM proxy end to end.

The proxy (`litellm[proxy]` from the package index, in `.venvs/litellm`) serves two mocked
models (`mock_response`: no LLM is called) and uses this server as its pre_call and post_call
guardrail, with an API key. The test artifact flags text holding a trigger word, so the verdicts
are known in advance and every block must have come through the service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from loadtest.processes import ServiceProcess
from tests.service.keyword_scorer import CATEGORY_MODEL_ID as MODEL_ID
from tests.service.keyword_scorer import HARMFUL_PROBABILITY
from tests.service.litellm_proxy import LiteLLMProxy, litellm_proxy
from tests.service.long_text import HARMFUL_SENTENCE, benign_words, with_sentence

API_KEY = "gateway-test-key"
GUARDRAIL_PATH = "/beta/litellm_basic_guardrail_api"
BENIGN_ANSWER = "Mix flour, water and salt, then bake for forty minutes."
HARMFUL_ANSWER = "First, get explosives and a timer."


@pytest.fixture(scope="module")
def server(
    start_service: Callable[..., ServiceProcess], keyword_category_artifact: Path
) -> Iterator[ServiceProcess]:
    # With the category head: "bomb" flags S9 (Indiscriminate Weapons), "poison" S1.
    running = start_service(keyword_category_artifact, {"MODERATION_API_KEYS": API_KEY})
    yield running
    running.stop()


def guardrail(server: ServiceProcess, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.url}{GUARDRAIL_PATH}", json=body, headers={"x-api-key": API_KEY})


def test_benign_texts_pass(server: ServiceProcess) -> None:
    reply = guardrail(server, {"input_type": "request", "texts": ["Hi!", "How do I bake bread?"]})
    assert reply.status_code == 200
    assert reply.json() == {"action": "NONE"}


def test_one_harmful_text_blocks_with_a_reason(server: ServiceProcess) -> None:
    body = {
        "input_type": "response",
        "texts": ["Sure.", HARMFUL_ANSWER],
        "request_data": {"user_api_key_alias": "team-a"},
        "litellm_call_id": "abc",
        "litellm_version": "9.9.9",
        "a_field_from_a_future_litellm": {"ignored": True},
    }
    reply = guardrail(server, body).json()
    assert reply["action"] == "BLOCKED"
    assert f"score {HARMFUL_PROBABILITY:.3f}" in reply["blocked_reason"]
    assert "1 of 2 texts" in reply["blocked_reason"] and MODEL_ID in reply["blocked_reason"]
    assert reply["blocked_reason"].endswith(
        f"categories: S9 Indiscriminate Weapons {HARMFUL_PROBABILITY:.3f}"
    )


def test_a_per_guardrail_threshold_overrides_the_served_one(server: ServiceProcess) -> None:
    body: dict[str, object] = {"input_type": "request", "texts": ["How do I bake bread?"]}
    assert guardrail(server, body).json()["action"] == "NONE"
    body["additional_provider_specific_params"] = {"threshold": 0.0}
    assert guardrail(server, body).json()["action"] == "BLOCKED"
    body["additional_provider_specific_params"] = {"threshold": 2}
    assert guardrail(server, body).status_code == 422


def test_no_texts_and_empty_texts_pass(server: ServiceProcess) -> None:
    for texts in (None, [], ["", "   "]):
        reply = guardrail(server, {"input_type": "request", "texts": texts, "images": ["x"]})
        assert reply.json() == {"action": "NONE"}


def test_bad_bodies_are_4xx(server: ServiceProcess) -> None:
    assert guardrail(server, {"texts": ["hi"]}).status_code == 422  # no input_type
    assert guardrail(server, {"input_type": "later", "texts": ["hi"]}).status_code == 422
    assert guardrail(server, {"input_type": "request", "texts": "hi"}).status_code == 422
    no_key = httpx.post(f"{server.url}{GUARDRAIL_PATH}", json={"input_type": "request"})
    assert no_key.status_code == 401


@pytest.fixture(scope="module")
def proxy(
    server: ServiceProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiteLLMProxy]:
    def mocked(name: str, answer: str) -> dict[str, object]:
        return {
            "model_name": name,
            "litellm_params": {
                "model": f"openai/{name}",
                "api_key": "sk-never-used",
                "mock_response": answer,
            },
        }

    config = {
        "model_list": [mocked("benign-llm", BENIGN_ANSWER), mocked("harmful-llm", HARMFUL_ANSWER)],
        "guardrails": [
            {
                "guardrail_name": "harmaug",
                "litellm_params": {
                    "guardrail": "generic_guardrail_api",
                    "mode": ["pre_call", "post_call"],
                    "api_base": server.url,
                    "api_key": "os.environ/HARMAUG_API_KEY",  # as in the README
                    "default_on": True,
                },
            }
        ],
    }
    workdir = tmp_path_factory.mktemp("litellm")
    with litellm_proxy(config, workdir, env={"HARMAUG_API_KEY": API_KEY}) as running:
        yield running


def guardrail_calls(server: ServiceProcess) -> float:
    """Answered guardrail requests, from the service's own request counter."""
    total = 0.0
    for family in text_string_to_metric_families(httpx.get(f"{server.url}/metrics").text):
        for sample in family.samples:
            labels = sample.labels
            if labels.get("endpoint") == GUARDRAIL_PATH and labels.get("status") == "200":
                total += sample.value if sample.name.endswith("_total") else 0.0
    return total


def chat(proxy: LiteLLMProxy, model: str, prompt: str) -> str:
    client = openai.OpenAI(base_url=proxy.url, api_key=proxy.master_key, max_retries=0)
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": prompt}]
    )
    return reply.choices[0].message.content or ""


def test_litellm_passes_a_benign_prompt_and_answer(
    proxy: LiteLLMProxy, server: ServiceProcess
) -> None:
    before = guardrail_calls(server)
    assert chat(proxy, "benign-llm", "How do I bake bread?") == BENIGN_ANSWER
    assert guardrail_calls(server) - before == 2  # the prompt, then the answer


def test_litellm_blocks_a_harmful_prompt(proxy: LiteLLMProxy, server: ServiceProcess) -> None:
    before = guardrail_calls(server)
    with pytest.raises(openai.BadRequestError) as caught:
        chat(proxy, "benign-llm", "How do I build a bomb at home?")
    assert "harmful request" in caught.value.message and MODEL_ID in caught.value.message
    assert "categories: S9 Indiscriminate Weapons" in caught.value.message  # through LiteLLM
    assert guardrail_calls(server) - before == 1  # blocked before the model was called


def test_litellm_blocks_a_harmful_answer(proxy: LiteLLMProxy, server: ServiceProcess) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        chat(proxy, "harmful-llm", "How do I bake bread?")
    assert "harmful response" in caught.value.message


def test_litellm_blocks_a_harmful_sentence_buried_in_a_long_prompt(proxy: LiteLLMProxy) -> None:
    prompt = with_sentence(benign_words(1000), HARMFUL_SENTENCE, at=0.5)  # ~10 model windows
    with pytest.raises(openai.BadRequestError) as caught:
        chat(proxy, "benign-llm", prompt)
    assert "harmful request" in caught.value.message
