"""`make bench`: what the server costs over the raw model, on the same prompts, in one run.

(a) raw ONNX Runtime in-process on pre-tokenised prompts: one at a time, and in length-sorted
    batches on one session and on one 1-thread session per CPU side by side (the limit this CPU
    allows);
(b) the server over HTTP (real uvicorn process, cache off) at concurrency 1 and at saturation,
    then rounds that alternate the best raw layout with the saturated server (drift-proof ratio);
(c) the same server padding FIFO batches to their longest member (`MODERATION_BATCHING=fifo`);
(d) a cache hit's server-side latency (the `Server-Timing` header).
`--ab NAME=VALUE[,...]` (repeatable) instead compares the saturated throughput of settings, each
in a fresh server, in rounds alternating with the raw figure; `--against-tree DIR` does the
same for another checkout's server (a worktree of the commit before a change).
Prompts: ToxicChat test prompts from `--data-dir` (inputs only, no labels), else a synthetic mix
with the same length distribution. Prints numbers and ratios against the issue's floors;
asserts nothing. The load generator (`load_client`) is one asyncio process on keep-alive
connections.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
from tokenizers import Tokenizer

from contract import Artifact, EncodedPair, encode_pairs, load_artifact, prepare_tokenizer
from loadtest.bench.load_client import LoadResult, http_load, pct
from loadtest.processes import REPO_ROOT, ServiceProcess
from loadtest.prompts import TOXICCHAT_TEST_FILE, synthetic_prompts, toxicchat_prompts
from service.engine import OnnxEngine, start_sessions


def load_prompts(data_dir: Path | None, count: int, seed: int) -> tuple[list[str], str]:
    """`count` shuffled ToxicChat test prompts, else synthetic ones of the same lengths."""
    path = data_dir / TOXICCHAT_TEST_FILE if data_dir else None
    if path is not None and path.is_file():
        prompts = toxicchat_prompts(path)
        random.Random(seed).shuffle(prompts)
        return prompts[:count], f"ToxicChat test prompts ({path})"
    return synthetic_prompts(count, seed=seed), "synthetic prompts (ToxicChat length distribution)"


# -- (a) raw ONNX Runtime --------------------------------------------------------------------


@dataclass
class RawResult:
    single_p50_ms: float
    single_per_s: float
    best_per_s: float
    best_shape: str
    best_engines: list[OnnxEngine]  # the fastest batched layout, re-run beside the server
    best_budget: int
    tokens_median: float
    tokens_p90: float


def load_raw(artifact_dir: Path, prompts: list[str]) -> tuple[Artifact, list[EncodedPair]]:
    """The artifact, and the prompts tokenised the server's way."""
    artifact = load_artifact(artifact_dir)
    tokenizer = prepare_tokenizer(
        Tokenizer.from_file(str(artifact.tokenizer_path)), artifact.manifest.max_length
    )
    return artifact, encode_pairs(tokenizer, [(p, None) for p in prompts])


def sorted_batches(encoded: list[EncodedPair], budget: int) -> list[list[EncodedPair]]:
    """Every prompt, sorted by length, cut into batches of <= 32 and <= `budget` padded tokens."""
    batches: list[list[EncodedPair]] = [[]]
    for seq in sorted(encoded, key=len):  # ascending, so the newest member is the longest
        current = batches[-1]
        if current and (len(current) >= 32 or len(seq) * (len(current) + 1) > budget):
            batches.append(current := [])
        current.append(seq)
    return batches


def run_batches(engines: Sequence[OnnxEngine], batches: list[list[EncodedPair]]) -> float:
    """Seconds to score `batches`, each engine in its own thread taking the next free batch."""
    todo = iter(batches)
    lock = threading.Lock()

    def work(engine: OnnxEngine) -> None:
        while True:
            with lock:
                batch = next(todo, None)
            if batch is None:
                return
            engine.forward(batch)

    workers = [threading.Thread(target=work, args=(e,)) for e in engines]
    t0 = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - t0


