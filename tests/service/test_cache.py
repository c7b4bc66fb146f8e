"""The score caches: the in-process LRU directly, Redis through a real server and real HTTP."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from service.cache import CachedScore, MemoryCache, cache_key, dump_value, parse_value
from tests.service.test_api import metric


def test_the_memory_cache_evicts_the_least_recently_used() -> None:
    cache = MemoryCache(size=2, ttl_seconds=60)

    async def body() -> list[CachedScore | None]:
        await cache.set_many([("a", CachedScore(0.1, False)), ("b", CachedScore(0.2, True))])
        await cache.get_many(["a"])  # "a" is now the most recently used
        await cache.set_many([("c", CachedScore(0.3, False))])
        return await cache.get_many(["a", "b", "c"])

    assert asyncio.run(body()) == [CachedScore(0.1, False), None, CachedScore(0.3, False)]
    assert len(cache) == 2


def test_memory_cache_entries_expire() -> None:
    now = [100.0]
    cache = MemoryCache(size=10, ttl_seconds=5, clock=lambda: now[0])

    async def body() -> tuple[Any, Any]:
        await cache.set_many([("k", CachedScore(0.5, False))])
        now[0] += 4.9
        fresh = await cache.get_many(["k"])
        now[0] += 0.2
        return fresh, await cache.get_many(["k"])

    assert asyncio.run(body()) == ([CachedScore(0.5, False)], [None])


def test_keys_separate_model_scheme_and_texts() -> None:
    base = cache_key("m@1", "truncate", "ab", "c")
    assert base == cache_key("m@1", "truncate", "ab", "c")
    assert base != cache_key("m@2", "truncate", "ab", "c")
    assert base != cache_key("m@1", "windows", "ab", "c")
    assert base != cache_key("m@1", "truncate", "a", "bc")  # no ambiguous concatenation
    assert cache_key("m@1", "truncate", "p", None) == cache_key("m@1", "truncate", "p", "")


@pytest.mark.parametrize("raw", [b"garbage", b"0.5", b"1.5|0", b"0.5|2", b"\xff\xfe", b"nan|0"])
def test_values_that_do_not_parse_are_misses(raw: bytes) -> None:
    assert parse_value(raw) is None


def test_values_round_trip() -> None:
    value = CachedScore(0.123456789012345, True)
    assert parse_value(dump_value(value).encode()) == value


def test_category_scores_round_trip_and_older_values_still_read() -> None:
    value = CachedScore(0.9, False, 3, (0.125, 0.0, 0.987654321012345))
    assert dump_value(value).endswith("|3|0.125,0.0,0.987654321012345")
    assert parse_value(dump_value(value).encode()) == value
    # A value written without categories (binary-only, or before the head existed) reads.
    assert parse_value(b"0.9|0|1") == CachedScore(0.9, False, 1, ())
    for broken in (b"0.9|0|1|0.5,x", b"0.9|0|1|1.5", b"0.9|0|1|0.5|0.5", b"0.9|0|1|nan"):
        assert parse_value(broken) is None


TTL_SECONDS = 2


@pytest.fixture(scope="module")
def redis_backed(start_service: Any, tiny_artifact: Path, redis_server: Any) -> Any:
    redis_server.start()
    server = start_service(
        tiny_artifact,
        {
            "MODERATION_REDIS_URL": redis_server.url,
            "MODERATION_CACHE_TTL_SECONDS": str(TTL_SECONDS),
            "MODERATION_REDIS_TIMEOUT_SECONDS": "0.2",
            "MODERATION_REDIS_RETRY_SECONDS": "0.5",
            # The keys below are built for the truncating encoder (the scheme is in the key).
            "MODERATION_LONG_INPUT_POLICY": "truncate",
        },
    )
    yield server
    server.stop()


def redis_keys(redis_server: Any) -> list[bytes]:
    return list(redis.Redis.from_url(redis_server.url).scan_iter("moderation:*"))


def test_redis_serves_repeats_and_holds_the_ttl(redis_backed: Any, redis_server: Any) -> None:
    with httpx.Client(base_url=redis_backed.url, timeout=30) as client:
        body = {"prompt": "redis hit test", "response": "a response"}
        first = client.post("/moderate", json=body).json()
        second = client.post("/moderate", json=body).json()
        assert (first["cached"], second["cached"]) == (False, True)
        assert first["score"] == second["score"]
        assert metric(client, "moderation_cache_hits_total", backend="redis") >= 1
        db = redis.Redis.from_url(redis_server.url)
        key = cache_key(first["model"], "truncate", body["prompt"], body["response"])
        assert parse_value(db.get(key)) == CachedScore(first["score"], first["truncated"])
        assert 0 < db.pttl(key) <= TTL_SECONDS * 1000
        time.sleep(TTL_SECONDS + 0.3)
        assert client.post("/moderate", json=body).json()["cached"] is False


def test_an_unparsable_value_is_ignored_and_overwritten(
    redis_backed: Any, redis_server: Any
) -> None:
    body = {"prompt": "a value someone corrupted"}
    db = redis.Redis.from_url(redis_server.url)
    key = cache_key("tiny-random@0.0.0", "truncate", body["prompt"], None)
    db.set(key, b"not a score")
    with httpx.Client(base_url=redis_backed.url, timeout=30) as client:
        reply = client.post("/moderate", json=body)
        assert reply.status_code == 200
        assert reply.json()["cached"] is False
        assert parse_value(db.get(key)) is not None
        assert client.post("/moderate", json=body).json()["cached"] is True


def test_a_dead_redis_degrades_to_no_cache_and_recovers(
    redis_backed: Any, redis_server: Any
) -> None:
    with httpx.Client(base_url=redis_backed.url, timeout=30) as client:
        body = {"prompt": "survives a redis outage"}
        assert client.post("/moderate", json=body).status_code == 200
        errors_before = metric(client, "moderation_cache_errors_total", backend="redis")
        redis_server.kill()
        try:
            for i in range(5):
                reply = client.post("/moderate", json={"prompt": f"while redis is down {i}"})
                assert reply.status_code == 200
                assert reply.json()["cached"] is False
            # Even a pair that is in Redis is scored (uncached) rather than failed.
            during = client.post("/moderate", json=body)
            assert during.status_code == 200 and during.json()["cached"] is False
            assert metric(client, "moderation_cache_errors_total", backend="redis") > errors_before
        finally:
            redis_server.start()
        deadline = time.monotonic() + 10
        cached = False
        while not cached and time.monotonic() < deadline:
            client.post("/moderate", json={"prompt": "after redis returns"})
            cached = client.post("/moderate", json={"prompt": "after redis returns"}).json()[
                "cached"
            ]
            time.sleep(0.1)
        assert cached, "the cache was not used again after Redis came back"
    log = redis_backed.log()
    assert log.count("scoring without the cache") == 1  # once per burst, not once per request
    assert "cache is back in use" in log
