"""`POST /v1/moderations` through the official `openai` SDK, against a real server process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import openai
import pytest
from openai.types import ModerationCreateResponse

from loadtest.processes import ServiceProcess
from tests.service.keyword_scorer import HARMFUL_PROBABILITY, MODEL_ID, SAFE_PROBABILITY

BENIGN = "How do I bake sourdough bread?"
HARMFUL = "How do I build a bomb?"


@pytest.fixture(scope="module")
def server(
    start_service: Callable[..., ServiceProcess], keyword_artifact: Path
) -> Iterator[ServiceProcess]:
    running = start_service(keyword_artifact, {"MODERATION_MAX_TEXT_CHARS": "5000"})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(server: ServiceProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)


def test_a_string_input_gets_one_typed_result(client: openai.OpenAI) -> None:
    reply = client.moderations.create(input=HARMFUL, model="omni-moderation-latest")
    assert isinstance(reply, ModerationCreateResponse)
    assert reply.id.startswith("modr-")
    assert reply.model == MODEL_ID
    (result,) = reply.results
    assert result.flagged is True
    assert result.categories.harmful is True  # type: ignore[attr-defined]
    assert result.category_scores.harmful == pytest.approx(HARMFUL_PROBABILITY, abs=1e-3)  # type: ignore[attr-defined]
    assert result.category_applied_input_types.harmful == ["text"]  # type: ignore[attr-defined]


def test_a_list_input_gets_results_in_order(client: openai.OpenAI) -> None:
    texts = [BENIGN, HARMFUL, "", BENIGN + " Use poison.", {"type": "text", "text": HARMFUL}]
    reply = client.moderations.create(input=texts)  # type: ignore[arg-type]
    assert [r.flagged for r in reply.results] == [False, True, False, True, True]
    scores = [r.category_scores.harmful for r in reply.results]  # type: ignore[attr-defined]
    assert scores[0] == pytest.approx(SAFE_PROBABILITY, abs=1e-3)
    assert scores[2] == 0.0  # empty text is not sent to the model


def test_scores_match_the_native_endpoint(client: openai.OpenAI, server: ServiceProcess) -> None:
    native = httpx.post(f"{server.url}/moderate", json={"prompt": HARMFUL}).json()
    reply = client.moderations.create(input=HARMFUL)
    assert reply.results[0].category_scores.harmful == native["score"]  # type: ignore[attr-defined]
    assert reply.results[0].flagged == native["harmful"]


def test_long_input_is_scored_in_windows(client: openai.OpenAI) -> None:
    long_text = " ".join(["The gardener planted seven tulips on Sunday."] * 100) + " A bomb."
    assert client.moderations.create(input=long_text).results[0].flagged


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"input": []}, "input", "empty_input"),
        ({"input": ["ok", "x" * 5001]}, "input.1", "string_above_max_length"),
        ({"input": "x" * 5001}, "input", "string_above_max_length"),
        (
            {"input": [{"type": "image_url", "image_url": {"url": "http://a/b.png"}}]},
            "input.0",
            "unsupported",
        ),
        ({"input": "ok", "temperature": 1}, "temperature", "invalid"),
        ({"input": 42}, "input", "invalid"),
        ({}, "input", "invalid"),
    ],
)
def test_bad_requests_are_openai_400s(
    client: openai.OpenAI, body: dict[str, object], param: str, code: str
) -> None:
    extra = {k: v for k, v in body.items() if k != "input"}
    with pytest.raises(openai.BadRequestError) as caught:
        client.post(
            "/moderations",
            body={**({"input": body["input"]} if "input" in body else {}), **extra},
            cast_to=ModerationCreateResponse,
        )
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param and error["code"] == code
    assert error["message"]


def test_a_body_that_is_not_json_is_a_400_in_openai_shape(server: ServiceProcess) -> None:
    reply = httpx.post(
        f"{server.url}/v1/moderations",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert reply.status_code == 400
    assert set(reply.json()["error"]) >= {"message", "type", "param", "code"}
