"""The comparison report: a Markdown table, PNG charts and the ratios against the floors.

Reads the records of a comparison (`runs.json` + Locust CSVs), so a report can be rewritten
from recorded runs: `python -m loadtest report RESULTS_DIR`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtest.costs import CostRow
from loadtest.runner import RunRecord

# Target keys the floors refer to (see loadtest/targets.py).
SERVICE, SERVICE_CACHED, TEACHER, BASELINE, INFINITY = (
    "service-nocache",
    "service",
    "teacher",
    "baseline",
    "infinity",
)
TEACHER_THROUGHPUT_FLOOR = 50.0


@dataclass(frozen=True)
class Row:
    """One run, in per-item units: a successful batch request of 16 prompts counts 16 items."""

    key: str
    label: str
    users: int
    requests: int
    items_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    error_rate: float
    target_cpu: float | None
    target_rss_mb: float | None
    client_cpu: float | None

    @classmethod
    def of(cls, record: RunRecord) -> Row:
        spec, stats = record.spec, record.stats
        ok_share = 1 - stats.failures / stats.requests if stats.requests else 0.0
        return cls(
            key=spec.target,
            label=record_label(record),
            users=spec.users,
            requests=stats.requests,
            # Only answered requests count: a 503 scored nothing.
            items_per_s=stats.requests_per_s * ok_share * spec.items_per_request,
            p50_ms=stats.p50_ms,
            p95_ms=stats.p95_ms,
            p99_ms=stats.p99_ms,
            error_rate=stats.failures / stats.requests if stats.requests else float("nan"),
            target_cpu=record.target_usage.cpu_mean_percent if record.target_usage else None,
            target_rss_mb=record.target_usage.rss_peak_mb if record.target_usage else None,
            client_cpu=record.client_usage.cpu_mean_percent if record.client_usage else None,
        )


LABELS = {
    SERVICE_CACHED: "service (cache on)",
    SERVICE: "service (cache off)",
    "service-batch": "service /moderate/batch (cache off)",
    TEACHER: "teacher endpoint (Llama Guard protocol)",
    BASELINE: "plain FastAPI + transformers",
    INFINITY: "infinity-emb (optimum/ONNX)",
}


def record_label(record: RunRecord) -> str:
    return LABELS.get(record.spec.target, record.spec.target)


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def _percent(share: float) -> str:
    return "n/a" if math.isnan(share) else f"{100 * share:.2f}%"


def _by_key(rows: Iterable[Row]) -> dict[tuple[str, int], Row]:
    return {(r.key, r.users): r for r in rows}


def results_table(rows: Sequence[Row]) -> str:
    lines = [
        "| target | users | items/s | p50 ms | p95 ms | p99 ms | errors | requests "
        "| target CPU % | target RSS MB | load-generator CPU % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.label} | {r.users} | {_fmt(r.items_per_s)} | {_fmt(r.p50_ms, 0)} "
            f"| {_fmt(r.p95_ms, 0)} | {_fmt(r.p99_ms, 0)} | {_percent(r.error_rate)} "
            f"| {r.requests} | {_fmt(r.target_cpu, 0)} | {_fmt(r.target_rss_mb, 0)} "
            f"| {_fmt(r.client_cpu, 0)} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class FloorCheck:
    users: int
    description: str
    passed: bool | None  # None: not measurable (a side finished no request in the run)
    detail: str


def _unmeasured(users: int, description: str, *rows: Row) -> FloorCheck | None:
    empty = [r.label for r in rows if r.requests == 0 or math.isnan(r.p50_ms)]
    if not empty:
        return None
    return FloorCheck(users, description, None, f"{', '.join(empty)}: no request finished")


def floor_checks(rows: Sequence[Row], service_key: str = SERVICE) -> list[FloorCheck]:
    """The issue's floors at each concurrency level where both sides were measured."""
    table = _by_key(rows)
    checks = []
    for users in sorted({r.users for r in rows}):
        svc = table.get((service_key, users))
        if svc is None:
            continue
        teacher = table.get((TEACHER, users))
        if teacher is not None and (
            skip := _unmeasured(users, "compared with the teacher", svc, teacher)
        ):
            checks.append(skip)
        elif teacher is not None:
            ratio = svc.items_per_s / teacher.items_per_s
            checks.append(
                FloorCheck(
                    users,
                    f"throughput >= {TEACHER_THROUGHPUT_FLOOR:.0f}x teacher",
                    ratio >= TEACHER_THROUGHPUT_FLOOR,
                    f"{ratio:,.0f}x ({_fmt(svc.items_per_s)} vs {_fmt(teacher.items_per_s, 2)}/s)",
                )
            )
            checks.append(
                FloorCheck(
                    users,
                    "p99 below teacher p50",
                    svc.p99_ms < teacher.p50_ms,
                    f"{_fmt(svc.p99_ms, 0)} ms vs {_fmt(teacher.p50_ms, 0)} ms",
                )
            )
        for peer_key in (BASELINE, INFINITY):
            peer = table.get((peer_key, users))
            if peer is None:
                continue
            description = f"ahead of {LABELS[peer_key]} at equal or better p99"
            if skip := _unmeasured(users, description, svc, peer):
                checks.append(skip)
                continue
            ratio = svc.items_per_s / peer.items_per_s
            checks.append(
                FloorCheck(
                    users,
                    description,
                    ratio > 1.0 and svc.p99_ms <= peer.p99_ms,
                    f"{ratio:.2f}x throughput; p99 {_fmt(svc.p99_ms, 0)} vs "
                    f"{_fmt(peer.p99_ms, 0)} ms",
                )
            )
    return checks


