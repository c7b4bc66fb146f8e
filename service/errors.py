"""Every failure becomes a JSON body naming the field and the reason; never a bare 500.

Body: `{"error": {"message", "type", "code", "param", "details": [{"field", "reason"}]}}` (the
OpenAI error shape plus `details`). Bad input is 400 (not JSON), 413 (over a size limit) or 422;
overload is 429 (queue full) or 503 (deadline, shutting down), both with Retry-After.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from service.batcher import (
    BatcherError,
    DeadlineExceededError,
    InferenceError,
    QueueFullError,
)

log = logging.getLogger(__name__)


class InvalidInputError(Exception):
    """Input that passed the schema but breaks a configured limit (size, item count)."""

    def __init__(
        self, field: str, reason: str, *, status: int = 422, code: str = "invalid"
    ) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.status = status
        self.code = code


def error_response(
    status: int,
    *,
    message: str,
    type_: str,
    code: str,
    details: Sequence[dict[str, str]] = (),
    headers: dict[str, str] | None = None,
    param_from_details: bool = True,
) -> Response:
    """The error body as a response; also an ASGI app, so raw middlewares can send it too."""
    body = {
        "error": {
            "message": message,
            "type": type_,
            "code": code,
            "param": details[0]["field"] if details and param_from_details else None,
            "details": list(details),
        }
    }
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


# A reason is a sentence; a longer one is pydantic echoing something the client sent.
_MAX_REASON_CHARS = 200
# Not an HTTP status a client ever sees: nginx's "client closed request", for the metrics.
CLIENT_CLOSED_STATUS = 499


def _field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) if parts else "body"


def _reason(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "field required"
    return str(error.get("msg", "invalid value"))[:_MAX_REASON_CHARS]


def validation_error_response(exc: RequestValidationError, *, status: int = 422) -> Response:
    """The JSON reply for a schema error: 400 for a non-JSON body, else `status`."""
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(
            400,
            message="the request body is not valid JSON",
            type_="invalid_request_error",
            code="invalid_json",
            details=[{"field": "body", "reason": "not valid JSON"}],
        )
    details = [{"field": _field(e.get("loc", ())), "reason": _reason(e)} for e in errors]
    message = "; ".join(f"{d['field']}: {d['reason']}" for d in details)
    # The route keeps only the first errors of a hostile body (json_route.MAX_ERRORS).
    total = getattr(exc, "total", len(details))
    if total > len(details):
        message += f" (and {total - len(details)} more errors)"
    response = error_response(
        status, message=message, type_="invalid_request_error", code="invalid", details=details
    )
    response.headers["x-error-count"] = str(total)
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return validation_error_response(exc)


async def _invalid_input(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidInputError)
    return error_response(
        exc.status,
        message=str(exc),
        type_="invalid_request_error",
        code=exc.code,
        details=[{"field": exc.field, "reason": exc.reason}],
    )


async def _overloaded(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BatcherError)
    if isinstance(exc, QueueFullError):
        # MODERATION_OVERLOAD_STATUS: 429 (the default) or 503, as the gateway in front prefers.
        status = getattr(request.app.state.settings, "overload_status", 429)
        code, type_ = "queue_full", "overloaded_error"
    elif isinstance(exc, DeadlineExceededError):
        status, code, type_ = 503, "deadline_exceeded", "overloaded_error"
    else:
        status, code, type_ = 503, "unavailable", "unavailable_error"
    retry_after = str(max(1, math.ceil(exc.retry_after)))
    return error_response(
        status,
        message=str(exc),
        type_=type_,
        code=code,
        headers={"Retry-After": retry_after},
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    # FastAPI raises 400 itself for a body it cannot decode (e.g. not UTF-8).
    body_error = exc.status_code in (400, 413)
    return error_response(
        exc.status_code,
        message=str(exc.detail),
        type_="invalid_request_error" if exc.status_code < 500 else "server_error",
        code=str(exc.status_code),
        details=[{"field": "body", "reason": str(exc.detail)}] if body_error else (),
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _client_disconnect(request: Request, exc: Exception) -> Response:
    # The client left (mid-body, or while its request waited): nothing to answer and nothing
    # went wrong here. The response is never sent; its status is what the metrics count and
    # the request line logs (at debug, middleware.py), with no traceback.
    return Response(status_code=CLIENT_CLOSED_STATUS)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    code = "inference_failed" if isinstance(exc, InferenceError) else "internal"
    return error_response(500, message="internal server error", type_="server_error", code=code)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InvalidInputError, _invalid_input)
    app.add_exception_handler(BatcherError, _overloaded)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_disconnect)
    app.add_exception_handler(InferenceError, _internal_error)
    app.add_exception_handler(Exception, _internal_error)
