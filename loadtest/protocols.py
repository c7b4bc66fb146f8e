"""How each kind of target is asked to moderate a prompt, and how its answer is checked.

Shared by the Locust users (the load) and by the warm-up in `compare` (plain HTTP), so both send
exactly the same requests. A protocol builds a JSON body from `items_per_request` prompts and
raises `ProtocolError` when an answer does not carry a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from contract.llamaguard import guard_task
from loadtest.llamaguard import DEFAULT_CATEGORIES, guard_prompt, parse_verdict


class ProtocolError(ValueError):
    """A 2xx answer that does not hold what the protocol promises."""


@dataclass(frozen=True)
class Protocol:
    name: str
    path: str
    items_per_request: int = 1

    def payload(self, prompts: Sequence[str]) -> dict[str, Any]:
        raise NotImplementedError

    def check(self, body: Any) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Moderate(Protocol):
    """This service's (and the plain baseline's) `POST /moderate`."""

    name: str = "moderate"
    path: str = "/moderate"

    def payload(self, prompts: Sequence[str]) -> dict[str, Any]:
        return {"prompt": prompts[0], "response": None}

    def check(self, body: Any) -> None:
        if not isinstance(body, dict) or not isinstance(body.get("score"), float | int):
            raise ProtocolError(f"no score in {str(body)[:200]}")


@dataclass(frozen=True)
class ModerateBatch(Protocol):
    """This service's `POST /moderate/batch` with `items_per_request` prompts."""

    name: str = "moderate-batch"
    path: str = "/moderate/batch"
    items_per_request: int = 16

    def payload(self, prompts: Sequence[str]) -> dict[str, Any]:
        return {"items": [{"prompt": p, "response": None} for p in prompts]}

    def check(self, body: Any) -> None:
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or len(results) != self.items_per_request:
            raise ProtocolError(f"expected {self.items_per_request} results: {str(body)[:200]}")


@dataclass(frozen=True)
class LlamaGuardChat(Protocol):
    """OpenAI-compatible `/v1/chat/completions`: the Llama Guard 3 instruction as the user turn
    (the server's chat template wraps it), greedy, a verdict of a few tokens, top logprobs."""

    name: str = "llamaguard-chat"
    path: str = "/v1/chat/completions"
    model: str = "llama-guard"
    max_tokens: int = 8
    top_logprobs: int = 20
    categories: tuple[tuple[str, str], ...] = field(default=DEFAULT_CATEGORIES)

    def payload(self, prompts: Sequence[str]) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": [
                {"role": "user", "content": guard_task(prompts[0], None, self.categories)}
            ],
            "max_tokens": self.max_tokens,
            "temperature": 0.0,
            "logprobs": True,
            "top_logprobs": self.top_logprobs,
        }

    def check(self, body: Any) -> None:
        choices = body.get("choices") if isinstance(body, dict) else None
        if not choices:
            raise ProtocolError(f"no choices in {str(body)[:200]}")
        parse_verdict(choices[0])


@dataclass(frozen=True)
class LlamaGuardCompletions(LlamaGuardChat):
    """OpenAI-compatible `/v1/completions` with the raw Llama Guard 3 prompt (header tokens
    included), as vLLM serves Llama-Guard-3-8B without a chat template."""

    name: str = "llamaguard-completions"
    path: str = "/v1/completions"

    def payload(self, prompts: Sequence[str]) -> dict[str, Any]:
        return {
            "model": self.model,
            "prompt": guard_prompt(prompts[0], None, self.categories),
            "max_tokens": self.max_tokens,
            "temperature": 0.0,
            "logprobs": self.top_logprobs,
        }


@dataclass(frozen=True)
class InfinityClassify(Protocol):
    """infinity-emb's `POST /classify`, one prompt per request."""

    name: str = "infinity-classify"
    path: str = "/classify"
    model: str = "."

    def payload(self, prompts: Sequence[str]) -> dict[str, Any]:
        return {"model": self.model, "input": list(prompts[: self.items_per_request])}

    def check(self, body: Any) -> None:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or len(data) != self.items_per_request:
            raise ProtocolError(f"no classification in {str(body)[:200]}")
