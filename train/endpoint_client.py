"""Calls to OpenAI-compatible endpoints (vLLM, llama.cpp's server, TGI) for the teacher and the
HarmAug generator: many requests in flight at once, each retried with back-off.

A server like vLLM batches the requests it has in flight, so one request at a time leaves it
mostly idle; `map_concurrent` keeps up to `concurrency` requests open (bounded, so a large
labelling job does not open thousands of connections). `post_json` retries what a busy or
restarting server answers (connection errors, timeouts, 408, 429, 5xx) with exponential back-off
and jitter, waiting at least the server's `Retry-After`; other errors (400, 404, ...) fail at
once, since a retry would get the same answer.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from tqdm import tqdm

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class EndpointError(RuntimeError):
    """A request that failed for good (a non-retryable status, or every attempt failed)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # tries in all, the first included
    backoff_s: float = 0.5  # wait before the first retry; doubles each retry
    max_backoff_s: float = 30.0
    jitter: float = 0.25  # +- this fraction, so that many clients do not retry in step

    def delay(self, retry: int) -> float:
        base = min(self.max_backoff_s, self.backoff_s * 2**retry)
        return base * (1 + random.uniform(-self.jitter, self.jitter))


def _retry_after(reply: httpx.Response) -> float:
    try:
        return max(0.0, float(reply.headers.get("retry-after", "0")))
    except ValueError:  # an HTTP date: rare from model servers; fall back to the back-off
        return 0.0


def post_json(
    client: httpx.Client, url: str, payload: dict[str, Any], policy: RetryPolicy | None = None
) -> dict[str, Any]:
    """POST `payload` as JSON and return the JSON reply, retrying what may pass on retry."""
    policy = policy or RetryPolicy()
    for attempt in range(policy.attempts):
        try:
            reply = client.post(url, json=payload)
        except httpx.TransportError as exc:  # refused, reset, timed out
            problem, status, wait_s = f"{type(exc).__name__}: {exc}", None, policy.delay(attempt)
        else:
            if reply.status_code < 400:
                body = reply.json()
                if not isinstance(body, dict):
                    raise EndpointError(f"{url}: the reply is not a JSON object")
                return body
            problem = f"HTTP {reply.status_code}: {reply.text[:200]}"
            status = reply.status_code
            if status not in RETRY_STATUSES:
                raise EndpointError(f"{url}: {problem}", status)
            wait_s = max(policy.delay(attempt), _retry_after(reply))
        if attempt + 1 == policy.attempts:
            raise EndpointError(f"{url}: {problem} (after {policy.attempts} attempts)", status)
        log.warning("%s: %s; retry %d in %.2f s", url, problem, attempt + 1, wait_s)
        time.sleep(wait_s)
    raise AssertionError("unreachable")


def map_concurrent(
    fn: Callable[[T], R], items: Sequence[T], *, concurrency: int, desc: str = ""
) -> list[R]:
    """`[fn(item) for item in items]` with up to `concurrency` calls at once, in order.

    The first failure cancels the calls not yet started and is raised (a labelling run that
    has lost its endpoint should stop, not fill its cache with errors).
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    results: list[R | None] = [None] * len(items)
    with (
        ThreadPoolExecutor(max_workers=concurrency) as pool,
        tqdm(total=len(items), desc=desc or None, disable=not desc) as bar,
    ):
        futures: dict[Future[R], int] = {pool.submit(fn, item): n for n, item in enumerate(items)}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                error = future.exception()
                if error is not None:
                    for other in pending:
                        other.cancel()
                    raise error
                results[futures[future]] = future.result()
                bar.update(1)
    return results  # type: ignore[return-value]


def http_client(concurrency: int, timeout_s: float) -> httpx.Client:
    """One pooled client shared by the worker threads (httpx clients are thread-safe)."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.Client(timeout=timeout_s, limits=limits)
