"""Per-request accounting as a plain ASGI middleware (cheaper than Starlette's BaseHTTPMiddleware).

Counts `moderation_requests_total{endpoint,status}`, observes
`moderation_request_latency_seconds{endpoint}`, adds a `Server-Timing: app;dur=<ms>` header
(server-side time to the response head, which the benchmark reads) and refuses bodies over
`max_body_bytes` with 413 before reading them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import Response

from service.errors import error_response
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
    ) -> None:
        self.app = app
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

        async def send_with_timing(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                elapsed_ms = (time.perf_counter() - started) * 1000.0
                headers = list(message.get("headers", ()))
                headers.append((b"server-timing", f"app;dur={elapsed_ms:.3f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            length = _content_length(scope)
            if length is not None and length > self.max_body_bytes:
                status = 413
                await _too_large(self.max_body_bytes)(scope, receive, send_with_timing)
                return
            if length is None and scope.get("method") in ("POST", "PUT", "PATCH"):
                receive = self._limited(receive)
            await self.app(scope, receive, send_with_timing)
        finally:
            self.metrics.requests.labels(endpoint=endpoint, status=str(status)).inc()
            self.metrics.request_latency.labels(endpoint=endpoint).observe(
                time.perf_counter() - started
            )

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