def bench_raw(
    engine: OnnxEngine, parallel: Sequence[OnnxEngine], encoded: list[EncodedPair], single_n: int
) -> RawResult:
    """One at a time on `engine`; then sorted batches on `engine` alone and on the `parallel`
    1-thread sessions side by side (the server's default layout on CPU). Best = the fastest."""
    lengths = [len(e) for e in encoded]

    latencies = []
    started = time.perf_counter()
    for seq in encoded:
        t0 = time.perf_counter()
        engine.forward([seq])
        latencies.append(time.perf_counter() - t0)
    single_per_s = len(encoded) / (time.perf_counter() - started)

    best = (single_per_s, "one at a time")
    best_layout: tuple[list[OnnxEngine], int] = ([engine], 1)
    layouts = [(f"1 session x {engine.threads} threads", [engine])]
    if parallel:
        layouts.append((f"{len(parallel)} sessions x 1 thread side by side", list(parallel)))
    for layout, engines in layouts:
        for budget in (128, 256, 512, 1024, 4096):
            rate = len(encoded) / run_batches(engines, sorted_batches(encoded, budget))
            shape = f"length-sorted, <= 32, <= {budget} padded tokens, {layout}"
            print(f"  raw {shape}: {rate:6.1f}/s")
            if rate > best[0]:
                best = (rate, shape)
                best_layout = (engines, budget)
    return RawResult(
        single_p50_ms=statistics.median(latencies[:single_n]) * 1000,
        single_per_s=single_per_s,
        best_per_s=best[0],
        best_shape=best[1],
        best_engines=best_layout[0],
        best_budget=best_layout[1],
        tokens_median=statistics.median(lengths),
        tokens_p90=pct(lengths, 0.9),
    )


# -- the server and the load generator ------------------------------------------------------


@contextmanager
def running_server(
    artifact_dir: Path, env: dict[str, str], source_root: Path | None = None
) -> Iterator[ServiceProcess]:
    server = ServiceProcess(
        artifact_dir, env, log_level="warning", source_root=source_root or REPO_ROOT
    )
    try:
        yield server
    finally:
        server.stop()


@dataclass
class SideBySide:
    raw_p50_ms: float
    http_p50_ms: float
    server_p50_ms: float


def side_by_side(
    url: str,
    engine: OnnxEngine,
    encoded: list[EncodedPair],
    bodies: list[bytes],
    block: int = 25,
) -> SideBySide:
    """Concurrency 1, alternating blocks of raw forward passes and HTTP requests.

    Both see about the same CPU contention, so their difference is the server's cost; blocks
    (not single prompts) so that each side runs with its own weights warm in the CPU caches.
    """
    connection = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=30)
    headers = {"Content-Type": "application/json"}
    raw: list[float] = []
    served: list[float] = []
    server: list[float] = []
    for start in range(0, len(encoded), block):
        for seq in encoded[start : start + block]:
            t0 = time.perf_counter()
            engine.forward([seq])
            raw.append(time.perf_counter() - t0)
        for body in bodies[start : start + block]:
            t0 = time.perf_counter()
            connection.request("POST", "/moderate", body=body, headers=headers)
            reply = connection.getresponse()
            reply.read()
            served.append(time.perf_counter() - t0)
            server.append(float(reply.getheader("server-timing", "dur=nan").split("dur=")[1]))
    connection.close()
    return SideBySide(
        raw_p50_ms=statistics.median(raw) * 1000,
        http_p50_ms=statistics.median(served) * 1000,
        server_p50_ms=statistics.median(server),
    )


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds used so far by each thread of process `pid` ({} where /proc is missing)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    cpu: dict[int, float] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return cpu
    for tid in tids:
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:
            continue  # the thread ended
        fields = stat.rsplit(")", 1)[1].split()  # after "(comm)": utime and stime are 12, 13
        cpu[int(tid)] = (int(fields[11]) + int(fields[12])) / tick
    return cpu


@dataclass
class CpuPerRequest:
    """Microseconds of CPU per request: where the server's time goes, beside the raw figure."""

    raw: float  # the raw best layout, per prompt
    event_loop: float  # the server's main thread (HTTP, routing, scheduling)
    other_threads: float  # the server's model sessions and tokeniser
    load_generator: float


