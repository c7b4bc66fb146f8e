"""The HTTP server around the app: uvicorn with a drain on SIGTERM and limits on slow clients.

Plain uvicorn closes the listener at once on SIGTERM, so `/readyz` never answers 503 for a load
balancer to see, and clients holding a half-sent body delay the exit; it also accepts very large
request headers and holds slowloris sockets for long. Here:

- SIGTERM starts a drain: `/readyz` answers 503 for `shutdown_drain_seconds` while every
  request is still served (each reply with `Connection: close`, so no client is left with a
  request on a connection that the shutdown closes), then uvicorn's graceful shutdown gets
  what is left of `shutdown_timeout_seconds` (counted from the signal) for in-flight requests,
  after which it cancels what remains. A second SIGTERM, or SIGINT, skips the drain.
- Each connection must deliver a request's headers within `header_timeout_seconds` (also the
  first request of a new connection) and in at most `max_header_bytes` (431 otherwise); a body
  may pause at most `body_timeout_seconds`. Closing such a connection reaches the app as a
  client disconnect (499 in the metrics).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.config import Settings

log = logging.getLogger(__name__)

_CONNECTION_CLOSE = (b"connection", b"close")
# How long a connection without a request in progress may stay open once shutdown begins.
_SHUTDOWN_GRACE_S = 0.5


def _plain_response(status: str, message: str) -> bytes:
    body = f'{{"error": {{"message": "{message}", "type": "invalid_request_error"}}}}'.encode()
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header size limit and header and body read timeouts.

    The limits are class attributes, set by `guarded_protocol` (uvicorn builds the protocol
    from a class).
    """

    max_header_bytes = 65_536
    header_timeout_s = 10.0
    body_timeout_s = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._in_headers = True
        self._header_bytes = 0
        self._refused = False
        self._shutting_down = False
        self._read_timer: asyncio.TimerHandle | None = None
        self._arm(self.header_timeout_s, "408 Request Timeout", "the request headers took too long")

    def _arm(self, delay: float, status: str, message: str) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
        self._read_timer = self.loop.call_later(delay, self._timed_out, status, message)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _timed_out(self, status: str, message: str) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        # Mid-body the app owns the response; closing ends its read as a disconnect.
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(_plain_response(status, message))
        self.transport.close()

    def _refuse_headers(self) -> None:
        self._refused = True
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(
                _plain_response(
                    "431 Request Header Fields Too Large",
                    f"the request headers are over {self.max_header_bytes} bytes",
                )
            )
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        # The parser holds an unfinished header line until it ends, so a stream of header
        # bytes is counted here, chunk by chunk, rather than in `on_header`.
        if self._in_headers and not self._refused:
            self._header_bytes += len(data)
            if self._header_bytes > self.max_header_bytes:
                self._refuse_headers()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._header_bytes = 0
        self._arm(self.header_timeout_s, "408 Request Timeout", "the request headers took too long")

    def on_url(self, url: bytes) -> None:
        self._header_bytes += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_headers = False
        if self._header_bytes > self.max_header_bytes:
            self._refuse_headers()  # before the app sees the request
            return
        self._arm(self.body_timeout_s, "408 Request Timeout", "the request body took too long")
        super().on_headers_complete()
        if self._shutting_down and self.cycle is not None:
            self.cycle.keep_alive = False

    def on_body(self, body: bytes) -> None:
        if self._refused:
            return
        self._arm(self.body_timeout_s, "408 Request Timeout", "the request body took too long")
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        self._disarm()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        # uvicorn closes a connection at once when no request is in progress on it, but one
        # accepted just before the listener closed (or an idle keep-alive one) may have a
        # request on its way: it gets a moment to arrive, and is then served and closed.
        if self.cycle is None or self.cycle.response_complete:
            self._shutting_down = True
            self.loop.call_later(_SHUTDOWN_GRACE_S, self._close_if_idle)
            return
        super().shutdown()

    def _close_if_idle(self) -> None:
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()
        else:
            self.cycle.keep_alive = False


def guarded_protocol(settings: Settings) -> type[GuardedHttpToolsProtocol]:
    return type(
        "GuardedHttpToolsProtocol",
        (GuardedHttpToolsProtocol,),
        {
            "max_header_bytes": settings.max_header_bytes,
            "header_timeout_s": settings.header_timeout_seconds,
            "body_timeout_s": settings.body_timeout_seconds,
        },
    )


class DrainingServer(uvicorn.Server):
    """A first SIGTERM calls `on_drain` and keeps serving for `drain_s`, then shuts down."""

    def __init__(
        self, config: uvicorn.Config, *, drain_s: float, on_drain: Callable[[], None]
    ) -> None:
        super().__init__(config)
        self._drain_s = drain_s
        self._on_drain = on_drain
        self._drain_until: float | None = None
        self._drain_logged = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and self._drain_until is None and self._drain_s > 0:
            self._drain_until = time.monotonic() + self._drain_s
            self._on_drain()  # a flag: safe in a signal handler; logged on the next tick
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        should_exit = await super().on_tick(counter)
        if self._drain_until is None:
            return should_exit
        if not self._drain_logged:
            self._drain_logged = True
            log.info("SIGTERM: draining for %.1f s (/readyz answers 503)", self._drain_s)
        # Every reply from now on ends its connection, so clients reconnect (to another
        # replica, or to this one while it still listens) instead of sending a next request
        # on a connection the shutdown is about to close. uvicorn rebuilds the defaults every
        # second, hence the check on each tick.
        defaults = self.server_state.default_headers
        if _CONNECTION_CLOSE not in defaults:
            self.server_state.default_headers = [*defaults, _CONNECTION_CLOSE]
        return should_exit or time.monotonic() >= self._drain_until


def serve(app: Any, settings: Settings) -> None:
    """Run `app` until SIGTERM or SIGINT (blocking)."""

    def drain() -> None:
        state = getattr(app.state, "service", None)
        if state is not None:
            state.draining = True

    drain_s = min(settings.shutdown_drain_seconds, settings.shutdown_timeout_seconds)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        workers=1,
        loop="uvloop",
        http=guarded_protocol(settings),
        log_level=settings.log_level,
        access_log=False,
        # uvicorn's own config would give its loggers plain-text handlers; without it they
        # propagate to the root handler, so every line is in MODERATION_LOG_FORMAT.
        log_config=None,
        # In-flight requests get what is left of the shutdown bound after the drain.
        timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout_seconds - drain_s)),
    )
    DrainingServer(config, drain_s=drain_s, on_drain=drain).run()
