"""`python -m loadtest.reliability` (= `make reliability`): abuse, overload and shutdown figures.

Every case runs against a real `python -m service` on 127.0.0.1 (a fresh process per setting)
with bounded loops, and prints its figures; nothing here asserts. `--short` is the CI version
(tests/loadtest/test_reliability.py checks its hard properties: statuses, reply sizes, exit).

Cases (issue 17):
- abuse: JSON nested 5,000 deep on the four JSON endpoints; a 2M-item invalid
  `/moderate/batch`; random mutations of valid bodies; clients that close mid-body and mid-wait;
  256 KB of headers; slowloris sockets. Figures: statuses, 5xx count, server-side time, reply
  size, the server's memory growth.
- fairness: 4 short-prompt clients alone, then beside 2 clients sending 32,000-character texts,
  then beside a client sending 16 x 32,000-character batches (on each batch endpoint): short
  throughput and p99 as ratios of alone.
- overload: 4x the queue (`MAX_QUEUE` 64, 256 clients): share refused, server-side p50/p99 of
  a 429, Retry-After.
- deadline: saturated throughput, then with a deadline shorter than the queue wait: goodput as
  a share of it.
- redis: load with repeated prompts while Redis is healthy, stopped (SIGSTOP), resumed, killed
  and restarted: failed requests and p99 per phase, cache hits and errors.
- sigterm: load plus slow clients, SIGTERM: when `/readyz` turns 503 and when the listener
  closes, requests lost (sent and never answered), exit time.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import json
import random
import signal
import socket
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from loadtest.processes import HOST, REPO_ROOT, RedisServer, ServiceProcess

_WORD_TEXT = (
    "the a of to and in is it you that was for on are with as his they be at one have this "
    "from or had by word but what some we can out other were all there when up use your how "
    "said an each she which do their time if will way about many then them write would like "
    "so these her long make thing see him two has look more day could go come did number "
    "sound no most people my over know water than call first who may down side been now find"
)
WORDS = _WORD_TEXT.split()
LONG_CHARS = 32_000


# -- server process ------------------------------------------------------------------------


class Server(ServiceProcess):
    """`python -m service` on a free loopback port, with `env` added; ready when started."""

    def __init__(self, artifact: Path, env: Mapping[str, str], log: Path) -> None:
        super().__init__(artifact, env, log, log_level="warning", timeout_s=120, stop_timeout_s=30)

    def rss_mb(self, field: str = "VmRSS") -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def metric(self, name: str, **labels: str) -> float:
        total = 0.0
        for line in get(self.url + "/metrics")[1].decode().splitlines():
            if not line.startswith(name):
                continue
            head, _, value = line.rpartition(" ")
            metric_name, _, label_text = head.partition("{")
            if metric_name != name:
                continue
            if all(f'{k}="{v}"' in label_text for k, v in labels.items()):
                total += float(value)
        return total


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def post(url: str, body: bytes, timeout: float = 60) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.read(), dict(reply.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def server_ms(headers: Mapping[str, str]) -> float:
    timing = {k.lower(): v for k, v in headers.items()}.get("server-timing", "")
    return float(timing.split("dur=")[1]) if "dur=" in timing else float("nan")


# -- closed-loop load ----------------------------------------------------------------------


@dataclass
class Record:
    status: int  # 0: the connection ended without a reply
    latency_s: float
    server_ms: float
    retry_after: bool


@dataclass
class Group:
    """Clients that send `make()` bodies to `path` one after another until the run ends."""

    name: str
    path: str
    clients: int
    make: Callable[[], bytes]
    # Well-behaved clients wait Retry-After before their next request; a flood does not.
    honour_retry_after: bool = False
    records: list[Record] = field(default_factory=list)
    halted: bool = False  # set: no new requests (a load balancer that took a server out)

    def request(self) -> bytes:
        body = self.make()
        head = f"POST {self.path} HTTP/1.1\r\nHost: r\r\nContent-Type: application/json\r\n"
        return head.encode() + b"Content-Length: %d\r\n\r\n" % len(body) + body

    def ok(self) -> list[Record]:
        return [r for r in self.records if r.status == 200]

    def statuses(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for r in self.records:
            out[r.status] = out.get(r.status, 0) + 1
        return dict(sorted(out.items()))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class _Client(asyncio.Protocol):
    """One keep-alive connection sending its group's requests back to back (a bare protocol:
    the client shares the cores with the server, so it must cost little)."""

    def __init__(self, group: Group, stop_at: float, done: asyncio.Future[bool]) -> None:
        self.group = group
        self.stop_at = stop_at
        self.done = done
        self.buffer = b""
        self.sent_at = 0.0
        self.waiting = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self._next()

    def _next(self) -> None:
        assert self.transport is not None
        if self.transport.is_closing():
            return
        if time.perf_counter() >= self.stop_at or self.group.halted:
            self.transport.close()
            return
        self.sent_at = time.perf_counter()
        self.waiting = True
        self.transport.write(self.group.request())

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            length, timing, retry, close = 0, float("nan"), 0.0, False
            for line in self.buffer[:head_end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"server-timing":
                    timing = float(value.split(b"dur=")[1])
                elif name == b"retry-after":
                    retry = float(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            status = int(self.buffer[9:12])
            self.group.records.append(
                Record(status, time.perf_counter() - self.sent_at, timing, retry > 0)
            )
            self.waiting = False
            self.buffer = self.buffer[end:]
            if close:
                assert self.transport is not None
                self.transport.close()  # the client reconnects (connection_lost)
                return
            if retry and self.group.honour_retry_after:
                # With jitter, as clients back off (else they all return in the same instant).
                pause = retry * random.uniform(0.5, 1.5)
                pause = min(pause, max(0.0, self.stop_at - time.perf_counter()))
                asyncio.get_running_loop().call_later(pause, self._next)
                return
            self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiting:  # a request sent and never answered
            self.group.records.append(Record(0, time.perf_counter() - self.sent_at, 0.0, False))
        if not self.done.done():
            self.done.set_result(time.perf_counter() < self.stop_at)


async def _client_loop(port: int, group: Group, stop_at: float) -> None:
    loop = asyncio.get_running_loop()
    while time.perf_counter() < stop_at and not group.halted:
        done: asyncio.Future[bool] = loop.create_future()
        try:
            await loop.create_connection(
                functools.partial(_Client, group, stop_at, done), HOST, port
            )
        except OSError:  # refused: the server is gone (shutdown); try until the run ends
            await asyncio.sleep(0.05)
            continue
        if not await done:
            return


def run_load(port: int, groups: list[Group], seconds: float) -> float:
    """Run every group's clients for `seconds`; returns the elapsed time."""

    async def main() -> float:
        started = time.perf_counter()
        stop_at = started + seconds
        await asyncio.gather(
            *(_client_loop(port, g, stop_at) for g in groups for _ in range(g.clients))
        )
        return time.perf_counter() - started

    try:
        import uvloop

        return uvloop.run(main())
    except ImportError:
        return asyncio.run(main())


