"""Prometheus metrics, one registry per app (so tests can build several apps in one process).

Names (documented in the README; the Grafana dashboard is built against them):
moderation_requests_total{endpoint,status}, moderation_request_latency_seconds{endpoint},
moderation_queue_wait_seconds, moderation_tokenize_seconds, moderation_inference_seconds,
moderation_batch_size, moderation_batch_tokens, moderation_padding_ratio,
moderation_queue_depth, moderation_cache_{hits,misses,errors}_total{backend},
moderation_rejected_total{reason}, moderation_model_info{name,version,threshold,response_threshold},
moderation_verdicts_total{verdict,mode}, moderation_category_flags_total{category,mode}.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from contract import Thresholds

_LATENCY_BUCKETS = (
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075,
    0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
_SIZE_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256)
_TOKEN_BUCKETS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
# `queue_full` and `deadline` from the batcher; `estimated_wait` and `too_costly` from admission
# control (service/admission.py), before any work is queued.
RejectReason = Literal["queue_full", "deadline", "estimated_wait", "too_costly"]
_RATIO_BUCKETS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


class Metrics:
    """Every metric the server exports; also the batcher's `BatchObserver`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "moderation_requests", "HTTP requests by endpoint and status code",
            ["endpoint", "status"], registry=r,
        )  # fmt: skip
        self.request_latency = Histogram(
            "moderation_request_latency_seconds", "Server-side latency of a request",
            ["endpoint"], buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.queue_wait = Histogram(
            "moderation_queue_wait_seconds", "Time a sequence waited in the batch queue",
            buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.tokenize = Histogram(
            "moderation_tokenize_seconds",
            "Time of one tokeniser round (the uncached pairs of requests that arrived together)",
            buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.inference = Histogram(
            "moderation_inference_seconds", "Time of one forward pass over a batch",
            buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.batch_size = Histogram(
            "moderation_batch_size", "Sequences per forward pass",
            buckets=_SIZE_BUCKETS, registry=r,
        )  # fmt: skip
        self.batch_tokens = Histogram(
            "moderation_batch_tokens", "Padded tokens per forward pass (size x padded length)",
            buckets=_TOKEN_BUCKETS, registry=r,
        )  # fmt: skip
        self.padding_ratio = Histogram(
            "moderation_padding_ratio", "Pad tokens / padded tokens per forward pass",
            buckets=_RATIO_BUCKETS, registry=r,
        )  # fmt: skip
        self.windows = Histogram(
            "moderation_input_windows", "Sequences scored per uncached pair (over 1: a long "
            "input scored in windows)", buckets=_SIZE_BUCKETS, registry=r,
        )  # fmt: skip
        self.queue_depth_gauge = Gauge(
            "moderation_queue_depth", "Sequences waiting in the batch queue", registry=r
        )
        self.cache_hits = Counter("moderation_cache_hits", "Cache hits", ["backend"], registry=r)
        self.cache_misses = Counter(
            "moderation_cache_misses", "Cache misses", ["backend"], registry=r
        )
        self.cache_errors = Counter(
            "moderation_cache_errors", "Cache errors and timeouts (scored as misses)",
            ["backend"], registry=r,
        )  # fmt: skip
        self.rejected_total = Counter(
            "moderation_rejected", "Requests refused by the batcher", ["reason"], registry=r
        )
        # Per scored text or pair; `mode="shadow"` counts what shadow mode would have blocked.
        self.verdicts = Counter(
            "moderation_verdicts", "Verdicts by outcome (harmful, ok) and mode (enforce, shadow)",
            ["verdict", "mode"], registry=r,
        )  # fmt: skip
        # Per scored text or pair and served category whose score reached its threshold.
        self.category_flags = Counter(
            "moderation_category_flags", "Flags per category (hazard code) and mode",
            ["category", "mode"], registry=r,
        )  # fmt: skip
        self.model_info = Gauge(
            "moderation_model_info", "The served model (value is always 1)",
            ["name", "version", "threshold", "response_threshold"], registry=r,
        )  # fmt: skip
        for reason in ("queue_full", "deadline", "estimated_wait", "too_costly"):
            self.rejected_total.labels(reason=reason)

    def set_model(self, name: str, version: str, thresholds: Thresholds) -> None:
        """`threshold` judges prompts alone, `response_threshold` pairs with a response (the
        same value when the artifact has no response threshold)."""
        self.model_info.labels(
            name=name,
            version=version,
            threshold=f"{thresholds.for_input(False):g}",
            response_threshold=f"{thresholds.for_input(True):g}",
        ).set(1)

    # -- BatchObserver -----------------------------------------------------------------------

    def batch_done(
        self,
        *,
        size: int,
        padded_tokens: int,
        real_tokens: int,
        queue_waits: Sequence[float],
        inference_seconds: float,
    ) -> None:
        self.batch_size.observe(size)
        self.batch_tokens.observe(padded_tokens)
        self.padding_ratio.observe(1.0 - real_tokens / padded_tokens if padded_tokens else 0.0)
        self.inference.observe(inference_seconds)
        for wait in queue_waits:
            self.queue_wait.observe(wait)

    def rejected(self, reason: RejectReason) -> None:
        self.rejected_total.labels(reason=reason).inc()

    def queue_depth(self, depth: int) -> None:
        self.queue_depth_gauge.set(depth)