def _verdict(passed: bool | None) -> str:
    return "n/a" if passed is None else "yes" if passed else "**no**"


def floors_table(checks: Sequence[FloorCheck]) -> str:
    lines = ["| users | floor | measured | met |", "|---:|---|---|---|"]
    for c in checks:
        lines.append(f"| {c.users} | {c.description} | {c.detail} | {_verdict(c.passed)} |")
    return "\n".join(lines)


def cost_markdown(rows: Sequence[CostRow]) -> str:
    lines = [
        "| model | parameters | tokens per prompt | GFLOPs per prompt |",
        "|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.model} | {r.params / 1e6:,.1f} M | {r.tokens_per_prompt:,.0f} "
            f"| {r.gflops_per_prompt:,.2f} |"
        )
    return "\n".join(lines)


def plot_charts(rows: Sequence[Row], out_dir: Path) -> list[Path]:
    """`throughput.png` and `latency.png` against concurrency, one line per target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(dict.fromkeys(r.key for r in rows))
    series = {k: sorted((r for r in rows if r.key == k), key=lambda r: r.users) for k in keys}
    paths = []

    levels = sorted({r.users for r in rows})

    def users_axis(ax: Any) -> None:
        ax.set_xscale("log")
        ax.set_xticks(levels, [str(u) for u in levels])
        ax.minorticks_off()
        ax.set_xlabel("concurrent users")

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for points in series.values():
        done = [p for p in points if p.requests > 0]  # a run with no finished request: no point
        ax.plot(
            [p.users for p in done],
            [p.items_per_s for p in done],
            marker="o",
            label=points[0].label,
        )
    users_axis(ax)
    ax.set(yscale="log", ylabel="prompts scored / s")
    ax.set_title("Throughput against concurrency")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(out_dir / "throughput.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for ax, (attr, title) in zip(axes, (("p50_ms", "p50"), ("p99_ms", "p99")), strict=True):
        for key, points in series.items():
            ok = [p for p in points if not math.isnan(getattr(p, attr))]
            ax.plot(
                [p.users for p in ok],
                [getattr(p, attr) for p in ok],
                marker="o",
                label=points[0].label if ok else key,
            )
        users_axis(ax)
        ax.set(yscale="log", title=f"{title} latency (per request)")
        ax.grid(True, which="major", axis="y", alpha=0.3)
        ax.grid(True, which="major", axis="x", alpha=0.3)
    axes[0].set_ylabel("latency (ms)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    paths.append(out_dir / "latency.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths


def write_report(
    records: Sequence[RunRecord],
    out_dir: Path,
    *,
    meta: dict[str, object],
    costs: Sequence[CostRow] = (),
    notes: Sequence[str] = (),
) -> Path:
    """Write `report.md`, `throughput.png` and `latency.png` into `out_dir`; return the .md."""
    out_dir.mkdir(parents=True, exist_ok=True)
    order = {key: i for i, key in enumerate(LABELS)}
    rows = sorted(
        (Row.of(r) for r in records), key=lambda r: (order.get(r.key, len(order)), r.key, r.users)
    )
    charts = plot_charts(rows, out_dir) if rows else []
    checks = floor_checks(rows)
    cached_checks = floor_checks(rows, SERVICE_CACHED)
    title = str(meta.get("title", "Load test: moderation service against teacher and peers"))
    parts = [f"# {title}", ""]
    if meta:
        parts += ["## How it was run", ""]
        parts += [f"- **{k}**: {v}" for k, v in meta.items() if k != "title"]
        parts.append("")
    parts += [
        "## Results",
        "",
        "Closed loop: each user sends its next request as soon as the previous one returns. "
        "items/s counts the prompts scored by successful requests (a batch request of N "
        "prompts counts N; a failed request counts nothing). Latencies are per request, of the "
        "requests that finished within the run. CPU: 100% = one core.",
        "",
        results_table(rows),
        "",
    ]
    parts += [f"![{p.stem}]({p.name})" for p in charts]
    parts += ["", "## Floors (service with the cache off)", ""]
    parts.append(floors_table(checks) if checks else "No level had both the service and a peer.")
    if cached_checks:
        parts += ["", "### Same floors, cache on", "", floors_table(cached_checks)]
    if costs:
        parts += ["", "## Model sizes and cost per prompt", "", cost_markdown(costs)]
    if notes:
        parts += ["", "## Notes", "", *[f"- {n}" for n in notes]]
    report = out_dir / "report.md"
    report.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return report