# -- bodies --------------------------------------------------------------------------------


class Texts:
    """Unique texts, built before the load starts: the client shares the cores with the server,
    and generating 32,000 characters per request would take CPU from what is measured. Unique,
    because the cache is off and identical texts in flight would be scored once."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.n = 0

    def short(self) -> str:
        self.n += 1
        return f"{self.n} " + " ".join(self.rng.choices(WORDS, k=self.rng.randint(6, 30)))

    def long(self, chars: int = LONG_CHARS) -> str:
        self.n += 1
        text = f"{self.n} " + " ".join(self.rng.choices(WORDS, k=chars // 4))
        return text[:chars]

    def shorts(self, count: int) -> Callable[[], bytes]:
        return itertools.cycle([moderate(self.short()) for _ in range(count)]).__next__

    def longs(self, count: int) -> Callable[[], bytes]:
        return itertools.cycle([moderate(self.long()) for _ in range(count)]).__next__


def moderate(text: str) -> bytes:
    return json.dumps({"prompt": text}).encode()


def long_batches(texts: Texts, size: int, count: int) -> dict[str, Callable[[], bytes]]:
    """`count` different batches of `size` long texts, on each batch endpoint."""
    bodies: dict[str, list[bytes]] = {}
    for _ in range(count):
        batch = [texts.long() for _ in range(size)]
        bodies.setdefault("/moderate/batch", []).append(
            json.dumps({"items": [{"prompt": t} for t in batch]}).encode()
        )
        bodies.setdefault("/v1/moderations", []).append(json.dumps({"input": batch}).encode())
        bodies.setdefault("/beta/litellm_basic_guardrail_api", []).append(
            json.dumps({"input_type": "request", "texts": batch}).encode()
        )
    return {path: itertools.cycle(each).__next__ for path, each in bodies.items()}


# -- cases ---------------------------------------------------------------------------------

Results = dict[str, Any]


def say(line: str) -> None:
    print(line, flush=True)


def exchange(port: int, data: bytes, *, close_after_s: float | None = None) -> bytes:
    """Send raw bytes; read the reply until the server closes (or close first, as a client
    that leaves). A reset after the server refused the request reads as what came before it."""
    with socket.create_connection((HOST, port), timeout=30) as sock:
        try:
            sock.sendall(data)
        except OSError:
            return b""
        if close_after_s is not None:
            time.sleep(close_after_s)
            return b""
        reply = b""
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except OSError:
            pass
        return reply


def abuse(server: Server, *, short: bool) -> Results:
    out: Results = {}
    say("\n== abuse (default settings, cache off)")
    deep = b"[" * 5000 + b"]" * 5000
    fields = {"/moderate": "prompt", "/moderate/batch": "items", "/v1/moderations": "input",
              "/beta/litellm_basic_guardrail_api": "texts"}  # fmt: skip
    nested = {
        p: post(server.url + p, b'{"%s": %s}' % (f.encode(), deep))[0] for p, f in fields.items()
    }
    out["deep_nesting_statuses"] = nested
    say(f"JSON nested 5,000 deep: {nested}")

    rss_before = server.rss_mb()
    body = b'{"items": [' + b",".join([b"{}"] * 2_000_000) + b"]}"
    started = time.perf_counter()
    status, reply, headers = post(server.url + "/moderate/batch", body)
    took = (time.perf_counter() - started) * 1000
    del body
    time.sleep(0.5)
    grown = server.rss_mb() - rss_before
    out["huge_batch"] = {"status": status, "ms": took, "server_ms": server_ms(headers),
                         "reply_bytes": len(reply), "rss_growth_mb": grown}  # fmt: skip
    say(f"2M-item invalid batch (6 MB): {status} in {took:.0f} ms ({server_ms(headers):.0f} ms "
        f"server-side), reply {len(reply)} bytes, server memory +{grown:.0f} MB")  # fmt: skip

    rng = random.Random(1)
    valid = [
        ("/moderate", {"prompt": "hello there", "response": "hi"}),
        ("/moderate/batch", {"items": [{"prompt": "a"}, {"prompt": "b", "response": "c"}]}),
        ("/v1/moderations", {"input": ["x", {"type": "text", "text": "y"}], "model": "m"}),
        ("/beta/litellm_basic_guardrail_api", {"input_type": "request", "texts": ["hi"]}),
    ]
    junk: list[Any] = [None, True, -1, 1e308, "", "\ud800", [], {}, "x" * 40_000, [[[]]], {"a": 1}]
    fuzz_statuses: dict[int, int] = {}
    for _ in range(100 if short else 2000):
        path, template = rng.choice(valid)
        doc = json.loads(json.dumps(template))
        target: Any = doc
        while isinstance(target, dict | list) and target and rng.random() < 0.6:
            key = (
                rng.choice(list(target)) if isinstance(target, dict) else rng.randrange(len(target))
            )
            if not isinstance(target[key], dict | list):
                break
            target = target[key]
        if isinstance(target, dict):
            target[rng.choice([*target, "extra"]) if target else "k"] = rng.choice(junk)
        elif isinstance(target, list):
            target.append(rng.choice(junk))
        raw = json.dumps(doc).encode()
        if rng.random() < 0.2:  # truncated or byte-flipped JSON
            cut = rng.randrange(len(raw))
            raw = raw[:cut] + bytes([rng.randrange(256)]) + raw[cut + 1 :]
        status = post(server.url + path, raw)[0]
        fuzz_statuses[status] = fuzz_statuses.get(status, 0) + 1
    out["fuzz_statuses"] = dict(sorted(fuzz_statuses.items()))
    say(f"random mutations of valid bodies: {out['fuzz_statuses']}")

    head = b"POST /moderate HTTP/1.1\r\nHost: r\r\nContent-Type: application/json\r\n"
    leavers = 100 if short else 1000
    waiters = 20 if short else 100

    def ended() -> dict[str, float]:
        return {
            status: server.metric("moderation_requests_total", endpoint="/moderate", status=status)
            for status in ("200", "413", "429", "499", "503")
        }

    before = ended()
    for _ in range(leavers):
        exchange(server.port, head + b'Content-Length: 900\r\n\r\n{"prompt": "ab', close_after_s=0)
    texts = Texts(7)
    windows_before = server.metric("moderation_input_windows_count")
    long_bodies = texts.longs(waiters)
    for _ in range(waiters):  # a long text, then leave while it is tokenised or queued
        body = long_bodies()
        exchange(server.port, head + b"Content-Length: %d\r\n\r\n" % len(body) + body,
                 close_after_s=0.002)  # fmt: skip
    # Each is counted when its request ends; a long text may still be in the tokeniser.
    settle = time.monotonic() + 15
    counts: dict[str, float] = {}
    while time.monotonic() < settle:
        counts = {k: v - before[k] for k, v in ended().items()}
        if sum(counts.values()) >= leavers + waiters:
            break
        time.sleep(0.2)
    scored = server.metric("moderation_input_windows_count") - windows_before
    five = server.metric("moderation_requests_total", status="500")
    left = counts.get("499", 0.0)
    # A long text refused at once (429 when it came in a burst) ended before its client left.
    out["disconnects"] = {"clients": leavers + waiters, "counted_499": left,
                          "ended": {k: v for k, v in counts.items() if v},
                          "scored_after_leaving": scored, "server_errors": five}  # fmt: skip
    say(f"{leavers} clients closing mid-body + {waiters} leaving while their long text waits: "
        f"{left:.0f} counted as 499 (all: {out['disconnects']['ended']}), {scored:.0f} of the "
        f"{waiters} long texts still scored, {five:.0f} server errors")  # fmt: skip

    big = exchange(server.port, b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 256_000 + b"\r\n\r\n")
    out["big_headers"] = big[:12].decode(errors="replace") or "reset"
    say(f"256 KB of request headers: {out['big_headers']!r}")

    sockets = []
    count = 200 if short else 3000
    for _ in range(count):
        try:
            sock = socket.create_connection((HOST, server.port), timeout=5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: r\r\n")  # never finished
            sockets.append(sock)
        except OSError:
            break
    started = time.monotonic()
    alive = len(sockets)
    while alive and time.monotonic() - started < 30:
        time.sleep(0.5)
        alive = sum(1 for s in sockets if _open(s))
    held = time.monotonic() - started
    healthy = get(server.url + "/healthz")[0]
    for sock in sockets:
        sock.close()
    out["slowloris"] = {"sockets": len(sockets), "held_s": held, "still_open": alive}
    say(f"{len(sockets)} slowloris sockets: all cut after {held:.1f} s ({alive} still open); "
        f"/healthz meanwhile {healthy}")  # fmt: skip
    out["server_errors"] = server.metric("moderation_requests_total", status="500")
    return out


def _open(sock: socket.socket) -> bool:
    """Still held by the server: nothing to read yet (a reply, an EOF or a reset is a cut)."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def fairness(server: Server, *, seconds: float, rounds: int = 1) -> Results:
    """With `rounds` > 1, the alone and beside-long phases alternate that many times and the
    figures pool them: on a machine whose spare CPU drifts, both then see the same moments."""
    alternating = f"; {rounds} rounds of alone and beside long texts" if rounds > 1 else ""
    say(f"\n== fairness (4 short-prompt clients; {seconds:g} s per phase{alternating})")
    texts = Texts(2)
    short_bodies = texts.shorts(int(600 * seconds * rounds))
    long_bodies = texts.longs(max(8, int(4 * seconds * rounds)))

    def shorts() -> Group:
        return Group("short", "/moderate", 4, short_bodies)

    alone_ok: list[Record] = []
    beside_ok: list[Record] = []
    long_statuses: Counter[int] = Counter()
    short_statuses: Counter[int] = Counter()
    for _ in range(rounds):
        alone = shorts()
        run_load(server.port, [alone], seconds)
        alone_ok += alone.ok()
        beside = shorts()
        longs = Group("long", "/moderate", 2, long_bodies)
        run_load(server.port, [beside, longs], seconds)
        beside_ok += beside.ok()
        long_statuses.update(longs.statuses())
        short_statuses.update(beside.statuses())
    base_rate = len(alone_ok) / (seconds * rounds)
    base_p99 = pct([r.latency_s for r in alone_ok], 0.99) * 1000
    say(f"alone: {base_rate:.0f} req/s, p99 {base_p99:.0f} ms")
    out: Results = {"alone": {"per_s": base_rate, "p99_ms": base_p99}}
    rate = len(beside_ok) / (seconds * rounds)
    p99 = pct([r.latency_s for r in beside_ok], 0.99) * 1000
    out["beside_long"] = {"per_s": rate, "p99_ms": p99, "throughput_ratio": rate / base_rate,
                          "p99_ratio": p99 / base_p99, "long_statuses": dict(long_statuses),
                          "short_statuses": dict(short_statuses)}  # fmt: skip
    say(
        f"beside 2 clients of 32,000-char texts ({dict(long_statuses)}): {rate:.0f} req/s "
        f"({rate / base_rate:.2f}x alone), p99 {p99:.0f} ms ({p99 / base_p99:.2f}x alone)"
    )

    for path, make in long_batches(texts, 16, 4).items():
        beside = shorts()
        batch = Group("batch", path, 1, make)
        run_load(server.port, [beside, batch], seconds)
        rate = len(beside.ok()) / seconds
        out[f"beside_batch {path}"] = {"per_s": rate, "throughput_ratio": rate / base_rate,
                                       "batch_statuses": batch.statuses()}  # fmt: skip
        say(f"beside 16 x 32,000-char batches on {path} ({batch.statuses()}): short "
            f"{rate:.0f} req/s ({rate / base_rate:.2f}x alone)")  # fmt: skip
    return out


