"""Structured logs: one JSON object per line, and one line per request (`RequestRecord`).

A request line carries the request id, endpoint, status, latency, how many items were cached,
the windows scored, the verdict, the flagged categories (hazard codes; only when some are), the
model and LiteLLM's call id; never the prompt or response texts unless `MODERATION_LOG_TEXTS` is
on (they are user data). Health, readiness and metrics
probes log at debug, so that a probe every few seconds does not drown the request lines.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import orjson

REQUEST_ID_HEADER = "x-request-id"
# A caller's id is echoed into headers and logs, so only short, printable, unspaced ones are
# kept; anything else gets a fresh id rather than an error (ids are a debugging aid).
_GOOD_ID = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")

request_log = logging.getLogger("service.request")


def request_id_from(value: bytes | None) -> str:
    if value:
        text = value.decode("latin-1")
        if _GOOD_ID.fullmatch(text):
            return text
    return uuid.uuid4().hex


@dataclass(slots=True)
class RequestRecord:
    """What one request did; the accounting middleware creates it and logs it at the end."""

    request_id: str
    method: str
    endpoint: str
    model: str | None = None
    items: int = 0
    cached: int = 0
    windows: int = 0
    flagged: int = 0
    max_score: float | None = None
    shadow: bool = False
    categories: set[str] = field(default_factory=set)  # hazard codes flagged in any item
    litellm_call_id: str | None = None
    litellm_trace_id: str | None = None
    texts: list[str] = field(default_factory=list)

    def fields(self, status: int, latency_s: float, *, with_texts: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "request_id": self.request_id,
            "method": self.method,
            "endpoint": self.endpoint,
            "status": status,
            "latency_ms": round(latency_s * 1000.0, 3),
        }
        if self.model is not None:
            out |= {
                "model": self.model,
                "items": self.items,
                "cached": self.cached,
                "windows": self.windows,
                "verdict": "harmful" if self.flagged else "ok",
                "flagged": self.flagged,
                "max_score": None if self.max_score is None else round(self.max_score, 6),
                "shadow": self.shadow,
            }
            if self.categories:
                out["categories"] = sorted(self.categories, key=lambda c: int(c[1:]))
        if self.litellm_call_id is not None:
            out["litellm_call_id"] = self.litellm_call_id
        if self.litellm_trace_id is not None:
            out["litellm_trace_id"] = self.litellm_trace_id
        if with_texts and self.texts:
            out["texts"] = self.texts
        return out


current_request: ContextVar[RequestRecord | None] = ContextVar("current_request", default=None)


def note_scores(
    model: str,
    scores: Sequence[float],
    flags: Sequence[bool],
    *,
    cached: int,
    windows: int,
    shadow: bool,
    texts: Sequence[str] = (),
    categories: Sequence[str] = (),
) -> None:
    """Add one scoring call's outcome to the current request's record (if any)."""
    record = current_request.get()
    if record is None:
        return
    record.model = model
    record.items += len(scores)
    record.cached += cached
    record.windows += windows
    record.flagged += sum(flags)
    record.shadow = shadow
    record.categories.update(categories)
    if scores:
        top = max(scores)
        record.max_score = top if record.max_score is None else max(record.max_score, top)
    record.texts.extend(texts)


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "msg", ...}`; a record's `fields` extra is merged in."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            out |= extra
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


class TextFormatter(logging.Formatter):
    """For a terminal: the usual line, then a record's `fields` as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            line += " " + " ".join(f"{k}={v}" for k, v in extra.items())
        return line


def configure_logging(level: str, fmt: str) -> None:
    """Root handler on stderr; uvicorn's loggers propagate to it (it is run with no log config)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