@dataclass
class Alternating:
    raw_per_s: list[float]
    served_per_s: list[float]
    cpu: list[CpuPerRequest]

    @property
    def ratios(self) -> list[float]:
        return [s / r for r, s in zip(self.raw_per_s, self.served_per_s, strict=True)]


def alternating_saturation(
    server: ServiceProcess,
    raw: RawResult,
    encoded: list[EncodedPair],
    bodies: list[bytes],
    concurrency: int,
    rounds: int,
) -> Alternating:
    """Rounds of (the best raw layout, then the server at saturation) on the same prompts.

    On a shared machine the CPU on offer drifts by 10-20% within minutes; a ratio of two
    figures taken seconds apart says more than one of figures taken minutes apart. Each round
    also counts CPU time per request (Linux), which says where the server's extra cost lies.
    """
    batches = sorted_batches(encoded, raw.best_budget)
    result = Alternating([], [], [])
    for _ in range(rounds):
        cpu0 = time.process_time()
        result.raw_per_s.append(len(encoded) / run_batches(raw.best_engines, batches))
        raw_cpu = time.process_time() - cpu0
        threads0, cpu0 = thread_cpu_seconds(server.pid), time.process_time()
        result.served_per_s.append(http_load(server.url, bodies, concurrency).per_s)
        client_cpu = time.process_time() - cpu0
        threads = thread_cpu_seconds(server.pid)
        spent = {tid: used - threads0.get(tid, 0.0) for tid, used in threads.items()}
        loop_cpu = spent.pop(server.pid, 0.0)
        per_us = 1e6 / len(bodies)
        result.cpu.append(
            CpuPerRequest(
                raw=raw_cpu * 1e6 / len(encoded),
                event_loop=loop_cpu * per_us,
                other_threads=sum(spent.values()) * per_us,
                load_generator=client_cpu * per_us,
            )
        )
    return result


def compare_settings(
    artifact_dir: Path,
    base_env: dict[str, str],
    variants: Sequence[str],
    raw: RawResult,
    encoded: list[EncodedPair],
    bodies: list[bytes],
    concurrency: int,
    rounds: int,
    trees: Sequence[Path] = (),
) -> None:
    """`--ab` / `--against-tree`: rounds of (raw best layout, then a fresh server per setting)
    at saturation.

    Each variant is `NAME=VALUE[,NAME=VALUE...]` of `MODERATION_*` settings, each tree another
    checkout's server with the defaults (e.g. a worktree of the commit before a change);
    "defaults" (this checkout) runs first, and the order rotates each round so that no setting
    always follows the raw run. Prints each setting's median over the rounds, its ratio to the
    raw median and its median p99, and, per setting, the per-round difference from the defaults
    (paired by round).
    """
    settings: dict[str, tuple[dict[str, str], Path | None]] = {"defaults": ({}, None)}
    for variant in variants:
        settings[variant] = (dict(pair.split("=", 1) for pair in variant.split(",")), None)
    for tree in trees:
        settings[f"tree {tree}"] = ({}, tree)
    batches = sorted_batches(encoded, raw.best_budget)
    raws: list[float] = []
    served: dict[str, list[float]] = {name: [] for name in settings}
    tails: dict[str, list[float]] = {name: [] for name in settings}  # p99 ms
    names = list(settings)
    for n in range(rounds):
        raws.append(len(encoded) / run_batches(raw.best_engines, batches))
        shift = n % len(names)
        for name in names[shift:] + names[:shift]:
            env, source = settings[name]
            with running_server(artifact_dir, {**base_env, **env}, source) as server:
                http_load(server.url, bodies[:200], concurrency)  # warm-up
                result = http_load(server.url, bodies, concurrency)
                served[name].append(result.per_s)
                tails[name].append(result.p99_ms)
        line = " ".join(f"{name} {runs[-1]:.0f}" for name, runs in served.items())
        print(f"  round {n + 1}: raw {raws[-1]:.0f}/s; req/s: {line}", flush=True)
    raw_median = statistics.median(raws)
    print(f"  raw best layout, median: {raw_median:.1f}/s")
    for name, runs in served.items():
        median = statistics.median(runs)
        print(f"  {name:<60} median {median:6.1f} req/s = {median / raw_median:.2f}x raw, "
              f"p99 {statistics.median(tails[name]):.0f} ms")  # fmt: skip
    for name, runs in served.items():
        if name == "defaults":
            continue
        diffs = [d - o for d, o in zip(served["defaults"], runs, strict=True)]
        print(f"  defaults - {name}: per round {' '.join(f'{d:+.0f}' for d in diffs)} req/s "
              f"(mean {statistics.mean(diffs):+.1f}; {sum(d < 0 for d in diffs)} of "
              f"{len(diffs)} rounds lower)")  # fmt: skip