def overload(server: Server, *, seconds: float, clients: int) -> Results:
    say(f"\n== overload (MAX_QUEUE 64, {clients} clients, {seconds:g} s)")
    texts = Texts(3)
    group = Group("flood", "/moderate", clients, texts.shorts(int(2000 * seconds)))
    run_load(server.port, [group], seconds)
    refused = [r for r in group.records if r.status == 429]
    ms = [r.server_ms for r in refused]
    out = {"statuses": group.statuses(), "refused_share": len(refused) / max(1, len(group.records)),
           "429_server_p50_ms": pct(ms, 0.5), "429_server_p99_ms": pct(ms, 0.99),
           "429_with_retry_after": sum(r.retry_after for r in refused) / max(1, len(refused)),
           "ok_per_s": len(group.ok()) / seconds}  # fmt: skip
    say(f"{group.statuses()}: {out['refused_share']:.0%} refused; a 429 takes "
        f"{out['429_server_p50_ms']:.2f} ms p50 / {out['429_server_p99_ms']:.2f} ms p99 "
        f"server-side, {out['429_with_retry_after']:.0%} with Retry-After; "
        f"{out['ok_per_s']:.0f} served/s")  # fmt: skip
    return out


def saturation(server: Server, *, seconds: float) -> float:
    texts = Texts(4)
    group = Group("saturate", "/moderate", 64, texts.shorts(int(1000 * seconds)))
    run_load(server.port, [group], seconds)
    return len(group.ok()) / seconds


