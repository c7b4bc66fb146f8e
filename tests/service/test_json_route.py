"""`JsonBodyRoute`: the body parser's error locations, and the signatures it refuses at startup.

The HTTP behaviour of the routes that use it is tested through a real server in `test_api`.
"""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError

from service.json_route import JsonBodyRoute, parse_json_body
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
