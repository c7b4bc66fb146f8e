"""Per-request accounting as a plain ASGI middleware (cheaper than Starlette's BaseHTTPMiddleware).

Counts `moderation_requests_total{endpoint,status}`, observes
`moderation_request_latency_seconds{endpoint}`, adds a `Server-Timing: app;dur=<ms>` header
(server-side time to the response head, which the benchmark reads) and refuses bodies over
`max_body_bytes` with 413 before reading them. It also gives each request its id (the caller's
`X-Request-ID`, else a new one, returned in the same header), opens its trace span when tracing
is on, and logs its line (`service.logs`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import Response

from service import tracing
from service.errors import CLIENT_CLOSED_STATUS, error_response
from service.logs import (
    REQUEST_ID_HEADER,
    RequestRecord,
    current_request,
    request_id_from,
    request_log,
)
from service.metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class RequestAccountingMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        max_body_bytes: int,
        endpoints: Callable[[], set[str]],
        quiet_paths: frozenset[str] = frozenset(),
        log_texts: bool = False,
    ) -> None:
        self.app = app
        self.quiet_paths = quiet_paths  # probes and scrapes: their lines go out at debug
        self.log_texts = log_texts
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self._endpoints = endpoints
        self._known: set[str] | None = None

    def _endpoint(self, path: str) -> str:
        if self._known is None:
            self._known = self._endpoints()
        return path if path in self._known else "other"  # bounded label cardinality

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        endpoint = self._endpoint(scope["path"])
        status = 500
        headers_in = scope.get("headers", ())
        given_id = next((v for k, v in headers_in if k == REQUEST_ID_HEADER.encode()), None)
        record = RequestRecord(request_id_from(given_id), scope.get("method", ""), endpoint)
        id_header = (REQUEST_ID_HEADER.encode(), record.request_id.encode())
        token = current_request.set(record)

        async def send_with_timing(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                elapsed_ms = (time.perf_counter() - started) * 1000.0
                headers = list(message.get("headers", ()))
                headers.append((b"server-timing", f"app;dur={elapsed_ms:.3f}".encode()))
                headers.append(id_header)
                message = {**message, "headers": headers}
            await send(message)

        try:
            if tracing.enabled():
                with tracing.server_span(
                    record.method, endpoint, headers_in, record.request_id
                ) as span:
                    await self._handle(scope, receive, send_with_timing)
                    span.set_attribute("http.response.status_code", status)
            else:
                await self._handle(scope, receive, send_with_timing)
        finally:
            latency = time.perf_counter() - started
            self.metrics.requests.labels(endpoint=endpoint, status=str(status)).inc()
            self.metrics.request_latency.labels(endpoint=endpoint).observe(latency)
            current_request.reset(token)
            # A client that left (499) is not news: one line at debug, as for probes.
            quiet = endpoint in self.quiet_paths or status == CLIENT_CLOSED_STATUS
            level = logging.DEBUG if quiet else logging.INFO
            if request_log.isEnabledFor(level):
                fields = record.fields(status, latency, with_texts=self.log_texts)
                request_log.log(level, "request", extra={"fields": fields})

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = _content_length(scope)
        if length is not None and length > self.max_body_bytes:
            await _too_large(self.max_body_bytes)(scope, receive, send)
            return
        if length is None and scope.get("method") in ("POST", "PUT", "PATCH"):
            receive = self._limited(receive)
        await self.app(scope, receive, send)

    def _limited(self, receive: Receive) -> Receive:
        """A chunked body (no Content-Length) is counted as it arrives."""
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body_bytes:
                raise HTTPException(413, f"the body is over {self.max_body_bytes} bytes")
            return message

        return limited


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large(limit: int) -> Response:
    return error_response(
        413,
        message=f"the body is over {limit} bytes",
        type_="invalid_request_error",
        code="too_large",
        details=[{"field": "body", "reason": f"over {limit} bytes"}],
        headers={"connection": "close"},
    )
