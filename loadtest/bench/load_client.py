"""The benchmark's load generator: keep-alive HTTP/1.1 connections driven by asyncio protocols.

Client and server share the machine's cores, so every microsecond the client spends is taken
from the server being measured. Each connection is a bare `asyncio.Protocol` that writes the
next pre-built request from its `data_received` callback: no stream reader, no task switch per
request, and only the two headers the benchmark reads are parsed.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

HEAD = b"POST /moderate HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"


@dataclass
class LoadResult:
    per_s: float
    p50_ms: float
    p99_ms: float
    server_p50_ms: float  # the server's own `Server-Timing: app;dur=` figure
    statuses: dict[int, int]


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class _Connection(asyncio.Protocol):
    """Sends requests one after another on one connection until the shared work runs out."""

    def __init__(
        self,
        requests: list[bytes],
        next_index: list[int],
        out: list[tuple[int, float, float]],
        done: asyncio.Future[None],
    ) -> None:
        self.requests = requests
        self.next_index = next_index
        self.out = out
        self.done = done
        self.buffer = b""
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._send_next()

    def _send_next(self) -> None:
        assert self.transport is not None
        index = self.next_index[0]
        if index >= len(self.requests):
            self.transport.close()
            return
        self.next_index[0] = index + 1
        self.sent_at = time.perf_counter()
        self.transport.write(self.requests[index])

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        length = 0
        server_ms = float("nan")
        for line in self.buffer[:head_end].split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"server-timing":
                server_ms = float(value.split(b"dur=")[1])
        end = head_end + 4 + length
        if len(self.buffer) < end:
            return
        status = int(self.buffer[9:12])
        self.out.append((status, time.perf_counter() - self.sent_at, server_ms))
        self.buffer = self.buffer[end:]
        self._send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


def http_load(url: str, bodies: list[bytes], concurrency: int) -> LoadResult:
    """POST every body to `url`/moderate over `concurrency` connections; throughput and latency."""
    host, port = url.rsplit("//", 1)[1].rsplit(":", 1)
    requests = [HEAD + b"Content-Length: %d\r\n\r\n" % len(body) + body for body in bodies]
    out: list[tuple[int, float, float]] = []

    async def run() -> float:
        loop = asyncio.get_running_loop()
        next_index = [0]
        finished = [loop.create_future() for _ in range(min(concurrency, len(requests)))]
        t0 = time.perf_counter()
        for done in finished:
            factory = functools.partial(_Connection, requests, next_index, out, done)
            await loop.create_connection(factory, host, int(port))
        await asyncio.gather(*finished)
        return time.perf_counter() - t0

    try:
        import uvloop

        elapsed = uvloop.run(run())
    except ImportError:
        elapsed = asyncio.run(run())
    statuses: dict[int, int] = {}
    for status, _, _ in out:
        statuses[status] = statuses.get(status, 0) + 1
    ok = [r for r in out if r[0] == 200]
    latencies = [r[1] for r in ok] or [float("nan")]
    server = [r[2] for r in ok] or [float("nan")]
    return LoadResult(
        per_s=len(ok) / elapsed,
        p50_ms=pct(latencies, 0.5) * 1000,
        p99_ms=pct(latencies, 0.99) * 1000,
        server_p50_ms=pct(server, 0.5),
        statuses=statuses,
    )