def deadline(
    server: Server, saturated: float, *, seconds: float, clients: Sequence[int], flood: bool
) -> Results:
    say(f"\n== deadline (100 ms) shorter than the queue wait ({seconds:g} s each)")
    texts = Texts(5)
    out: Results = {"saturated_per_s": saturated}
    say(f"saturated (64 clients, 5 s deadline): {saturated:.0f} req/s")
    kinds = [(n, "honouring Retry-After (with jitter)", True) for n in clients]
    if flood:
        kinds.append((min(clients), "ignoring Retry-After", False))
    for count, name, honour in kinds:
        group = Group("late", "/moderate", count, texts.shorts(int(2000 * seconds)), honour)
        run_load(server.port, [group], seconds)
        good = len(group.ok()) / seconds
        out[f"{count} clients {name}"] = {
            "goodput_per_s": good,
            "ratio": good / saturated,
            "statuses": group.statuses(),
        }
        say(f"{count} clients {name}: {good:.0f} req/s served in time ({good / saturated:.2f}x "
            f"saturated), {group.statuses()}")  # fmt: skip
    return out


def sigterm(server: Server, *, drain_s: float, bound_s: float) -> Results:
    say(f"\n== SIGTERM under load (8 clients that stop sending 0.5 s after /readyz turns 503, as "
        f"a load balancer would; drain {drain_s} s, bound {bound_s} s)")  # fmt: skip
    texts = Texts(6)
    slow = []
    for _ in range(3):  # clients holding a half-sent body
        sock = socket.create_connection((HOST, server.port))
        sock.sendall(b"POST /moderate HTTP/1.1\r\nHost: r\r\nContent-Type: application/json\r\n"
                     b'Content-Length: 100\r\n\r\n{"prompt": ')  # fmt: skip
        slow.append(sock)
    ready: list[tuple[float, int]] = []
    signalled = [0.0]
    exited = [float("nan")]

    lb_delay_s = min(0.5, drain_s / 2)

    async def watch() -> None:
        loop = asyncio.get_running_loop()
        seen_503 = False
        await asyncio.sleep(1.0)
        signalled[0] = time.perf_counter()
        server.proc.send_signal(signal.SIGTERM)
        while server.proc.poll() is None:
            status = (await loop.run_in_executor(None, get, server.url + "/readyz"))[0]
            now = time.perf_counter() - signalled[0]
            ready.append((now, status))
            if status == 503 and not seen_503:
                seen_503 = True  # a load balancer acts on it a little later
                loop.call_later(lb_delay_s, setattr, load, "halted", True)
            await asyncio.sleep(0.05)
        exited[0] = time.perf_counter() - signalled[0]

    load = Group("load", "/moderate", 8, texts.shorts(20_000))

    async def main() -> None:
        stop_at = time.perf_counter() + drain_s + bound_s + 3
        clients = [_client_loop(server.port, load, stop_at) for _ in range(load.clients)]
        await asyncio.gather(watch(), *clients)

    asyncio.run(main())
    code = server.proc.wait(60)
    exit_s = exited[0]
    for sock in slow:
        sock.close()
    first_503 = next((t for t, s in ready if s == 503), float("nan"))
    closed = next((t for t, s in ready if s == 0), float("nan"))
    lost = sum(1 for r in load.records if r.status == 0)
    out = {"exit_code": code, "exit_s": exit_s, "first_503_s": first_503,
           "listener_closed_s": closed, "lost": lost, "statuses": load.statuses()}  # fmt: skip
    say(f"/readyz 503 from {first_503:.1f} s, listener closed at {closed:.1f} s, exit {code} "
        f"after {exit_s:.1f} s with 3 half-sent bodies held; requests {load.statuses()}, "
        f"{lost} sent and never answered")  # fmt: skip
    return out


