"""`JsonBodyRoute`: the body parser's error locations, and the signatures it refuses at startup.

The HTTP behaviour of the routes that use it is tested through a real server in `test_api`.
"""

from __future__ import annotations

import json
import random
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError

from service.json_route import (
    BodyLimits,
    BoundedValidationError,
    JsonBodyRoute,
    count_values,
    parse_json_body,
    too_many_json_values,
)
from service.moderate.protocol import BatchModerateRequest, ModerateRequest

JSON = "application/json"


def error_of(raw: bytes, content_type: str = JSON, model: Any = ModerateRequest) -> dict[str, Any]:
    with pytest.raises(RequestValidationError) as caught:
        parse_json_body(model, raw, content_type)
    (first, *_) = caught.value.errors()
    return dict(first)


def test_valid_bodies_parse_with_any_json_media_type() -> None:
    for content_type in (JSON, "application/json; charset=utf-8", "application/vnd.api+json"):
        body = parse_json_body(ModerateRequest, b'{"prompt": "hi"}', content_type)
        assert body == ModerateRequest(prompt="hi")


@pytest.mark.parametrize(
    ("raw", "kind", "loc"),
    [
        (b"", "missing", ("body",)),
        (b"not json", "json_invalid", ("body",)),
        (b'{"prompt": "\xff"}', "json_invalid", ("body",)),
        (b"[1]", "model_type", ("body",)),
        (b'{"prompt": ""}', "string_too_short", ("body", "prompt")),
        (b'{"prompt": "ok", "x": 1}', "extra_forbidden", ("body", "x")),
        # A lone surrogate is valid JSON; the schema's Unicode check names the field.
        (b'{"prompt": "ok", "response": "\\ud800"}', "value_error", ("body", "response")),
    ],
)
def test_errors_carry_fastapi_locations(raw: bytes, kind: str, loc: tuple[str, ...]) -> None:
    error = error_of(raw)
    assert (error["type"], tuple(error["loc"])) == (kind, loc)


def test_nested_errors_name_the_item() -> None:
    error = error_of(b'{"items": [{"prompt": "ok"}, {"prompt": 3}]}', model=BatchModerateRequest)
    assert tuple(error["loc"]) == ("body", "items", 1, "prompt")


def test_a_body_not_declared_json_is_an_error() -> None:
    assert error_of(b'{"prompt": "hi"}', content_type="text/plain")["type"] == "content_type"


async def request_only(request: Request) -> str:
    return "dep"


def sync_request(request: Request) -> str:
    return "dep"


async def needs_a_query(q: int) -> str:
    return "dep"


def test_unsupported_signatures_are_refused_at_startup() -> None:
    router = APIRouter(route_class=JsonBodyRoute)

    async def fine(body: ModerateRequest, dep: Annotated[str, Depends(request_only)]) -> Any:
        return None

    router.add_api_route("/fine", fine, methods=["POST"])

    async def query(body: ModerateRequest, q: int) -> Any:
        return None

    async def deep(body: ModerateRequest, dep: Annotated[str, Depends(needs_a_query)]) -> Any:
        return None

    async def no_body(dep: Annotated[str, Depends(request_only)]) -> Any:
        return None

    def sync_endpoint(body: ModerateRequest) -> Any:
        return None

    async def sync_dep(body: ModerateRequest, dep: Annotated[str, Depends(sync_request)]) -> Any:
        return None

    for endpoint in (query, deep, no_body, sync_endpoint, sync_dep):
        with pytest.raises(TypeError):
            router.add_api_route("/x", endpoint, methods=["POST"])


def _values(node: Any) -> int:
    """What `count_values` counts: every value, and an empty container once more."""
    if isinstance(node, dict):
        return 1 + sum(map(_values, node.values())) + (not node)
    if isinstance(node, list):
        return 1 + sum(map(_values, node)) + (not node)
    return 1


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth < 4 and roll < 0.3:
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    if depth < 4 and roll < 0.6:
        keys = ["a", 'q"\\', "{[,", "\\\\"]
        return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return rng.choice([1, None, 2.5, "x,[{", 'he said "hi", \\ [ok]', "\\", '\\"', "é,{"])


def test_json_values_are_counted_without_parsing() -> None:
    rng = random.Random(0)
    for _ in range(2000):
        node = _random_json(rng)
        raw = json.dumps(node, ensure_ascii=rng.random() < 0.5).encode()
        values = _values(node)
        assert count_values(raw, 10**9) == values, raw
        assert not too_many_json_values(raw, values)
        assert values == 1 or too_many_json_values(raw, values - 1)
        # A head cut anywhere never counts more than the whole body holds.
        assert all(count_values(raw[:cut], 10**9) <= values for cut in range(len(raw)))


def test_bodies_with_too_many_values_are_refused_unparsed() -> None:
    limits = BodyLimits(max_items=8, max_json_values=1000)
    many = b'{"items": [' + b",".join([b"{}"] * 100_000) + b"]}"
    with pytest.raises(RequestValidationError) as caught:
        parse_json_body(BatchModerateRequest, many, JSON, limits)
    assert caught.value.errors()[0]["type"] == "too_many_values"
    # Brackets and commas inside texts are not structure.
    text = ",[{" * 2000
    body = parse_json_body(ModerateRequest, json.dumps({"prompt": text}).encode(), JSON, limits)
    assert body.prompt == text


def test_deep_nesting_is_invalid_json_not_a_crash() -> None:
    # Past pydantic-core's depth limit the stdlib fallback would overflow Python's stack.
    for depth in (1_000, 5_000, 15_000):
        deep = b"[" * depth + b"]" * depth
        for raw in (deep, b'{"prompt": ' + deep + b"}"):
            assert error_of(raw)["type"] == "json_invalid"
    # Shallower nesting parses, and the schema refuses it.
    assert error_of(b"[" * 300 + b"]" * 300)["type"] == "model_type"


def test_lists_are_refused_by_length_before_their_items() -> None:
    limits = BodyLimits(max_items=3)
    raw = json.dumps({"items": [{"bad": n} for n in range(500)]}).encode()
    with pytest.raises(BoundedValidationError) as caught:
        parse_json_body(BatchModerateRequest, raw, JSON, limits)
    errors = caught.value.errors()
    assert [e["type"] for e in errors] == ["too_long"]
    assert caught.value.total == 1
    within = json.dumps({"items": [{"bad": n} for n in range(3)]}).encode()
    with pytest.raises(BoundedValidationError) as caught:
        parse_json_body(BatchModerateRequest, within, JSON, BodyLimits(max_items=3))
    assert caught.value.total == 6  # prompt missing, `bad` unknown, in each of 3 items
