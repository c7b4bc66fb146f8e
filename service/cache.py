"""Score caches: an in-process LRU with TTL (the default) or Redis.

A cache never fails a request: a Redis error or timeout counts in
`moderation_cache_errors_total{backend="redis"}`, is logged once per burst, and the lookup is a
miss; for `redis_retry_seconds` afterwards Redis is skipped so a dead server costs nothing.
A stored value that does not parse is a miss (and the fill overwrites it).

A value carries the pair's category scores (contract/categories.py) after its window count;
a value without them (written for a binary-only model, or before categories existed) still
reads, with no category scores, and the `Moderator` rescores it when it serves categories.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from service.metrics import Metrics

log = logging.getLogger(__name__)

KEY_PREFIX = "moderation:v2:"  # v2: values carry the window count


@dataclass(frozen=True, slots=True)
class CachedScore:
    score: float
    truncated: bool
    windows: int = 1  # sequences scored for the pair (more than 1 for a long input in windows)
    categories: tuple[float, ...] = ()  # per served category, the manifest's order


def cache_key(model_id: str, scheme: str, prompt: str, response: str | None) -> str:
    """Key of one (prompt, response) pair: a hash of the model, the encoding scheme and texts.

    No response and an empty response encode the same way, so they share a key.
    """
    digest = hashlib.sha256()
    for part in (model_id, scheme, prompt, response or ""):
        encoded = part.encode("utf-8", "surrogatepass")
        digest.update(len(encoded).to_bytes(8, "little"))  # unambiguous concatenation
        digest.update(encoded)
    return KEY_PREFIX + digest.hexdigest()


def dump_value(value: CachedScore) -> str:
    text = f"{value.score!r}|{int(value.truncated)}|{value.windows}"
    if value.categories:
        text += "|" + ",".join(map(repr, value.categories))
    return text


def parse_value(raw: bytes | str | None) -> CachedScore | None:
    """The stored value, or None when it is absent or does not parse."""
    if raw is None:
        return None
    try:
        text = raw.decode("ascii") if isinstance(raw, bytes) else raw
        score_text, truncated_text, windows_text, *rest = text.split("|")
        score = float(score_text)
        windows = int(windows_text)
        categories = tuple(float(c) for c in rest[0].split(",")) if rest else ()
    except (UnicodeDecodeError, ValueError):
        return None
    if not 0.0 <= score <= 1.0 or truncated_text not in ("0", "1") or windows < 1:
        return None
    if len(rest) > 1 or not all(0.0 <= c <= 1.0 for c in categories):
        return None
    return CachedScore(
        score=score, truncated=truncated_text == "1", windows=windows, categories=categories
    )


class ScoreCache(Protocol):
    backend: str

    async def get_many(self, keys: Sequence[str]) -> list[CachedScore | None]: ...

    async def set_many(self, entries: Sequence[tuple[str, CachedScore]]) -> None: ...

    async def close(self) -> None: ...


class _LookupCounter:
    """Counts a lookup's hits and misses in the backend's metrics (when there are metrics)."""

    def __init__(self, metrics: Metrics | None, backend: str) -> None:
        self._hits = metrics.cache_hits.labels(backend=backend) if metrics else None
        self._misses = metrics.cache_misses.labels(backend=backend) if metrics else None

    def count(self, found: Sequence[CachedScore | None]) -> None:
        if self._hits is None or self._misses is None:
            return
        hits = sum(1 for value in found if value is not None)
        if hits:
            self._hits.inc(hits)
        if hits < len(found):
            self._misses.inc(len(found) - hits)


class NoCache:
    """Caching switched off (`MODERATION_CACHE_SIZE=0` and no Redis URL)."""

    backend = "none"

    async def get_many(self, keys: Sequence[str]) -> list[CachedScore | None]:
        return [None] * len(keys)

    async def set_many(self, entries: Sequence[tuple[str, CachedScore]]) -> None:
        return None

    async def close(self) -> None:
        return None


class MemoryCache:
    """LRU of at most `size` entries, each valid for `ttl_seconds`; event-loop thread only."""

    backend = "memory"

    def __init__(
        self,
        size: int,
        ttl_seconds: float,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size = size
        self.ttl = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[str, tuple[CachedScore, float]] = OrderedDict()
        self._lookups = _LookupCounter(metrics, self.backend)

    def __len__(self) -> int:
        return len(self._entries)

    async def get_many(self, keys: Sequence[str]) -> list[CachedScore | None]:
        now = self._clock()
        found: list[CachedScore | None] = []
        for key in keys:
            entry = self._entries.get(key)
            if entry is not None and entry[1] <= now:
                del self._entries[key]
                entry = None
            if entry is None:
                found.append(None)
            else:
                self._entries.move_to_end(key)
                found.append(entry[0])
        self._lookups.count(found)
        return found

    async def set_many(self, entries: Sequence[tuple[str, CachedScore]]) -> None:
        expires = self._clock() + self.ttl
        for key, value in entries:
            self._entries[key] = (value, expires)
            self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    async def close(self) -> None:
        self._entries.clear()


class RedisCache:
    """Redis with per-key TTL, short timeouts, no retries, and a pause after an error."""

    backend = "redis"

    def __init__(
        self,
        url: str,
        *,
        ttl_seconds: float,
        timeout_seconds: float,
        retry_seconds: float,
        metrics: Metrics | None = None,
    ) -> None:
        self.url = url
        self.ttl_ms = max(1, int(ttl_seconds * 1000))
        self.retry_seconds = retry_seconds
        self.client = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        self._skip_until = 0.0
        self._failing = False
        self._lookups = _LookupCounter(metrics, self.backend)
        self._errors = metrics.cache_errors.labels(backend=self.backend) if metrics else None

    def _available(self) -> bool:
        return time.monotonic() >= self._skip_until

    def _failed(self, operation: str, exc: BaseException) -> None:
        if self._errors is not None:
            self._errors.inc()
        self._skip_until = time.monotonic() + self.retry_seconds
        if not self._failing:  # once per burst: the next log line is the recovery
            self._failing = True
            log.warning(
                "redis %s failed (%s: %s); scoring without the cache until it answers again",
                operation, type(exc).__name__, exc,
            )  # fmt: skip

    def _succeeded(self) -> None:
        if self._failing:
            self._failing = False
            log.warning("redis answers again; the cache is back in use")

    async def get_many(self, keys: Sequence[str]) -> list[CachedScore | None]:
        found: list[CachedScore | None] = [None] * len(keys)
        if keys and self._available():
            try:
                raw = await self.client.mget(list(keys))
            except (RedisError, OSError, TimeoutError) as exc:
                self._failed("read", exc)
            else:
                self._succeeded()
                found = [parse_value(value) for value in raw]
        self._lookups.count(found)
        return found

    async def set_many(self, entries: Sequence[tuple[str, CachedScore]]) -> None:
        if not entries or not self._available():
            return
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key, value in entries:
                    pipe.set(key, dump_value(value), px=self.ttl_ms)
                await pipe.execute()
        except (RedisError, OSError, TimeoutError) as exc:
            self._failed("write", exc)
        else:
            self._succeeded()

    async def close(self) -> None:
        await self.client.aclose()
