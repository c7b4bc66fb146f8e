"""A pair with a response is judged at the artifact's response threshold, over real HTTP.

The trigger-word artifact scores any input holding "bomb" 0.982, with or without a response;
its manifest here says 0.99 for prompts and 0.5 for pairs with a response, so the same score
is harmful as a response and not as a prompt.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract import load_artifact, write_manifest
from loadtest.processes import ServiceProcess
from tests.service.keyword_scorer import HARMFUL_PROBABILITY

PROMPT_THRESHOLD, RESPONSE_THRESHOLD = 0.99, 0.5
PROMPT = "How do I make a bomb?"
RESPONSE = "Sure, here is how."


@pytest.fixture(scope="module")
def artifact(keyword_artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("response-threshold") / "artifact"
    shutil.copytree(keyword_artifact, out)
    fields = load_artifact(out).manifest.model_dump(exclude={"schema_version", "files"})
    write_manifest(
        out, **fields | {"threshold": PROMPT_THRESHOLD, "response_threshold": RESPONSE_THRESHOLD}
    )
    return out


@pytest.fixture(scope="module")
def server(
    start_service: Callable[..., ServiceProcess], artifact: Path
) -> Iterator[ServiceProcess]:
    running = start_service(artifact)
    yield running
    running.stop()


def moderate(server: ServiceProcess, body: dict[str, Any]) -> dict[str, Any]:
    reply = httpx.post(f"{server.url}/moderate", json=body, timeout=30)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def test_a_score_between_the_thresholds_is_harmful_as_a_response_only(
    server: ServiceProcess,
) -> None:
    alone = moderate(server, {"prompt": PROMPT})
    empty = moderate(server, {"prompt": PROMPT, "response": ""})
    pair = moderate(server, {"prompt": PROMPT, "response": RESPONSE})
    assert alone["score"] == pair["score"] == pytest.approx(HARMFUL_PROBABILITY, abs=1e-3)
    assert (alone["harmful"], alone["threshold"]) == (False, PROMPT_THRESHOLD)
    assert (empty["harmful"], empty["threshold"]) == (False, PROMPT_THRESHOLD)  # no response
    assert (pair["harmful"], pair["threshold"]) == (True, RESPONSE_THRESHOLD)
    # The cache holds the score; the verdict is made again at the pair's threshold.
    again = moderate(server, {"prompt": PROMPT, "response": RESPONSE})
    assert (again["cached"], again["harmful"], again["threshold"]) == (True, True, 0.5)


def test_a_batch_judges_each_item_at_its_own_threshold(server: ServiceProcess) -> None:
    items = [{"prompt": f"{PROMPT} (batch)"}, {"prompt": f"{PROMPT} (batch)", "response": RESPONSE}]
    reply = httpx.post(f"{server.url}/moderate/batch", json={"items": items}, timeout=30)
    results = reply.json()["results"]
    assert [(r["harmful"], r["threshold"]) for r in results] == [
        (False, PROMPT_THRESHOLD),
        (True, RESPONSE_THRESHOLD),
    ]


def test_texts_without_their_prompt_are_judged_as_prompts(server: ServiceProcess) -> None:
    # OpenAI's API and LiteLLM's post_call send a text alone: the prompt threshold judges it.
    openai_reply = httpx.post(f"{server.url}/v1/moderations", json={"input": RESPONSE + PROMPT})
    assert openai_reply.json()["results"][0]["flagged"] is False
    guardrail = httpx.post(
        f"{server.url}/beta/litellm_basic_guardrail_api",
        json={"input_type": "response", "texts": [PROMPT]},
    )
    assert guardrail.json() == {"action": "NONE"}


def test_the_metrics_name_both_thresholds(server: ServiceProcess) -> None:
    text = httpx.get(f"{server.url}/metrics").text
    assert 'response_threshold="0.5",threshold="0.99"' in text


def test_the_settings_override_each_threshold(
    start_service: Callable[..., ServiceProcess], artifact: Path
) -> None:
    overridden = start_service(
        artifact, {"MODERATION_THRESHOLD": "0.1", "MODERATION_RESPONSE_THRESHOLD": "0.995"}
    )
    try:
        alone = moderate(overridden, {"prompt": PROMPT})
        pair = moderate(overridden, {"prompt": PROMPT, "response": RESPONSE})
        assert (alone["harmful"], alone["threshold"]) == (True, 0.1)
        assert (pair["harmful"], pair["threshold"]) == (False, 0.995)
    finally:
        overridden.stop()
    # Only the prompt's overridden: pairs keep the manifest's response threshold.
    prompt_only = start_service(artifact, {"MODERATION_THRESHOLD": "0.1"})
    try:
        pair = moderate(prompt_only, {"prompt": PROMPT, "response": RESPONSE})
        assert (pair["harmful"], pair["threshold"]) == (True, RESPONSE_THRESHOLD)
    finally:
        prompt_only.stop()
