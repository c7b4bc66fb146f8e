"""All server settings, read from `MODERATION_*` environment variables (see the README table)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from contract.categories import LLAMA_GUARD_CATEGORIES


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MODERATION_", extra="ignore")

    artifact_dir: Path = Path("model_artifacts/student")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"

    # Cache: Redis when a URL is set, else an in-process LRU of `cache_size` entries (0 = off).
    redis_url: str | None = None
    cache_size: int = Field(default=100_000, ge=0)
    cache_ttl_seconds: float = Field(default=3600.0, gt=0)
    redis_timeout_seconds: float = Field(default=0.05, gt=0)
    # After a Redis error, skip Redis for this long so a dead server costs nothing per request.
    redis_retry_seconds: float = Field(default=1.0, ge=0)

    # Batching. A batch holds at most `max_batch_size` sequences and `max_batch_tokens` padded
    # tokens (size x longest member); members are chosen so that pad tokens stay under
    # `max_padding_ratio` of the batch. `max_wait_ms` is how long an idle engine may wait for
    # more requests to fill a batch (0: start at once; batches still form while it is busy).
    batching: Literal["length_aware", "fifo"] = "length_aware"
    max_batch_size: int = Field(default=32, ge=1)
    # Small token budgets win on CPU (bigger batches spill the caches); `make bench` prints the
    # raw sweep that backs this default.
    max_batch_tokens: int = Field(default=256, ge=1)
    # With one session per core, small tight batches beat big loose ones (compare settings with
    # `python -m loadtest.bench.serving --ab`).
    max_padding_ratio: float = Field(default=0.1, ge=0.0, lt=1.0)
    max_wait_ms: float = Field(default=0.0, ge=0)
    max_queue: int = Field(default=2048, ge=1)
    request_timeout_ms: float = Field(default=5000.0, gt=0)

    # Batches run on `engine_workers` ONNX Runtime sessions side by side, each with
    # `onnx_threads` threads. On CPU, 1-thread sessions side by side score more than one session
    # with all threads (`make bench` measures both), because the short batches of a moderation
    # load are too small to split well across threads. 0 = auto: on CPU one 1-thread session per
    # CPU this process may use; on CUDA one session.
    engine_workers: int = Field(default=0, ge=0)
    onnx_threads: int = Field(default=0, ge=0)  # 0 = auto: CPUs / engine workers

    # Input limits.
    max_text_chars: int = Field(default=32_000, ge=1)
    max_batch_items: int = Field(default=256, ge=1)
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)

    # Reliability under abuse (service/README.md, "Reliability"). A body with more
    # JSON values than `max_json_values` is refused before it is parsed; a request whose texts
    # need more than `max_request_windows` model windows (estimated from characters before
    # tokenising, counted after; never below `max_batch_items`, so that any batch of short
    # texts fits) is refused with 413.
    max_json_values: int = Field(default=16_384, ge=64)
    max_request_windows: int = Field(default=256, ge=1)
    # Shutdown: on SIGTERM /readyz answers 503 for `shutdown_drain_seconds` while requests are
    # still served (so load balancers stop sending), then the listener closes and in-flight
    # requests get what is left of `shutdown_timeout_seconds` (counted from the signal).
    shutdown_drain_seconds: float = Field(default=5.0, ge=0)
    shutdown_timeout_seconds: float = Field(default=15.0, gt=0)
    # Slow or hostile clients: a request's headers must arrive within `header_timeout_seconds`
    # and hold at most `max_header_bytes`; a body may pause at most `body_timeout_seconds`.
    max_header_bytes: int = Field(default=65_536, ge=1024)
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    body_timeout_seconds: float = Field(default=10.0, gt=0)

    threshold: float | None = Field(default=None, ge=0.0, le=1.0)  # None = the manifest's
    # Pairs with a response (contract/thresholds.py). None = the manifest's `response_threshold`,
    # and without one, the threshold above.
    response_threshold: float | None = Field(default=None, ge=0.0, le=1.0)

    # The category head (service/category_policy.py), when the artifact has one. Categories
    # are reported beside the binary verdict; by default only the binary verdict blocks.
    categories: bool = Field(
        default=True, description="serve the artifact's category head; false: binary only"
    )
    block_categories: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="hazard codes (S1..S14) or `all` whose flag also blocks, e.g. S4",
    )
    category_thresholds: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=dict,
        description="per-category threshold overrides, e.g. S4=0.2,S11=0.4",
    )

    # Text longer than the model's window (service/windows.py): score overlapping windows and
    # keep the highest score, or cut to head+tail, or truncate. `window_stride` is in tokens
    # (unset: 3/4 of a window); over `max_windows` the windows spread evenly and the reply says
    # `truncated`.
    long_input_policy: Literal["windows", "head_tail", "truncate"] = "windows"
    window_stride: int | None = Field(default=None, ge=1)
    max_windows: int = Field(default=32, ge=1)

    # API keys (service/auth.py): comma-separated; none = no authentication. `auth_protect_ops`
    # also guards /healthz, /readyz, /metrics and the docs.
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    auth_protect_ops: bool = False

    # Operations. Logs: one JSON object per line; each request logs one line at info.
    log_format: Literal["json", "text"] = Field(
        default="json", description="json: one object per line; text: for a terminal"
    )
    # Prompts and responses are user data: request lines carry them only when this is on.
    log_texts: bool = Field(default=False, description="debug: put texts in request log lines")
    # LiteLLM's guardrail fails closed on any error status by default; gateways that retry or
    # fail open on one code but not the other can choose what a full queue answers.
    overload_status: Literal[429, 503] = Field(
        default=429, description="status of a request refused because the queue is full"
    )
    # Rollout: score, log and count verdicts, but never block (harmful/flagged false, action NONE).
    shadow_mode: bool = Field(default=False, description="verdicts logged and counted, never block")
    # OpenTelemetry spans (needs the `tracing` extra); the exporter reads the OTEL_* variables.
    tracing: bool = Field(default=False, description="OpenTelemetry spans over OTLP/HTTP")

    @field_validator("api_keys", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @field_validator("block_categories", mode="before")
    @classmethod
    def _category_list(cls, value: object) -> object:
        if isinstance(value, str):
            value = [code.strip() for code in value.split(",") if code.strip()]
        if isinstance(value, list):
            unknown = [c for c in value if c != "all" and c not in LLAMA_GUARD_CATEGORIES]
            if unknown:
                raise ValueError(f"unknown categories {unknown}: use S1..S14 or all")
        return value

    @field_validator("category_thresholds", mode="before")
    @classmethod
    def _category_thresholds(cls, value: object) -> object:
        if isinstance(value, str):
            pairs = [item.split("=", 1) for item in value.split(",") if item.strip()]
            if any(len(pair) != 2 for pair in pairs):
                raise ValueError("expected CODE=THRESHOLD,..., e.g. S4=0.2,S11=0.4")
            value = {code.strip(): threshold.strip() for code, threshold in pairs}
        if isinstance(value, dict):
            unknown = [c for c in value if c not in LLAMA_GUARD_CATEGORIES]
            if unknown:
                raise ValueError(f"unknown categories {unknown}: use S1..S14")
        return value

    @field_validator("category_thresholds", mode="after")
    @classmethod
    def _thresholds_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        outside = {c: t for c, t in value.items() if not 0.0 <= t <= 1.0}
        if outside:
            raise ValueError(f"thresholds must be in [0, 1]: {outside}")
        return value

    @field_validator("overload_status", mode="before")
    @classmethod
    def _status_number(cls, value: object) -> object:
        # Environment values are strings, and a Literal of ints matches no string.
        return int(value) if isinstance(value, str) and value.strip().isdigit() else value

    @field_validator("redis_url", "threshold", "response_threshold", "window_stride", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # Compose files write `MODERATION_REDIS_URL=` to mean "no Redis".
        return None if isinstance(value, str) and not value.strip() else value


def engine_layout(settings: Settings, *, gpu: bool) -> tuple[int, int]:
    """(ONNX Runtime sessions, threads per session) for these settings on this machine."""
    cpus = available_cpus()
    workers = settings.engine_workers or (1 if gpu else cpus)
    threads = settings.onnx_threads or max(1, cpus // workers)
    return workers, threads


def available_cpus() -> int:
    """CPUs this process may use: the affinity mask, capped by a cgroup v2 CPU quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)
