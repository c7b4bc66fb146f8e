"""`python -m loadtest compare` end to end on the tiny artifact (service targets only)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from loadtest.processes import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_compare_measures_starts_and_reports(tiny_artifact: Path, tmp_path: Path) -> None:
    dead_teacher = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    cmd = [sys.executable, "-m", "loadtest", "compare", "--artifact", str(tiny_artifact)]
    cmd += ["--targets", "service-nocache", "service-batch", "teacher", "--levels", "1,2"]
    cmd += ["--duration", "2", "--batch-size", "4", "--prompts", "200"]
    cmd += ["--url", f"teacher={dead_teacher}", "--results", str(tmp_path)]
    result = subprocess.run(
        cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=240, check=False
    )
    # The unreachable teacher is reported clearly and makes the command fail, after the
    # other targets were measured and the report written.
    assert result.returncode == 1, result.stdout + result.stderr
    assert "teacher: FAILED" in result.stdout and "warm-up request failed" in result.stdout

    runs = json.loads((tmp_path / "runs.json").read_text())
    measured = {(r["spec"]["target"], r["spec"]["users"]) for r in runs["runs"]}
    assert measured == {(t, u) for t in ("service-nocache", "service-batch") for u in (1, 2)}
    for run in runs["runs"]:
        assert run["stats"]["requests"] > 0 and run["stats"]["failures"] == 0
        assert run["target_usage"]["samples"] > 0
    assert runs["meta"]["commit"] and runs["meta"]["machine"]

    report = (tmp_path / "report.md").read_text()
    assert "service /moderate/batch" in report and "service (cache off)" in report
    assert "teacher was not measured in full" in report
    assert (tmp_path / "throughput.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "latency.png").is_file()
    assert (tmp_path / "prompts.json").is_file()

    # --resume skips every finished run and rewrites the same report.
    resumed = subprocess.run(
        [*cmd[:-2], "--results", str(tmp_path), "--resume", "--targets", "service-nocache"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming: 4 runs" in resumed.stdout
    assert len(json.loads((tmp_path / "runs.json").read_text())["runs"]) == 4


def test_missing_artifact_says_what_to_do(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "loadtest", "compare", "--artifact", str(tmp_path / "none")]
    result = subprocess.run(
        cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert "--standin" in result.stderr and "make artifact" in result.stderr
