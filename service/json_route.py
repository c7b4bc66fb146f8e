"""`JsonBodyRoute`: a FastAPI route for the hot endpoints, without per-request dependency solving.

The endpoint is declared as usual (a pydantic body parameter plus `Depends` on the request), so
the OpenAPI docs come from its signature. Serving it is leaner than FastAPI's generic handler,
which solves the dependency graph, decodes the JSON with the stdlib and then validates the dict
on every request (~30% of a cache hit's CPU when profiled): here pydantic-core validates the raw
bytes in one pass and each dependency is awaited with the request directly.

Errors keep FastAPI's shape (`RequestValidationError` with `body`-prefixed locations), so the
service's handlers answer exactly as before.

Hostile bodies cost little: a body with more JSON values than `BodyLimits.max_json_values` is
refused before it is parsed (parsing 2M tiny objects took 0.14-0.37 s and hundreds of MB;
counting them takes ~25 ms), nesting past the parser's depth limit is a 400, the configured item
limits reach the schema as validation context (so lists are refused by length before their items
are validated), and only the first `MAX_ERRORS` validation errors are kept. A client that leaves
while its request waits cancels the request (its queued work is dropped); `ClientDisconnect` then
answers with 499 for the metrics.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import Receive

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

# Validation errors kept per request: enough to fix a request, bounded for hostile ones.
MAX_ERRORS = 20
# Counting JSON values without parsing: escapes are dropped, then every byte but quotes and
# the bytes that separate or open values, so that what is left is small and strings are
# runs between quotes.
_STRUCTURE = b'",[{'
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in _STRUCTURE)
_STRING = re.compile(rb'"[^"]*"')


@dataclass(frozen=True)
class BodyLimits:
    """Per-app limits that the routes apply while parsing; `app.state.body_limits`."""

    max_items: int = 256  # longest list of texts or items (validation context `max_items`)
    max_json_values: int = 16_384  # JSON values in one body, counted before parsing


class BoundedValidationError(RequestValidationError):
    """A validation error that keeps the first `MAX_ERRORS` errors and the total count."""

    def __init__(self, errors: list[dict[str, Any]], total: int) -> None:
        super().__init__(errors)
        self.total = total


def _in_body(exc: ValidationError) -> BoundedValidationError:
    # `errors()` builds every error as a dict; the list is already bounded by the schema's
    # length limits, but only the first few are worth sending back.
    errors = exc.errors(include_url=False, include_input=False)[:MAX_ERRORS]
    kept = [{**e, "loc": ("body", *e["loc"])} for e in errors]
    return BoundedValidationError(kept, exc.error_count())


def _body_error(kind: str, msg: str) -> RequestValidationError:
    return RequestValidationError([{"type": kind, "loc": ("body",), "msg": msg, "input": None}])


def is_json(content_type: str | None) -> bool:
    media = (content_type or "").partition(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def too_many_json_values(raw: bytes, limit: int) -> bool:
    """Whether a JSON text holds more than `limit` values (an empty container counts twice).

    Every value but the first follows a comma or is a container's first member, so commas plus
    container openings outside strings count them. All in C and without parsing: ~10 ms for a
    6 MB body of 2M `{}` (its head already holds too many), ~80 ms when all of 16 MB must be
    read.
    """
    if raw.count(b",") + raw.count(b"[") + raw.count(b"{") < limit:
        return False  # nearly every body: even inside its texts there are not that many
    head = raw[: 32 * limit]
    if len(head) < len(raw) and count_values(head, limit) > limit:
        return True
    return count_values(raw, limit) > limit


def count_values(raw: bytes, limit: int) -> int:
    """The values counted by `too_many_json_values` (exact up to `limit`), in `raw`, which may
    be the head of a body cut anywhere (then never more than the whole body holds)."""
    # A cut after a backslash would pair it with nothing; the dropped bytes hold no value.
    structure = raw.rstrip(b"\\").replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = structure.translate(None, _NOT_STRUCTURE)
    quotes = structure.count(b'"')
    # A value brings at most two strings (a key and itself), so that many quotes are over the
    # limit already; this also bounds the work below.
    if quotes // 4 > limit:
        return quotes // 4
    if quotes % 2:  # a head cut inside a string: what follows its opening quote is text
        structure = structure[: structure.rindex(b'"')]
    outside = _STRING.sub(b"", structure) if quotes else structure
    return outside.count(b",") + outside.count(b"[") + outside.count(b"{") + 1


def check_json_size(raw: bytes, max_values: int) -> None:
    # A value takes at least two bytes with its comma, so a short body needs no count.
    if len(raw) > 2 * max_values and too_many_json_values(raw, max_values):
        raise _body_error(
            "too_many_values",
            f"the body holds more than {max_values} JSON values (MODERATION_MAX_JSON_VALUES)",
        )


def parse_json_body(
    model: type[BaseModel],
    raw: bytes,
    content_type: str | None,
    limits: BodyLimits | None = None,
) -> Any:
    """The validated body; `RequestValidationError` (as FastAPI raises it) when it is not."""
    limits = limits or BodyLimits()
    if not raw:
        raise _body_error("missing", "Field required")
    if not is_json(content_type):
        raise _body_error("content_type", "the body must be JSON (Content-Type: application/json)")
    check_json_size(raw, limits.max_json_values)
    context = {"max_items": limits.max_items}
    try:
        return model.model_validate_json(raw, context=context)
    except ValidationError as exc:
        if not any(e["type"] == "json_invalid" for e in exc.errors(include_url=False)):
            raise _in_body(exc) from None
    # pydantic-core refuses lone surrogate escapes (`"\ud800"`), which JSON allows; the stdlib
    # decodes them, so the schema's own text check can name the field they are in.
    try:
        data = json.loads(raw)
    except ValueError:  # not JSON, or not UTF-8
        raise _body_error("json_invalid", "JSON decode error") from None
    except RecursionError:  # nested deeper than the interpreter's stack allows
        raise _body_error("json_invalid", "JSON nested too deeply") from None
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise _in_body(exc) from None
    except RecursionError:
        raise _body_error("json_invalid", "JSON nested too deeply") from None


async def _cancel_on_disconnect(receive: Receive, task: asyncio.Task[Any]) -> bool:
    """Once the body is read, the server's `receive` returns only when the client leaves (or
    the response is complete, by which time this watcher is cancelled)."""
    message = await receive()
    if message["type"] == "http.disconnect":
        task.cancel()
        return True
    return False


class JsonBodyRoute(APIRoute):
    """For endpoints `async def f(body: Model, name: Annotated[T, Depends(dep)], ...)` where every
    dependency is `async def dep(request: Request) -> T`; anything else is refused at startup."""

    def get_route_handler(self) -> Handler:
        dependant = self.dependant
        if len(dependant.body_params) != 1 or any(
            (dependant.path_params, dependant.query_params, dependant.header_params,
             dependant.cookie_params)
        ):  # fmt: skip
            raise TypeError(f"{self.path}: JsonBodyRoute takes exactly one body parameter")
        body_param = dependant.body_params[0]
        model = body_param.field_info.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"{self.path}: the body must be a pydantic model")
        dependencies: list[tuple[str, Callable[[Request], Awaitable[Any]]]] = []
        for dep in dependant.dependencies:
            only_request = dep.request_param_name is not None and not (
                dep.dependencies or dep.body_params or dep.query_params or dep.header_params
            )
            if (
                dep.name is None
                or dep.call is None
                or not only_request
                or not inspect.iscoroutinefunction(dep.call)
            ):
                raise TypeError(
                    f"{self.path}: JsonBodyRoute dependencies take only the request ({dep.call})"
                )
            dependencies.append((dep.name, dep.call))
        endpoint = self.endpoint
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"{self.path}: JsonBodyRoute endpoints are `async def`")
        body_name = body_param.name

        async def handle(request: Request) -> Response:
            raw = await request.body()  # ClientDisconnect when the client leaves mid-body
            limits: BodyLimits | None = getattr(request.app.state, "body_limits", None)
            content_type = request.headers.get("content-type")
            kwargs = {body_name: parse_json_body(model, raw, content_type, limits)}
            for name, call in dependencies:
                kwargs[name] = await call(request)
            task = asyncio.current_task()
            assert task is not None
            watcher = asyncio.create_task(_cancel_on_disconnect(request.receive, task))
            try:
                response: Response = await endpoint(**kwargs)
            except asyncio.CancelledError:
                if watcher.done() and not watcher.cancelled() and watcher.result():
                    # Our own cancellation: the request ends here, as a disconnect.
                    task.uncancel()
                    raise ClientDisconnect() from None
                raise
            finally:
                watcher.cancel()
            return response

        return handle
