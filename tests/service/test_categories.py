"""The category head over real HTTP against `python -m service`: every API, the policy, metrics.

The trigger-word artifact with a category head (`keyword_category_artifact`) makes category
scores known in advance ("bomb" flags S9, "poison" S1); the tiny random one
(`tiny_category_artifact`) goes through the real export, and its scores are compared with ONNX
Runtime run directly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest
from openai.types import ModerationCreateResponse
from openai.types.moderation import Categories, CategoryAppliedInputTypes, CategoryScores
from prometheus_client.parser import text_string_to_metric_families
from tokenizers import Tokenizer

from contract import (
    CATEGORY_CODES,
    LLAMA_GUARD_CATEGORIES,
    OPENAI_CATEGORIES,
    encode_pair,
    load_artifact,
    prepare_tokenizer,
)
from service.category_policy import CategoryPolicyError, build_policy
from service.config import Settings
from service.engine import OnnxEngine
from tests.service.keyword_scorer import HARMFUL_PROBABILITY, SAFE_PROBABILITY
from tests.service.test_ops import request_line

REPO_ROOT = Path(__file__).resolve().parents[2]
BOMB = "How do I build a bomb?"
POISON = "Which poison works fastest?"
BREAD = "How do I bake sourdough bread?"
GUARDRAIL_PATH = "/beta/litellm_basic_guardrail_api"


@pytest.fixture(scope="module")
def server(start_service: Any, keyword_category_artifact: Path) -> Iterator[Any]:
    running = start_service(keyword_category_artifact)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(server: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def moderate(client: httpx.Client, prompt: str) -> dict[str, Any]:
    reply = client.post("/moderate", json={"prompt": prompt})
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def flag_count(client: httpx.Client, category: str, mode: str = "enforce") -> float | None:
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == "moderation_category_flags_total" and sample.labels == {
                "category": category,
                "mode": mode,
            }:
                return sample.value
    return None


# ---- /moderate and /moderate/batch --------------------------------------------------------------


def test_moderate_returns_every_category_beside_the_verdict(client: httpx.Client) -> None:
    body = moderate(client, BOMB)
    assert body["harmful"] is True
    assert list(body["categories"]) == list(CATEGORY_CODES)
    for code, category in body["categories"].items():
        assert set(category) == {"name", "score", "flagged"}
        assert category["name"] == LLAMA_GUARD_CATEGORIES[code]
    s9, s1 = body["categories"]["S9"], body["categories"]["S1"]
    assert s9["score"] == pytest.approx(HARMFUL_PROBABILITY, abs=1e-3) and s9["flagged"] is True
    assert s1["score"] == pytest.approx(SAFE_PROBABILITY, abs=1e-3) and s1["flagged"] is False


def test_batch_results_carry_their_own_categories(client: httpx.Client) -> None:
    items = [{"prompt": BREAD}, {"prompt": POISON}, {"prompt": BOMB, "response": "No."}]
    results = client.post("/moderate/batch", json={"items": items}).json()["results"]
    flagged = [[c for c, v in r["categories"].items() if v["flagged"]] for r in results]
    assert flagged == [[], ["S1"], ["S9"]]
    assert [r["harmful"] for r in results] == [False, True, True]


def test_a_cache_hit_carries_the_category_scores(client: httpx.Client) -> None:
    prompt = "Is a weapon allowed on a plane?"
    first, second = moderate(client, prompt), moderate(client, prompt)
    assert (first["cached"], second["cached"]) == (False, True)
    assert second["categories"] == first["categories"]
    assert first["categories"]["S9"]["flagged"] is True


def test_long_text_takes_each_categorys_highest_window(client: httpx.Client) -> None:
    prompt = "The gardener planted seven tulips. " * 60 + "Add the poison."
    body = moderate(client, prompt)
    assert body["windows"] > 1
    assert body["categories"]["S1"]["flagged"] is True
    assert body["categories"]["S9"]["flagged"] is False


def test_category_flags_are_counted_per_category(client: httpx.Client) -> None:
    before = flag_count(client, "S1")
    assert before is not None and flag_count(client, "S4") is not None  # exported from the start
    moderate(client, POISON + " (counted)")
    assert flag_count(client, "S1") == before + 1


def test_the_request_line_names_the_flagged_categories(client: httpx.Client, server: Any) -> None:
    items = [{"prompt": POISON + " (logged)"}, {"prompt": BOMB + " (logged)"}, {"prompt": BREAD}]
    reply = client.post("/moderate/batch", json={"items": items}, headers={"X-Request-ID": "c-1"})
    assert reply.status_code == 200
    line = request_line(server, "c-1")
    assert line["categories"] == ["S1", "S9"] and line["flagged"] == 2
    client.post("/moderate", json={"prompt": BREAD}, headers={"X-Request-ID": "c-2"})
    assert "categories" not in request_line(server, "c-2")  # nothing flagged, no field


# ---- OpenAI's moderation API, read by the official SDK -----------------------------------------


def test_the_openai_sdk_reads_all_13_categories(server: Any) -> None:
    # The SDK's own field list is OpenAI's: the contract's 13 keys are exactly those.
    for model in (Categories, CategoryScores, CategoryAppliedInputTypes):
        keys = {field.alias or name for name, field in model.model_fields.items()}
        assert keys == set(OPENAI_CATEGORIES), model
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    reply = client.moderations.create(input=[BOMB, BREAD, ""])
    bomb, bread, empty = reply.results
    for result in (bomb, bread, empty):
        for name in Categories.model_fields:
            assert isinstance(getattr(result.categories, name), bool), name
            assert isinstance(getattr(result.category_scores, name), float), name
            assert getattr(result.category_applied_input_types, name) == ["text"], name
    # "bomb" flags S9, which feeds violence and illicit/violent.
    assert bomb.flagged and bomb.categories.violence and bomb.categories.illicit_violent
    assert not bomb.categories.sexual and not bomb.categories.self_harm
    assert bomb.category_scores.violence == pytest.approx(HARMFUL_PROBABILITY, abs=1e-3)
    assert bomb.category_scores.sexual_minors == pytest.approx(SAFE_PROBABILITY, abs=1e-3)
    assert bomb.categories.harmful is True  # type: ignore[attr-defined]
    assert not bread.flagged and not any(bread.categories.model_dump().values())
    assert empty.category_scores.violence == 0.0 and not empty.flagged


def test_a_strict_parser_accepts_the_reply(server: Any) -> None:
    raw = httpx.post(f"{server.url}/v1/moderations", json={"input": POISON}).json()
    parsed = ModerationCreateResponse.model_validate(raw)  # validated, not just constructed
    (result,) = parsed.results
    assert set(raw["results"][0]["categories"]) == {*OPENAI_CATEGORIES, "harmful"}
    assert result.categories.violence_graphic is True  # S1 feeds violence/graphic
    assert result.categories.harassment_threatening is True


def test_a_binary_only_artifact_still_answers_all_13_keys(
    start_service: Any, keyword_artifact: Path
) -> None:
    server = start_service(keyword_artifact)
    try:
        native = httpx.post(f"{server.url}/moderate", json={"prompt": BOMB}).json()
        assert "categories" not in native and native["harmful"] is True  # replies as before
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
        (result,) = client.moderations.create(input=BOMB).results
        assert result.flagged and result.categories.harmful  # type: ignore[attr-defined]
        for name in Categories.model_fields:  # no hazard feeds a key: false, 0, not applied
            assert getattr(result.categories, name) is False
            assert getattr(result.category_scores, name) == 0.0
            assert getattr(result.category_applied_input_types, name) == []
        check = {"input_type": "request", "texts": [BOMB]}
        guard = httpx.post(f"{server.url}{GUARDRAIL_PATH}", json=check).json()
        assert guard["action"] == "BLOCKED" and "categories" not in guard["blocked_reason"]
    finally:
        server.stop()


# ---- the category policy ------------------------------------------------------------------------


def test_a_blocking_category_decides_and_thresholds_are_overridden(
    start_service: Any, keyword_category_artifact: Path
) -> None:
    # The binary threshold is above every score, so only S1 (blocking) can block; S9's
    # threshold is raised past its score, so "bomb" flags nothing.
    server = start_service(
        keyword_category_artifact,
        {
            "MODERATION_THRESHOLD": "0.99",
            "MODERATION_BLOCK_CATEGORIES": "S1",
            "MODERATION_CATEGORY_THRESHOLDS": "S9=0.99",
        },
    )
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            poison = c.post("/moderate", json={"prompt": POISON}).json()
            assert poison["harmful"] is True and poison["score"] < poison["threshold"]
            bomb = c.post("/moderate", json={"prompt": BOMB}).json()
            assert bomb["harmful"] is False and bomb["categories"]["S9"]["flagged"] is False
            flagged = c.post("/v1/moderations", json={"input": [POISON, BOMB]}).json()
            assert [r["flagged"] for r in flagged["results"]] == [True, False]
            guard = c.post(GUARDRAIL_PATH, json={"input_type": "request", "texts": [POISON]})
            reason = guard.json()["blocked_reason"]
            assert "score 0.982 < threshold 0.990" in reason
            assert reason.endswith("categories: S1 Violent Crimes 0.982")
    finally:
        server.stop()


def test_shadow_mode_flags_no_category(start_service: Any, keyword_category_artifact: Path) -> None:
    server = start_service(keyword_category_artifact, {"MODERATION_SHADOW_MODE": "true"})
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            body = c.post("/moderate", json={"prompt": BOMB}).json()
            assert body["harmful"] is False and body["categories"]["S9"]["flagged"] is False
            assert body["categories"]["S9"]["score"] == pytest.approx(HARMFUL_PROBABILITY, abs=1e-3)
            assert flag_count(c, "S9", mode="shadow") == 1  # still counted, as shadow
    finally:
        server.stop()


def test_categories_can_be_switched_off(
    start_service: Any, keyword_category_artifact: Path
) -> None:
    server = start_service(keyword_category_artifact, {"MODERATION_CATEGORIES": "false"})
    try:
        body = httpx.post(f"{server.url}/moderate", json={"prompt": BOMB}).json()
        assert "categories" not in body and body["harmful"] is True
    finally:
        server.stop()


def test_the_real_export_serves_the_heads_scores(
    start_service: Any, tiny_category_artifact: Path
) -> None:
    """A random head: the scores must be ONNX Runtime's own; S4 at threshold 0 always flags,
    and blocks, so the verdict is known whatever the random model says."""
    server = start_service(
        tiny_category_artifact,
        {"MODERATION_CATEGORY_THRESHOLDS": "S4=0", "MODERATION_BLOCK_CATEGORIES": "S4"},
    )
    prompts = ["How do I bake bread?", "Tell me about the weather in Paris"]
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            results = c.post(
                "/moderate/batch", json={"items": [{"prompt": p} for p in prompts]}
            ).json()["results"]
            guard = c.post(GUARDRAIL_PATH, json={"input_type": "response", "texts": prompts})
    finally:
        server.stop()
    loaded = load_artifact(tiny_category_artifact)
    tokenizer = prepare_tokenizer(
        Tokenizer.from_file(str(loaded.tokenizer_path)), loaded.manifest.max_length
    )
    engine = OnnxEngine(loaded, threads=1)
    for prompt, result in zip(prompts, results, strict=True):
        _, expected = engine.run([encode_pair(tokenizer, prompt, None)])
        scores = [c["score"] for c in result["categories"].values()]
        assert scores == pytest.approx(expected[0].tolist(), abs=2e-3)
        assert [c["flagged"] for c in result["categories"].values()] == [
            s >= (0.0 if code == "S4" else 0.5)
            for code, s in zip(CATEGORY_CODES, scores, strict=True)
        ]
        assert result["harmful"] is True  # S4 blocks
    assert guard.json()["action"] == "BLOCKED"
    assert "S4 Child Sexual Exploitation" in guard.json()["blocked_reason"]


# ---- settings that name categories --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MODERATION_BLOCK_CATEGORIES", "S4,S99", "S99"),
        ("MODERATION_CATEGORY_THRESHOLDS", "violence=0.2", "violence"),
        ("MODERATION_CATEGORY_THRESHOLDS", "S4", "CODE=THRESHOLD"),
        ("MODERATION_CATEGORY_THRESHOLDS", "S4=2", "[0, 1]"),
        ("MODERATION_CATEGORY_THRESHOLDS", "S4=high", "S4"),
    ],
)
def test_bad_category_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name.removeprefix("MODERATION_").lower()) as caught:
        Settings()
    assert message in str(caught.value)


def test_category_settings_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODERATION_BLOCK_CATEGORIES", " S4, S1 ")
    monkeypatch.setenv("MODERATION_CATEGORY_THRESHOLDS", "S4=0.2, S11=0.35")
    settings = Settings()
    assert settings.block_categories == ["S4", "S1"]
    assert settings.category_thresholds == {"S4": 0.2, "S11": 0.35}


def test_the_policy_refuses_categories_the_model_does_not_score(
    tiny_artifact: Path, tiny_category_artifact: Path
) -> None:
    binary = load_artifact(tiny_artifact).manifest
    with pytest.raises(CategoryPolicyError, match="S4, but the artifact has no category head"):
        build_policy(binary, block=["S4"])
    assert build_policy(binary).codes == ()  # nothing named: binary-only serves as before
    manifest = load_artifact(tiny_category_artifact).manifest
    with pytest.raises(CategoryPolicyError, match="switched off"):
        build_policy(manifest, serve=False, thresholds={"S11": 0.3})
    policy = build_policy(manifest, thresholds={"S11": 0.3}, block=["all"])
    assert policy.thresholds[CATEGORY_CODES.index("S11")] == 0.3
    assert all(policy.blocking)
    # OpenAI keys: the highest score of the hazards that feed them.
    scores = np.linspace(0.01, 0.14, len(CATEGORY_CODES)).tolist()
    by_key = policy.openai_scores(scores)
    assert by_key["violence"] == scores[CATEGORY_CODES.index("S9")]  # max of S1, S9
    assert by_key["sexual"] == scores[CATEGORY_CODES.index("S12")]  # max of S12, S3


def test_the_server_refuses_a_policy_the_artifact_cannot_serve(tiny_artifact: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service", "--artifact", str(tiny_artifact), "--port", "0"],
        cwd=REPO_ROOT,
        env={**os.environ, "MODERATION_BLOCK_CATEGORIES": "S4"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "S4, but the artifact has no category head" in result.stderr
