"""How each long-input policy copes with a harmful text buried in benign text (prints, asserts
nothing).

    python -m loadtest.bench.long_inputs --artifact model_artifacts/student --data-dir DIR

Harmful texts are the OpenAI moderation eval's flagged samples (evaluation data, used here only to
evaluate). Each is scored alone, then inserted at a random point of `--words` words of benign
filler (Alpaca answers) and scored under `windows`, `head_tail` and `truncate`, in process with
the service's encoders and engine. The same filler without the insert gives each policy's false
positive rate on long benign text (more windows are more chances to flag).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer
from tqdm import tqdm

from contract import EncodedPair, Pair, load_artifact, prepare_tokenizer
from loadtest.prompts import OAI_FILE
from service.config import Settings
from service.encoding import EncodedItem, PairEncoder
from service.engine import OnnxEngine
from service.windows import LongInputPolicy, build_encoder

OAI_FLAGS = ("S", "H", "V", "HR", "SH", "S3", "H2", "V2")  # any flag 1 = harmful
ALPACA = Path("seeds/alpaca/alpaca_5000.json")
BATCH = 16


# Read directly rather than through train.data: the load tests do not install the training stack.
def flagged_oai_texts(data_dir: Path) -> list[str]:
    with gzip.open(data_dir / OAI_FILE, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [row["prompt"] for row in rows if any(row.get(f) == 1 for f in OAI_FLAGS)]


def benign_filler_words(data_dir: Path) -> list[str]:
    rows = json.loads((data_dir / ALPACA).read_text(encoding="utf-8"))
    return " ".join(str(row.get("output") or "") for row in rows).split()


@dataclass
class PolicyResult:
    policy: str
    buried_caught: list[bool]
    benign_flagged: int
    windows: int
    truncated: int
    seconds: float  # all texts of the policy


def _scores(engine: OnnxEngine, items: list[EncodedItem]) -> list[float]:
    """Max score over each item's sequences, batched by length like the server's batcher."""
    flat: list[tuple[int, EncodedPair]] = [
        (n, seq) for n, item in enumerate(items) for seq in item.sequences
    ]
    flat.sort(key=lambda pair: len(pair[1]))
    best = [0.0] * len(items)
    for start in range(0, len(flat), BATCH):
        chunk = flat[start : start + BATCH]
        for (n, _), score in zip(chunk, engine.forward([s for _, s in chunk]), strict=True):
            best[n] = max(best[n], float(score))
    return best


def _filler(words: list[str], count: int, rng: random.Random) -> list[str]:
    start = rng.randrange(len(words) - count)
    return words[start : start + count]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.bench.long_inputs", description=__doc__
    )
    parser.add_argument("--artifact", type=Path, default=Settings().artifact_dir)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--words", type=int, default=3000, help="benign words around each text")
    parser.add_argument("--limit", type=int, default=100, help="harmful texts to bury")
    parser.add_argument("--max-windows", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    harmful = flagged_oai_texts(args.data_dir)
    harmful = rng.sample(harmful, min(args.limit, len(harmful)))
    filler_words = benign_filler_words(args.data_dir)

    artifact = load_artifact(args.artifact)
    manifest = artifact.manifest
    tokenizer = prepare_tokenizer(
        Tokenizer.from_file(str(artifact.tokenizer_path)), manifest.max_length
    )
    engine = OnnxEngine(artifact, threads=Settings().onnx_threads or 2)
    threshold = manifest.threshold

    buried: list[Pair] = []
    benign: list[Pair] = []
    for text in harmful:
        words = _filler(filler_words, args.words, rng)
        cut = rng.randrange(len(words) + 1)
        buried.append((" ".join([*words[:cut], text, *words[cut:]]), None))
        benign.append((" ".join(words), None))

    truncating = build_encoder(
        tokenizer, manifest.max_length, policy=LongInputPolicy.TRUNCATE, stride=None, max_windows=1
    )
    alone = [s >= threshold for s in _scores(engine, truncating([(t, None) for t in harmful]))]

    results: list[PolicyResult] = []
    for policy in LongInputPolicy:
        encoder: PairEncoder = build_encoder(
            tokenizer,
            manifest.max_length,
            policy=policy,
            stride=None,
            max_windows=args.max_windows,
        )
        started = time.perf_counter()
        caught: list[bool] = []
        flagged = windows = truncated = 0
        for start in tqdm(range(0, len(buried), 8), desc=policy.value):
            items = encoder(buried[start : start + 8])
            caught += [s >= threshold for s in _scores(engine, items)]
            windows += sum(len(i.sequences) for i in items)
            truncated += sum(i.truncated for i in items)
            benign_scores = _scores(engine, encoder(benign[start : start + 8]))
            flagged += sum(s >= threshold for s in benign_scores)
        seconds = time.perf_counter() - started
        results.append(PolicyResult(policy.value, caught, flagged, windows, truncated, seconds))

    n, n_alone = len(harmful), sum(alone)
    print(f"\n{manifest.model_id} (max_length {manifest.max_length}, threshold {threshold:g})")
    print(
        f"{n} flagged OAI eval texts, each buried in {args.words} benign words (seed {args.seed})"
    )
    print(f"caught alone: {n_alone}/{n} ({n_alone / n:.0%})")
    print(
        "policy     caught buried  kept (of caught alone)  benign flagged  windows/text  ms/text"
        "  truncated"
    )
    for r in results:
        kept = sum(a and b for a, b in zip(alone, r.buried_caught, strict=True))
        print(
            f"{r.policy:<10} {sum(r.buried_caught):>6}/{n} {sum(r.buried_caught) / n:>4.0%}"
            f" {kept:>11}/{n_alone} {kept / max(n_alone, 1):>5.0%}"
            f" {r.benign_flagged:>8}/{n} {r.benign_flagged / n:>4.0%}"
            f" {r.windows / n:>13.1f} {1000 * r.seconds / (2 * n):>8.1f} {r.truncated:>10}"
        )
    print("(ms/text: encode + score, in process, half buried and half benign texts)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
