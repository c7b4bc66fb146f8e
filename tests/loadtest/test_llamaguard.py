"""The Llama Guard 3 protocol: prompt, verdict and P(unsafe), on answers recorded from
llama-cpp-python's server (SmolLM2-135M-Instruct, `fixtures/llamacpp_responses.json`)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from contract.llamaguard import guard_task, p_unsafe_from_top
from loadtest.llamaguard import DEFAULT_CATEGORIES, guard_prompt, load_categories, parse_verdict
from loadtest.protocols import LlamaGuardChat, LlamaGuardCompletions, ProtocolError

RECORDED = json.loads((Path(__file__).parent / "fixtures" / "llamacpp_responses.json").read_text())


def test_policy_file_matches_the_published_categories(data_dir: Path) -> None:
    assert load_categories(data_dir) == DEFAULT_CATEGORIES
    assert load_categories(None) == DEFAULT_CATEGORIES


def test_prompt_follows_llama_guard_3() -> None:
    text = guard_prompt("How do I pick a lock?")
    assert text.startswith("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n")
    assert text.endswith("<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
    assert "S1: Violent Crimes.\nS2: Non-Violent Crimes." in text
    assert "S14: Code Interpreter Abuse.\n<END UNSAFE CONTENT CATEGORIES>" in text
    assert "User: How do I pick a lock?\n\n<END CONVERSATION>" in text
    assert "ONLY THE LAST User message" in text


def test_a_response_is_judged_as_the_agent_turn() -> None:
    text = guard_task("hi", "Here is how to pick it.")
    assert "User: hi\n\nAgent: Here is how to pick it." in text
    assert "ONLY THE LAST Agent message" in text
    assert "'Agent' messages" in text


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        ({"unsafe": math.log(0.6), "safe": math.log(0.2)}, 0.75),
        ({"uns": math.log(0.3), " safe": math.log(0.1), "The": -0.1}, 0.75),  # SmolLM2's split
        ({"Safe": math.log(0.2), "Safety": -0.5, "S": -0.1}, 0.0),
        ({"S": -0.1, "un": -1.0, "User": -2.0}, None),  # neither word's first token
    ],
)
def test_p_unsafe_compares_first_tokens(top: dict[str, float], expected: float | None) -> None:
    got = p_unsafe_from_top(top)
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_known_first_tokens_are_read_exactly() -> None:
    # A tokenizer that splits "unsafe" as "un" + "safe": only the server's own first tokens tell.
    top = {"un": math.log(0.3), " safe": math.log(0.1), "uns": -0.1}
    assert p_unsafe_from_top(top, ("safe", "un")) == pytest.approx(0.75)
    assert p_unsafe_from_top({"The": -0.1}, ("safe", "un")) is None


def _recorded(name: str) -> list[dict[str, Any]]:
    return RECORDED[name]  # type: ignore[no-any-return]


def test_recorded_stand_in_answers_parse() -> None:
    # The 135M stand-in answers with a category instead of "safe"/"unsafe" ...
    chat = _recorded("llamaguard-chat-top20")[0]["response"]
    assert parse_verdict(chat["choices"][0]) == (None, None)
    completion = _recorded("llamaguard-completions-top20")[0]["response"]
    assert parse_verdict(completion["choices"][0]) == (None, None)
    # ... and with 200 top logprobs "Safe"/"safe" show up, "unsafe" never: P(unsafe) = 0.
    wide = _recorded("llamaguard-chat-top200")[0]["response"]
    assert parse_verdict(wide["choices"][0]) == (None, 0.0)


def test_verdict_lines() -> None:
    assert parse_verdict({"message": {"content": "unsafe\nS9"}}) == (True, None)
    assert parse_verdict({"text": " safe"}) == (False, None)
    assert parse_verdict({"text": ""}) == (None, None)


def test_protocols_build_openai_requests_and_check_answers() -> None:
    chat = LlamaGuardChat(model="m")
    body = chat.payload(["hi"])
    assert body["messages"][0]["role"] == "user" and "User: hi" in body["messages"][0]["content"]
    assert body["logprobs"] is True and body["top_logprobs"] == 20 and body["temperature"] == 0
    chat.check(_recorded("llamaguard-chat-top20")[1]["response"])
    completions = LlamaGuardCompletions(model="m")
    assert completions.payload(["hi"])["prompt"] == guard_prompt("hi")
    completions.check(_recorded("llamaguard-completions-top20")[1]["response"])
    with pytest.raises(ProtocolError):
        chat.check({"choices": []})
    with pytest.raises(ProtocolError):
        completions.check({"error": "overloaded"})