def redis_faults(artifact: Path, workdir: Path, *, seconds: float) -> Results:
    say(f"\n== Redis faults under load (8 clients, a quarter of prompts repeated; {seconds:g} s "
        "per phase)")  # fmt: skip
    redis = RedisServer(workdir)
    server = Server(artifact, {"MODERATION_REDIS_URL": redis.url}, workdir / "redis.log")
    texts = Texts(8)
    hot = [moderate(texts.short()) for _ in range(50)]
    fresh = texts.shorts(int(3000 * seconds * 5))
    rng = random.Random(8)

    def body() -> bytes:
        return rng.choice(hot) if rng.random() < 0.25 else fresh()

    phases: list[tuple[str, Callable[[], None]]] = [
        ("healthy", lambda: None),
        ("Redis stopped (SIGSTOP)", lambda: redis.signal(signal.SIGSTOP)),
        ("resumed (SIGCONT)", lambda: redis.signal(signal.SIGCONT)),
        ("Redis killed (SIGKILL)", lambda: redis.signal(signal.SIGKILL)),
        ("Redis restarted", redis.start),
    ]
    out: Results = {}
    try:
        for name, act in phases:
            act()
            group = Group(name, "/moderate", 8, body)
            run_load(server.port, [group], seconds)
            p99 = pct([r.latency_s for r in group.ok()], 0.99) * 1000
            failed = len(group.records) - len(group.ok())
            out[name] = {"statuses": group.statuses(), "failed": failed, "p99_ms": p99}
            say(f"{name}: {group.statuses()}, {failed} failed, p99 {p99:.0f} ms")
        hits = server.metric("moderation_cache_hits_total", backend="redis")
        errors = server.metric("moderation_cache_errors_total", backend="redis")
        out["cache"] = {"redis_hits": hits, "redis_errors": errors}
        say(f"Redis cache: {hits:.0f} hits, {errors:.0f} errors (each scored uncached)")
    finally:
        redis.signal(signal.SIGCONT)
        server.stop()
        redis.signal(signal.SIGKILL)
    return out


