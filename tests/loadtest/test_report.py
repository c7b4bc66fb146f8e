"""The report writer, on Locust CSVs recorded from a real short comparison
(`fixtures/recorded_run/`: `python -m loadtest compare --standin --levels 1,4 --duration 6`
on this 2-core machine while other jobs ran, so its numbers are only inputs here)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from loadtest.costs import LLAMA_GUARD_3_8B, SMOLLM2_135M, CostRow, cost_table
from loadtest.report import Row, floor_checks, write_report
from loadtest.runner import FINAL_STATS_SUFFIX, RunRecord, load_records, read_stats_csv

RECORDED = Path(__file__).parent / "fixtures" / "recorded_run"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def records() -> list[RunRecord]:
    """The recorded runs, with their stats read back from the recorded CSVs."""
    runs, _ = load_records(RECORDED / "runs.json")
    return [
        replace(r, stats=read_stats_csv(Path(f"{r.spec.csv_prefix}{FINAL_STATS_SUFFIX}")))
        for r in runs
    ]


def test_recorded_csvs_match_the_recorded_stats(records: list[RunRecord]) -> None:
    runs, _ = load_records(RECORDED / "runs.json")
    for from_csv, recorded in zip(records, runs, strict=True):
        for name, value in asdict(recorded.stats).items():
            got = getattr(from_csv.stats, name)
            assert got == value or (math.isnan(got) and math.isnan(value)), name
    targets = {r.spec.target for r in records}
    assert {"service", "service-nocache", "teacher", "baseline", "infinity"} <= targets


def test_report_has_a_row_per_run_and_charts(records: list[RunRecord], tmp_path: Path) -> None:
    report = write_report(records, tmp_path, meta={"commit": "abc123", "machine": "2 cores"})
    text = report.read_text()
    table = [line for line in text.splitlines() if line.startswith("| ") and " ms " not in line]
    rows = [line for line in table if line.split("|")[2].strip().isdigit()]
    assert len(rows) == len(records)
    assert "- **commit**: abc123" in text
    for png in ("throughput.png", "latency.png"):
        assert (tmp_path / png).read_bytes()[:8] == PNG_MAGIC
        assert f"]({png})" in text


def test_batch_runs_count_items_not_requests(records: list[RunRecord]) -> None:
    batch = next(r for r in records if r.spec.items_per_request > 1)
    row = Row.of(batch)
    assert row.items_per_s == pytest.approx(
        batch.stats.requests_per_s * batch.spec.items_per_request
    )


def test_floors_are_computed_from_the_measurements(records: list[RunRecord]) -> None:
    rows = [Row.of(r) for r in records]
    by = {(r.key, r.users): r for r in rows}
    checks = floor_checks(rows)
    for check in checks:
        svc = by[("service-nocache", check.users)]
        if check.passed is None:  # the teacher finished no request at 1 user
            assert check.users == 1 and "no request finished" in check.detail
            assert by[("teacher", 1)].requests == 0
            continue
        if "teacher" in check.description and "x teacher" in check.description:
            teacher = by[("teacher", check.users)]
            ratio = svc.items_per_s / teacher.items_per_s
            assert check.passed == (ratio >= 50)
            assert check.detail.startswith(f"{ratio:,.0f}x")
        elif "p99 below" in check.description:
            assert check.passed == (svc.p99_ms < by[("teacher", check.users)].p50_ms)
        else:
            peer_key = "baseline" if "transformers" in check.description else "infinity"
            peer = by[(peer_key, check.users)]
            expected = svc.items_per_s > peer.items_per_s and svc.p99_ms <= peer.p99_ms
            assert check.passed == expected
    # Where the teacher finished requests both teacher floors are judged, else one "n/a".
    teacher_checks = [c for c in checks if "teacher" in c.description]
    assert [(c.users, c.passed is None) for c in teacher_checks] == [
        (1, True),
        (4, False),
        (4, False),
    ]
    assert all(c.passed is not None for c in checks if "teacher" not in c.description)


def test_a_slow_service_fails_the_floor(records: list[RunRecord]) -> None:
    teacher = next(r for r in records if r.spec.target == "teacher" and r.stats.requests)
    slow = replace(
        teacher,
        spec=replace(teacher.spec, target="service-nocache"),
        stats=replace(teacher.stats, requests_per_s=teacher.stats.requests_per_s * 10),
    )
    checks = floor_checks([Row.of(teacher), Row.of(slow)])
    assert [c.passed for c in checks] == [False, False]
    assert checks[0].detail.startswith("10x")


def test_cost_table_separates_stand_in_from_the_real_teacher() -> None:
    rows = cost_table(None, 30.0, 290.0, 8.0)
    stand_in, real = rows
    assert stand_in.params == SMOLLM2_135M.params and real.params == LLAMA_GUARD_3_8B.params
    # A decoder costs ~2 x params FLOPs per token: 135M over ~300 tokens is ~80 GFLOPs.
    assert 50 < stand_in.gflops_per_prompt < 120
    assert 40 < real.gflops_per_prompt / stand_in.gflops_per_prompt < 80


def test_report_command_rewrites_from_runs_json(tmp_path: Path) -> None:
    recorded = tmp_path / "recorded"
    shutil.copytree(RECORDED, recorded)
    note = "infinity wins nowhere here"
    result = subprocess.run(
        [sys.executable, "-m", "loadtest", "report", str(recorded), "--note", note],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = (recorded / "report.md").read_text()
    assert f"- {note}" in text
    assert json.loads((recorded / "runs.json").read_text())["notes"] == [note]
    costs = json.loads((RECORDED / "runs.json").read_text())["costs"]
    assert costs and all(CostRow(**c).model.split(" (")[0] in text for c in costs)
    assert "## Floors" in text and "## Notes" in text


def test_failed_requests_score_nothing(records: list[RunRecord]) -> None:
    batch = next(r for r in records if r.spec.items_per_request > 1)
    half_failed = replace(batch, stats=replace(batch.stats, failures=batch.stats.requests // 2))
    row = Row.of(half_failed)
    ok = batch.stats.requests - batch.stats.requests // 2
    expected = batch.stats.requests_per_s * ok / batch.stats.requests * batch.spec.items_per_request
    assert row.items_per_s == pytest.approx(expected)
    assert row.error_rate == pytest.approx((batch.stats.requests // 2) / batch.stats.requests)