def _bodies(prompts: Sequence[str]) -> list[bytes]:
    return [orjson.dumps({"prompt": p}) for p in prompts]


def _line(name: str, result: LoadResult) -> None:
    print(
        f"  {name:<44} {result.per_s:7.1f} req/s   p50 {result.p50_ms:7.2f} ms   "
        f"p99 {result.p99_ms:7.2f} ms   server p50 {result.server_p50_ms:6.2f} ms   "
        f"statuses {result.statuses}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench.serving", description=__doc__)
    parser.add_argument("--artifact", type=Path, default=Path("model_artifacts/student"))
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--prompts", type=int, default=1000, help="prompts for the load runs")
    parser.add_argument("--single", type=int, default=300, help="prompts for one-at-a-time runs")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="ONNX threads (0 = all CPUs)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating raw/saturated rounds for the ratio"
    )
    parser.add_argument(
        "--ab",
        action="append",
        default=[],
        metavar="NAME=VALUE[,...]",
        help="instead of the full run: saturated throughput of the defaults and of these "
        "MODERATION_* settings, in rounds alternating with raw (repeatable)",
    )
    parser.add_argument(
        "--against-tree",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="like --ab: this checkout's server against another checkout's (e.g. `git worktree "
        "add /tmp/before COMMIT`), same artifact and settings (repeatable)",
    )
    args = parser.parse_args(argv)
    if not (args.artifact / "manifest.json").is_file():
        print(f"No artifact at {args.artifact}: run `make artifact`, or pass --artifact DIR.")
        return 2

    from service.config import available_cpus

    threads = args.threads or available_cpus()
    prompts, source = load_prompts(args.data_dir, args.prompts, seed=0)
    manifest = json.loads((args.artifact / "manifest.json").read_text())
    print(f"artifact {manifest['name']}@{manifest['version']} ({args.artifact}), {threads} threads")
    print(f"inputs: {len(prompts)} {source}")

    print("(a) raw ONNX Runtime, in-process, pre-tokenised")
    artifact, encoded = load_raw(args.artifact, prompts)
    (engine,) = start_sessions(artifact, count=1, threads=threads)
    parallel = start_sessions(artifact, count=threads, threads=1) if threads > 1 else []
    raw = bench_raw(engine, parallel, encoded, args.single)
    print(f"  tokens per prompt: median {raw.tokens_median:.0f}, p90 {raw.tokens_p90:.0f}")
    print(f"  raw one at a time: {raw.single_per_s:6.1f}/s, p50 {raw.single_p50_ms:.2f} ms")
    print(f"  raw best:          {raw.best_per_s:6.1f}/s ({raw.best_shape})")

    # No deadline: every request is answered, so throughput is the serving rate, not a drop rate.
    base_env = {
        "MODERATION_CACHE_SIZE": "0",
        "MODERATION_REQUEST_TIMEOUT_MS": "3600000",
        # The raw baseline truncates; windows would give the server more work on long prompts.
        "MODERATION_LONG_INPUT_POLICY": "truncate",
    }
    if args.ab or args.against_tree:
        print(f"(ab) saturated, {args.concurrency} clients, {args.rounds} alternating rounds")
        compare_settings(
            args.artifact, base_env, args.ab, raw, encoded, _bodies(prompts),
            args.concurrency, args.rounds, [p.resolve() for p in args.against_tree],
        )  # fmt: skip
        return 0
    single_bodies = _bodies(prompts[: args.single])
    load_bodies = _bodies(prompts)
    print(f"(b) server over HTTP (cache off), {args.concurrency} concurrent clients at saturation")
    with running_server(args.artifact, base_env) as server:
        url = server.url
        http_load(url, single_bodies[:20], 1)  # warm the connection path
        c1 = http_load(url, single_bodies, 1)
        _line("length-aware, concurrency 1", c1)
        pair = side_by_side(url, engine, encoded[: args.single], single_bodies)
        print(
            f"  concurrency 1 in blocks alternating with raw on the same prompts: raw p50 "
            f"{pair.raw_p50_ms:.2f} ms, HTTP p50 {pair.http_p50_ms:.2f} ms "
            f"(server-side {pair.server_p50_ms:.2f} ms)"
        )
        sat = http_load(url, load_bodies, args.concurrency)
        _line(f"length-aware, concurrency {args.concurrency}", sat)
        turns = alternating_saturation(
            server, raw, encoded, load_bodies, args.concurrency, args.rounds
        )
        for n, (r, v, cpu) in enumerate(
            zip(turns.raw_per_s, turns.served_per_s, turns.cpu, strict=True)
        ):
            print(f"  round {n + 1}: raw best layout {r:6.1f}/s, then server {v:6.1f} req/s "
                  f"= {v / r:.2f}x; CPU us per prompt: raw {cpu.raw:.0f}, server "
                  f"{cpu.event_loop + cpu.other_threads:.0f} (event loop {cpu.event_loop:.0f}, "
                  f"model + tokeniser threads {cpu.other_threads:.0f}), load generator "
                  f"{cpu.load_generator:.0f}")  # fmt: skip
    print("(c) the same server padding FIFO batches to their longest member")
    with running_server(args.artifact, {**base_env, "MODERATION_BATCHING": "fifo"}) as server:
        fifo = http_load(server.url, load_bodies, args.concurrency)
        _line(f"fifo, same limits, concurrency {args.concurrency}", fifo)
    naive_env = {"MODERATION_MAX_BATCH_SIZE": "8", "MODERATION_MAX_BATCH_TOKENS": "1000000"}
    with running_server(
        args.artifact, {**base_env, "MODERATION_BATCHING": "fifo", **naive_env}
    ) as server:
        naive = http_load(server.url, load_bodies[: args.single], args.concurrency)  # it is slow
        _line(f"fifo, 8/batch, no budget, c={args.concurrency}, {args.single} prompts", naive)
    print("(d) cache hits (in-process cache)")
    with running_server(args.artifact, {}) as server:
        http_load(server.url, single_bodies[:1], 1)
        hits = http_load(server.url, single_bodies[:1] * 500, 1)
        _line("same prompt, concurrency 1", hits)

    print("ratios (floors from issue 2, for the student artifact)")
    sat_ratio = sat.per_s / raw.best_per_s
    print(f"  saturated / best raw throughput     {sat_ratio:5.2f}x  (floor >= 0.80x)")
    turn_ratio = statistics.median(turns.ratios)
    print(f"  the same, alternating rounds        {turn_ratio:5.2f}x  (median of {args.rounds})")
    print(f"  length-aware / fifo (same limits)   {sat.per_s / fifo.per_s:5.2f}x")
    print(f"  length-aware / fifo (8, no budget)  {sat.per_s / naive.per_s:5.2f}x")
    print(f"  best raw / raw one at a time        {raw.best_per_s / raw.single_per_s:5.2f}x")
    over = c1.p50_ms - raw.single_p50_ms
    print(f"  c=1 p50 - raw single p50            {over:+5.2f} ms (floor <= +2 ms; in turn)")
    over = pair.http_p50_ms - pair.raw_p50_ms
    print(f"  the same, in alternating blocks     {over:+5.2f} ms")
    print(f"  cache hit server-side p50           {hits.server_p50_ms:5.3f} ms (floor <= 1 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
