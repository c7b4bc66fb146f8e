"""`make bench-pairs` (`python -m loadtest.bench.pairs`) runs end to end and states before/after."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tokenizers import Tokenizer

from contract import DEFAULT_PAIR_LAYOUT, load_artifact
from loadtest.bench.pairs import long_pairs, with_layout
from loadtest.processes import REPO_ROOT


def test_long_pairs_are_over_the_threshold(tiny_artifact: Path) -> None:
    tokenizer = Tokenizer.from_file(str(tiny_artifact / "tokenizer.json"))
    tokenizer.no_truncation()
    pairs = long_pairs(tokenizer, 20, 128, seed=0)
    assert len(pairs) == 20
    assert all(len(tokenizer.encode(p, r or "")) > 128 for p, r in pairs)


def test_the_after_artifact_differs_only_by_its_layout(tiny_artifact: Path, tmp_path: Path) -> None:
    after = load_artifact(with_layout(tiny_artifact, DEFAULT_PAIR_LAYOUT, tmp_path)).manifest
    before = load_artifact(tiny_artifact).manifest
    assert after.pair_layout == DEFAULT_PAIR_LAYOUT and before.pair_layout is None
    assert after.model_copy(update={"pair_layout": None}) == before


def test_the_pairs_benchmark_prints_before_and_after(tiny_artifact: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "loadtest.bench.pairs", "--artifact", str(tiny_artifact),
         "--pairs", "12", "--concurrency", "2", "--threads", "1", "--policies", "truncate"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    lines = run.stdout.splitlines()
    assert "inputs: 12 response pairs over 128 tokens" in run.stdout
    ratios = lines[lines.index("after / before") + 1 :]
    assert ratios[0].lstrip().startswith("raw forward p50")
    assert ratios[1].split()[0] == "truncate" and "pairs/s" in ratios[1]
    assert "statuses {200: 12}" in run.stdout
