"""One headless Locust run (fixed users, spawn rate and duration) with CSV stats kept.

Locust runs in its own process (it monkey-patches the standard library with gevent), so the
caller stays a plain Python process that can start servers and sample their CPU and memory.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from loadtest.procstats import ProcessSampler, ProcessUsage

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
# Written by the locustfile at quit (see there): the complete final stats, Locust's columns.
FINAL_STATS_SUFFIX = "_final_stats.csv"


@dataclass(frozen=True)
class RunSpec:
    target: str  # label of the target in the report, e.g. "service (cache off)"
    user_class: str  # a class in loadtest/locustfile.py
    host: str
    users: int
    duration_s: float
    csv_prefix: Path
    items_per_request: int = 1
    locust_options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunStats:
    """The aggregated row of a Locust stats CSV (times in ms)."""

    requests: int
    failures: int
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float


@dataclass(frozen=True)
class RunRecord:
    spec: RunSpec
    stats: RunStats
    target_usage: ProcessUsage | None
    client_usage: ProcessUsage | None
    wall_s: float

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["spec"]["csv_prefix"] = str(self.spec.csv_prefix)
        return data

    @classmethod
    def from_json(cls, data: dict[str, object], base: Path | None = None) -> RunRecord:
        spec = dict(data["spec"])  # type: ignore[call-overload]
        prefix = Path(spec["csv_prefix"])
        if base is not None and not prefix.is_absolute():
            prefix = base / prefix
        spec["csv_prefix"] = prefix
        target = data.get("target_usage")
        client = data.get("client_usage")
        return cls(
            spec=RunSpec(**spec),
            stats=RunStats(**data["stats"]),  # type: ignore[arg-type]
            target_usage=ProcessUsage(**target) if isinstance(target, dict) else None,
            client_usage=ProcessUsage(**client) if isinstance(client, dict) else None,
            wall_s=float(data["wall_s"]),  # type: ignore[arg-type]
        )


def _num(value: str) -> float:
    try:
        return float(value)
    except ValueError:  # Locust writes "N/A" when no request finished
        return float("nan")


def read_stats_csv(path: Path) -> RunStats:
    """The "Aggregated" row of a Locust `_stats.csv`."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    row = next((r for r in rows if r.get("Name") == "Aggregated"), None)
    if row is None:
        raise ValueError(f"{path} has no Aggregated row")
    return RunStats(
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        requests_per_s=_num(row["Requests/s"]),
        p50_ms=_num(row["50%"]),
        p95_ms=_num(row["95%"]),
        p99_ms=_num(row["99%"]),
        mean_ms=_num(row["Average Response Time"]),
        max_ms=_num(row["Max Response Time"]),
    )


def locust_command(spec: RunSpec) -> list[str]:
    options = [x for k, v in spec.locust_options.items() for x in (f"--{k}", v)]
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        "--users",
        str(spec.users),
        "--spawn-rate",
        str(spec.users),
        "--run-time",
        f"{max(1, round(spec.duration_s))}s",
        "--stop-timeout",
        "0",
        "--csv",
        str(spec.csv_prefix),
        "--host",
        spec.host,
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "WARNING",
        *options,
        spec.user_class,
    ]


def run_locust(spec: RunSpec, *, target_pid: int | None = None) -> RunRecord:
    """Run Locust headless against `spec.host`; sample the target's process tree if given."""
    spec.csv_prefix.parent.mkdir(parents=True, exist_ok=True)
    log = spec.csv_prefix.with_suffix(".log")
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as fh, ExitStack() as samplers:
        proc = subprocess.Popen(locust_command(spec), stdout=fh, stderr=subprocess.STDOUT)
        client = samplers.enter_context(ProcessSampler(proc.pid))
        target = (
            samplers.enter_context(ProcessSampler(target_pid)) if target_pid is not None else None
        )
        try:
            proc.wait(timeout=spec.duration_s + 120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"locust did not stop in time; see {log}") from None
    wall = time.monotonic() - started
    stats_csv = Path(f"{spec.csv_prefix}{FINAL_STATS_SUFFIX}")
    if proc.returncode != 0 or not stats_csv.is_file():
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:])
        raise RuntimeError(f"locust exited with {proc.returncode}; last lines of {log}:\n{tail}")
    return RunRecord(
        spec=spec,
        stats=read_stats_csv(stats_csv),
        target_usage=target.usage() if target is not None else None,
        client_usage=client.usage(),
        wall_s=wall,
    )


def save_records(path: Path, records: list[RunRecord], **sections: object) -> None:
    """`runs.json`: one entry per finished run, plus the comparison's other `sections`
    (metadata, costs, notes), so a report can be rewritten from this file alone."""
    base = path.parent
    runs = []
    for record in records:
        data = record.to_json()
        spec = data["spec"]
        assert isinstance(spec, dict)
        prefix = Path(spec["csv_prefix"])
        if prefix.is_relative_to(base):
            prefix = prefix.relative_to(base)
        spec["csv_prefix"] = str(prefix)
        runs.append(data)
    payload = {**sections, "runs": runs}
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def load_records(path: Path) -> tuple[list[RunRecord], dict[str, Any]]:
    """The runs of a `runs.json` and its other sections."""
    data = json.loads(path.read_text(encoding="utf-8"))
    runs = [RunRecord.from_json(r, base=path.parent) for r in data.pop("runs")]
    return runs, data
