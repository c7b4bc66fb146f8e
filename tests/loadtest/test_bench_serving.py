"""`make bench` (`python -m loadtest.bench.serving`) runs end to end: every section and ratio."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from loadtest.processes import REPO_ROOT


def test_the_benchmark_prints_every_ratio(tiny_artifact: Path, data_dir: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "loadtest.bench.serving",
            "--artifact",
            str(tiny_artifact),
            "--data-dir",
            str(data_dir),
            "--prompts",
            "60",
            "--single",
            "20",
            "--rounds",
            "2",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    out = run.stdout
    assert "inputs: 60 ToxicChat" in out
    rounds = re.findall(r"round \d: raw best layout +([\d.]+)/s, then server +([\d.]+) req/s", out)
    assert len(rounds) == 2 and all(float(r) > 0 and float(s) > 0 for r, s in rounds)
    # Where the server's CPU goes, per request, beside the raw figure (read from /proc).
    cpu = re.findall(
        r"CPU us per prompt: raw (\d+), server (\d+) \(event loop (\d+), model \+ tokeniser "
        r"threads (\d+)\), load generator (\d+)",
        out,
    )
    assert len(cpu) == 2
    for raw, server, loop, threads, client in cpu:
        assert int(raw) > 0 and int(loop) > 0 and int(threads) > 0 and int(client) > 0
        assert int(server) == pytest.approx(int(loop) + int(threads), abs=1)
    for ratio in (
        "saturated / best raw throughput",
        "the same, alternating rounds",
        "length-aware / fifo (same limits)",
        "c=1 p50 - raw single p50",
        "cache hit server-side p50",
    ):
        line = next(line for line in out.splitlines() if ratio in line)
        assert re.search(r"[-+]?\d+\.\d+", line), line
    # Every load run was answered in full: no 429/503 and no errors under the bench's limits.
    statuses = re.findall(r"statuses (\{[^}]*\})", out)
    assert statuses and all(s.startswith("{200: ") and s.count(":") == 1 for s in statuses)


def test_the_ab_mode_compares_settings_against_raw(tiny_artifact: Path) -> None:
    run = subprocess.run(
        [
            sys.executable, "-m", "loadtest.bench.serving", "--artifact", str(tiny_artifact),
            "--prompts", "40", "--single", "10", "--rounds", "2",
            "--ab", "MODERATION_MAX_BATCH_SIZE=4",
        ],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    out = run.stdout
    assert "inputs: 40 synthetic prompts" in out
    assert len(re.findall(r"round \d: raw \d+/s; req/s: defaults \d+ MODERATION_MAX_", out)) == 2
    for name in ("defaults", "MODERATION_MAX_BATCH_SIZE=4"):
        assert re.search(rf"{name} +median +[\d.]+ req/s = [\d.]+x raw", out), name
    assert "(c)" not in out  # the comparison replaces the full run


def test_the_category_heads_cost_can_be_measured(tiny_category_artifact: Path) -> None:
    """The issue's floor (the head costs at most 5% of saturated throughput) is read from this
    comparison on the real artifact: categories served (defaults) against switched off."""
    run = subprocess.run(
        [
            sys.executable, "-m", "loadtest.bench.serving", "--artifact",
            str(tiny_category_artifact), "--prompts", "40", "--single", "10", "--rounds", "2",
            "--ab", "MODERATION_CATEGORIES=false",
        ],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    for name in ("defaults", "MODERATION_CATEGORIES=false"):
        assert re.search(rf"{name} +median +[\d.]+ req/s = [\d.]+x raw", run.stdout), name


def test_another_checkouts_server_is_compared_round_by_round(tiny_artifact: Path) -> None:
    """`--against-tree` runs `python -m service` from the given checkout (here this one) in
    the same rounds as this checkout's, and prints the paired per-round differences."""
    run = subprocess.run(
        [
            sys.executable, "-m", "loadtest.bench.serving", "--artifact", str(tiny_artifact),
            "--prompts", "40", "--single", "10", "--rounds", "2",
            "--against-tree", str(REPO_ROOT),
        ],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    tree = re.escape(f"tree {REPO_ROOT}")
    assert re.search(rf"{tree} +median +[\d.]+ req/s = [\d.]+x raw, p99 \d+ ms", run.stdout)
    assert re.search(rf"defaults - {tree}: per round [-+]\d+ [-+]\d+ req/s", run.stdout)
