"""`make bench-pairs` (the benchmark's pairs mode): what the pair layout costs on long pairs.

Long (prompt, response) pairs, over 128 tokens as one `longest_first` sequence, scored by the
same artifact twice: as shipped ("before": `longest_first` to the manifest's max length, and
windows of that length over long responses), and as a copy whose manifest adds a pair layout
("after": the prompt's tail and the response's head in a wider window). The weights are the same;
only the encoding differs, so the difference is the layout's cost: longer sequences per forward
pass, fewer windows per pair. Printed per variant: tokens per sequence, sequences per pair under
the windows policy, encoding time, raw ONNX Runtime latency one pair at a time, and the server's
latency at concurrency 1 and throughput at saturation (cache off), under the `truncate` and the
default `windows` policy.

Pairs: the committed response-level pairs (`data/response_pairs/`, built from the training
seeds; never an eval set), those over `--min-tokens` tokens.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
from tokenizers import Tokenizer

from contract import (
    DEFAULT_PAIR_LAYOUT,
    MANIFEST_FILE,
    Pair,
    PairLayout,
    encode_pairs,
    load_artifact,
    prepare_tokenizer,
)
from loadtest.bench.load_client import LoadResult, http_load, pct
from loadtest.processes import ServiceProcess
from service.engine import start_sessions
from service.windows import LongInputPolicy, build_encoder

PAIRS_DIR = Path(__file__).resolve().parents[2] / "data" / "response_pairs"


def long_pairs(tokenizer: Tokenizer, count: int, min_tokens: int, seed: int) -> list[Pair]:
    """`count` shuffled response pairs longer than `min_tokens` tokens with special tokens."""
    pairs: list[Pair] = []
    for name in ("train", "dev"):
        with gzip.open(PAIRS_DIR / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        pairs += [(row["prompt"], row["response"]) for row in rows if row.get("response")]
    random.Random(seed).shuffle(pairs)
    plain = Tokenizer.from_str(tokenizer.to_str())
    plain.no_truncation()
    plain.no_padding()
    out: list[Pair] = []
    for start in range(0, len(pairs), 256):
        chunk = pairs[start : start + 256]
        inputs = [(p, r or "") for p, r in chunk]
        for pair, encoding in zip(chunk, plain.encode_batch(inputs), strict=True):
            if len(encoding) > min_tokens:
                out.append(pair)
        if len(out) >= count:
            break
    return out[:count]


def with_layout(artifact_dir: Path, layout: PairLayout | None, out_dir: Path) -> Path:
    """A copy of the artifact whose manifest has `layout` (none: `longest_first`), with the
    same model and tokenizer."""
    target = out_dir / ("laid-out" if layout else "longest-first")
    shutil.copytree(artifact_dir, target)
    manifest = json.loads((target / MANIFEST_FILE).read_text())
    manifest["pair_layout"] = layout.model_dump() if layout else None
    (target / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    load_artifact(target)  # still valid
    return target


@dataclass
class Variant:
    name: str
    artifact: Path
    layout: PairLayout | None


@dataclass
class RawFigures:
    tokens_median: float
    tokens_max: int
    windows_per_pair: float
    encode_us_per_pair: float
    forward_p50_ms: float
    forward_p90_ms: float

    def describe(self) -> str:
        return (
            f"tokens per sequence median {self.tokens_median:.0f} (max {self.tokens_max}); "
            f"sequences per pair under windows {self.windows_per_pair:.2f}; encoding "
            f"{self.encode_us_per_pair:.0f} us/pair; forward p50 {self.forward_p50_ms:.2f} ms, "
            f"p90 {self.forward_p90_ms:.2f} ms"
        )


def raw_figures(variant: Variant, pairs: Sequence[Pair], threads: int) -> RawFigures:
    artifact = load_artifact(variant.artifact)
    manifest = artifact.manifest
    tokenizer = prepare_tokenizer(
        Tokenizer.from_file(str(artifact.tokenizer_path)), manifest.max_length, variant.layout
    )
    encode_pairs(tokenizer, list(pairs[:8]), variant.layout)  # warm the thread pool
    t0 = time.perf_counter()
    encoded = encode_pairs(tokenizer, list(pairs), variant.layout)
    encode_s = time.perf_counter() - t0
    windows = build_encoder(
        tokenizer, manifest.max_length, policy=LongInputPolicy.WINDOWS, stride=None,
        max_windows=16, layout=variant.layout,
    )(list(pairs))  # fmt: skip
    (engine,) = start_sessions(artifact, count=1, threads=threads, categories=False)
    latencies = []
    for sequence in encoded:
        t0 = time.perf_counter()
        engine.forward([sequence])
        latencies.append((time.perf_counter() - t0) * 1000)
    lengths = [len(e) for e in encoded]
    return RawFigures(
        tokens_median=statistics.median(lengths),
        tokens_max=max(lengths),
        windows_per_pair=statistics.mean(len(item.sequences) for item in windows),
        encode_us_per_pair=encode_s * 1e6 / len(pairs),
        forward_p50_ms=statistics.median(latencies),
        forward_p90_ms=pct(latencies, 0.9),
    )


def served(variant: Variant, bodies: list[bytes], policy: str, concurrency: int) -> tuple[
    LoadResult, LoadResult
]:  # fmt: skip
    env = {
        "MODERATION_CACHE_SIZE": "0",
        "MODERATION_REQUEST_TIMEOUT_MS": "3600000",
        "MODERATION_LONG_INPUT_POLICY": policy,
    }
    server = ServiceProcess(variant.artifact, env, log_level="warning")
    try:
        http_load(server.url, bodies[:10], 1)  # warm-up
        one = http_load(server.url, bodies, 1)
        many = http_load(server.url, bodies, concurrency)
    finally:
        server.stop()
    return one, many


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench.pairs", description=__doc__)
    parser.add_argument("--artifact", type=Path, default=Path("model_artifacts/student"))
    parser.add_argument("--pairs", type=int, default=300, help="long pairs to send")
    parser.add_argument("--min-tokens", type=int, default=128)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--threads", type=int, default=0, help="ONNX threads (0 = all CPUs)")
    parser.add_argument("--policies", default="truncate,windows",
                        help="MODERATION_LONG_INPUT_POLICY values to serve under")  # fmt: skip
    parser.add_argument("--layout", default=None, metavar="MAX,PROMPT,RESPONSE",
                        help="the 'after' layout (default: the manifest's, else "
                             f"{DEFAULT_PAIR_LAYOUT.max_length},"
                             f"{DEFAULT_PAIR_LAYOUT.prompt_tokens},"
                             f"{DEFAULT_PAIR_LAYOUT.response_tokens})")  # fmt: skip
    args = parser.parse_args(argv)
    if not (args.artifact / MANIFEST_FILE).is_file():
        print(f"No artifact at {args.artifact}: run `make artifact`, or pass --artifact DIR.")
        return 2
    from service.config import available_cpus

    threads = args.threads or available_cpus()
    artifact = load_artifact(args.artifact)
    if args.layout:
        size, prompt, response = (int(v) for v in args.layout.split(","))
        layout = PairLayout(max_length=size, prompt_tokens=prompt, response_tokens=response)
    else:
        layout = artifact.manifest.pair_layout or DEFAULT_PAIR_LAYOUT
    tokenizer = Tokenizer.from_file(str(artifact.tokenizer_path))
    pairs = long_pairs(tokenizer, args.pairs, args.min_tokens, seed=0)
    bodies = [orjson.dumps({"prompt": p, "response": r}) for p, r in pairs]
    print(f"artifact {artifact.manifest.model_id} ({args.artifact}), {threads} threads")
    print(f"inputs: {len(pairs)} response pairs over {args.min_tokens} tokens ({PAIRS_DIR})")
    with tempfile.TemporaryDirectory() as tmp:
        variants = [
            Variant(f"before (max_length {artifact.manifest.max_length}, longest_first)",
                    with_layout(args.artifact, None, Path(tmp)), None),
            Variant(f"after (pair layout {layout.max_length}: prompt tail "
                    f"{layout.prompt_tokens}, response head {layout.response_tokens})",
                    with_layout(args.artifact, layout, Path(tmp)), layout),
        ]  # fmt: skip
        print("(a) in process: encoding, and raw ONNX Runtime one pair at a time (truncate)")
        raws = {}
        for variant in variants:
            raw = raws[variant.name] = raw_figures(variant, pairs, threads)
            print(f"  {variant.name}\n    {raw.describe()}")
        print(f"(b) the server over HTTP (cache off): concurrency 1, then {args.concurrency}")
        results: dict[tuple[str, str], tuple[LoadResult, LoadResult]] = {}
        for policy in args.policies.split(","):
            for variant in variants:
                one, many = results[(policy, variant.name)] = served(
                    variant, bodies, policy, args.concurrency
                )
                print(f"  {policy:<8} {variant.name}\n    c=1 p50 {one.p50_ms:.2f} ms, p99 "
                      f"{one.p99_ms:.2f} ms (server {one.server_p50_ms:.2f} ms); "
                      f"c={args.concurrency} {many.per_s:.1f} pairs/s, p50 {many.p50_ms:.1f} ms, "
                      f"p99 {many.p99_ms:.1f} ms; statuses {many.statuses}")  # fmt: skip
    before, after = variants
    print("after / before")
    ratio = raws[after.name].forward_p50_ms / raws[before.name].forward_p50_ms
    print(f"  raw forward p50 (one sequence)       {ratio:5.2f}x")
    for policy in args.policies.split(","):
        b1, bn = results[(policy, before.name)]
        a1, an = results[(policy, after.name)]
        latency = f"{a1.p50_ms / b1.p50_ms:5.2f}x ({b1.p50_ms:.2f} -> {a1.p50_ms:.2f} ms)"
        rate = f"{an.per_s / bn.per_s:5.2f}x ({bn.per_s:.1f} -> {an.per_s:.1f} pairs/s)"
        print(f"  {policy:<8} c=1 p50 {latency}; saturated throughput {rate}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
