"""Optional OpenTelemetry spans (`MODERATION_TRACING=true`, the `tracing` extra).

Per request: the HTTP span (its parent taken from a W3C `traceparent` header), and under it
`moderation.cache_get`, `moderation.tokenize`, `moderation.queue_wait`, `moderation.inference`
and `moderation.cache_set`. Queue wait and inference happen on a batcher worker thread, for a
batch shared by several requests, so `timed_forward` stamps each sequence of a batch with the
forward pass's start and end, and the request draws both spans from those stamps afterwards.

Off (the default), every helper here is a cheap no-op and OpenTelemetry is never imported, so
the serving install does not need it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

S = TypeVar("S")
R = TypeVar("R")

_tracer: Any = None
_stamps: dict[int, tuple[int, int]] = {}
# Stamps of sequences whose request gave up (deadline) are never collected; past this many,
# the table is cleared rather than left to grow.
_MAX_STAMPS = 100_000


class TracingUnavailableError(RuntimeError):
    """Tracing is on but OpenTelemetry's SDK is not installed."""


def enabled() -> bool:
    return _tracer is not None


def setup(service_name: str, exporter: Any = None) -> None:
    """Install a tracer provider: OTLP/HTTP (configured by OTEL_* variables) unless `exporter`
    is given (tests pass an in-memory one)."""
    global _tracer
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError as exc:
        raise TracingUnavailableError(
            'MODERATION_TRACING=true needs the tracing extra: pip install ".[cpu,tracing]"'
        ) from exc
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _tracer = provider.get_tracer("service")


def shutdown() -> None:
    global _tracer
    if _tracer is None:
        return
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    flush = getattr(provider, "shutdown", None)
    if flush is not None:
        flush()
    _tracer = None


def span(name: str, **attributes: Any) -> contextlib.AbstractContextManager[Any]:
    if _tracer is None:
        return contextlib.nullcontext()
    manager: contextlib.AbstractContextManager[Any] = _tracer.start_as_current_span(
        name, attributes=attributes
    )
    return manager


@contextlib.contextmanager
def server_span(
    method: str, path: str, headers: Iterable[tuple[bytes, bytes]], request_id: str
) -> Iterator[Any]:
    """The request's root span, continuing the caller's trace when it sent `traceparent`."""
    if _tracer is None:
        yield None
        return
    from opentelemetry.propagate import extract
    from opentelemetry.trace import SpanKind

    carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers}
    with _tracer.start_as_current_span(
        f"{method} {path}",
        context=extract(carrier),
        kind=SpanKind.SERVER,
        attributes={"http.request.method": method, "url.path": path, "request.id": request_id},
    ) as current:
        yield current


def timed_forward(forward: Callable[[Sequence[S]], R]) -> Callable[[Sequence[S]], R]:
    """Wraps an engine's forward pass to stamp each sequence with the pass's (start, end) ns."""

    def timed(sequences: Sequence[S]) -> R:
        start = time.time_ns()
        scores = forward(sequences)
        end = time.time_ns()
        if len(_stamps) > _MAX_STAMPS:
            _stamps.clear()
        for seq in sequences:
            _stamps[id(seq)] = (start, end)
        return scores

    return timed


def batch_spans(sequences: Sequence[Any], submitted_ns: int, scored_ns: int) -> None:
    """`queue_wait` and `inference` spans of one request's sequences, from their stamps."""
    found = [_stamps.pop(id(seq), None) for seq in sequences]
    if _tracer is None:
        return
    stamps = [s for s in found if s is not None]
    # A sequence served by another request's identical one (single flight) has no stamp of
    # its own; then the whole wait is reported as one span.
    if not stamps:
        _tracer.start_span(
            "moderation.batch", start_time=submitted_ns, attributes={"sequences": len(sequences)}
        ).end(end_time=scored_ns)
        return
    first = min(s for s, _ in stamps)
    last = max(e for _, e in stamps)
    attributes: Mapping[str, Any] = {"sequences": len(sequences)}
    _tracer.start_span("moderation.queue_wait", start_time=submitted_ns).end(end_time=first)
    _tracer.start_span("moderation.inference", start_time=first, attributes=attributes).end(
        end_time=last
    )