# -- driver --------------------------------------------------------------------------------


CASES = ("abuse", "fairness", "overload", "deadline", "redis", "sigterm")


def run(
    artifact: Path,
    *,
    short: bool,
    workdir: Path,
    cases: Sequence[str] = CASES,
    seconds: float | None = None,
    rounds: int = 1,
) -> Results:
    """`seconds`: each load phase's length (default 1.5 with `short`, else 10); `rounds`: the
    fairness case's alternations of alone and beside long texts."""
    workdir.mkdir(parents=True, exist_ok=True)
    if seconds is None:
        seconds = 1.5 if short else 10.0
    flood = 128 if short else 256
    results: Results = {"short": short}
    base = {"MODERATION_CACHE_SIZE": "0"}
    if short:  # slowloris sockets are cut sooner than the default 10 s
        base["MODERATION_HEADER_TIMEOUT_SECONDS"] = "2"

    def start(name: str, env: Mapping[str, str]) -> Server:
        return Server(artifact, {**base, **env}, workdir / f"{name}.log")

    if {"abuse", "fairness", "deadline"} & set(cases):
        server = start("default", {})
        try:
            if "abuse" in cases:
                results["abuse"] = abuse(server, short=short)
            if "fairness" in cases:
                results["fairness"] = fairness(server, seconds=seconds, rounds=rounds)
            saturated = saturation(server, seconds=seconds) if "deadline" in cases else 0.0
        finally:
            server.stop()
    if "overload" in cases:
        server = start("overload", {"MODERATION_MAX_QUEUE": "64"})
        try:
            results["overload"] = overload(server, seconds=seconds, clients=flood)
        finally:
            server.stop()
    if "deadline" in cases:
        server = start("deadline", {"MODERATION_REQUEST_TIMEOUT_MS": "100"})
        try:
            results["deadline"] = deadline(
                server,
                saturated,
                seconds=seconds,
                clients=[flood] if short else [64, flood],
                flood=not short,
            )
        finally:
            server.stop()
    if "redis" in cases:
        results["redis"] = redis_faults(artifact, workdir, seconds=1.0 if short else seconds)
    if "sigterm" in cases:
        drain_s, bound_s = (1.0, 5.0) if short else (5.0, 15.0)
        env = {
            "MODERATION_SHUTDOWN_DRAIN_SECONDS": str(drain_s),
            "MODERATION_SHUTDOWN_TIMEOUT_SECONDS": str(bound_s),
        }
        server = start("sigterm", env)
        try:
            results["sigterm"] = sigterm(server, drain_s=drain_s, bound_s=bound_s)
        finally:
            server.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.reliability",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--artifact", type=Path, default=REPO_ROOT / "model_artifacts/student")
    parser.add_argument("--short", action="store_true", help="the CI version (~40 s)")
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / "loadtest/results/reliability")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--cases", nargs="+", choices=CASES, default=list(CASES), help="run only these cases"
    )
    parser.add_argument(
        "--seconds", type=float, help="length of each load phase (default: 1.5 with --short, 10)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="fairness: alternate the alone and beside-long-texts phases this many times",
    )
    args = parser.parse_args(argv)
    results = run(
        args.artifact,
        short=args.short,
        workdir=args.workdir,
        cases=args.cases,
        seconds=args.seconds,
        rounds=args.rounds,
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
