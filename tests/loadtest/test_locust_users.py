"""The Locust user classes, run headless for a few seconds against a real service process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from loadtest import targets
from loadtest.prompts import save_prompts, synthetic_prompts
from loadtest.runner import RunSpec, run_locust


@pytest.fixture(scope="module")
def service(tiny_artifact: Path, start_service: Callable[..., Any]) -> Iterator[str]:
    server = start_service(tiny_artifact)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def prompts_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prompts") / "prompts.json"
    save_prompts(path, synthetic_prompts(200), "synthetic")
    return path


def _requests_served(url: str) -> float:
    """Sum of the service's request counters in /metrics (whatever their labels)."""
    text = httpx.get(url + "/metrics", timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#") or "_total" not in line or "request" not in line:
            continue
        if "/moderate" in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.parametrize(
    ("user_class", "items", "options"),
    [("ModerateUser", 1, {}), ("ModerateBatchUser", 4, {"batch-size": "4"})],
)
def test_user_class_loads_the_service(
    service: str,
    prompts_file: Path,
    tmp_path: Path,
    user_class: str,
    items: int,
    options: dict[str, str],
) -> None:
    before = _requests_served(service)
    record = run_locust(
        RunSpec(
            target="service",
            user_class=user_class,
            host=service,
            users=4,
            duration_s=3,
            csv_prefix=tmp_path / "run",
            items_per_request=items,
            locust_options={"prompts-file": str(prompts_file), "repeat-share": "0.5", **options},
        )
    )
    stats = record.stats
    assert stats.requests > 10
    assert stats.failures == 0, (tmp_path / "run_failures.csv").read_text()
    assert 0 < stats.p50_ms <= stats.p99_ms
    assert (tmp_path / "run_stats.csv").is_file()
    assert record.client_usage is not None and record.client_usage.samples > 0
    # The load really reached the server: its own request counter moved by as much.
    assert _requests_served(service) - before >= stats.requests


def test_failures_are_counted_not_hidden(service: str, prompts_file: Path, tmp_path: Path) -> None:
    # /moderate/batch answers 4xx to an empty items list: every request must count as a failure.
    record = run_locust(
        RunSpec(
            target="service",
            user_class="ModerateBatchUser",
            host=service,
            users=2,
            duration_s=2,
            csv_prefix=tmp_path / "bad",
            locust_options={"prompts-file": str(prompts_file), "batch-size": "0"},
        )
    )
    assert record.stats.requests > 0
    assert record.stats.failures == record.stats.requests


def test_target_process_is_sampled(tiny_artifact: Path, prompts_file: Path, tmp_path: Path) -> None:
    # Started the way `compare` starts it (loadtest.targets), whose pid is sampled.
    server = targets.start_service(tiny_artifact, cache=False, log=tmp_path / "svc.log")
    try:
        record = run_locust(
            RunSpec(
                target="service-nocache",
                user_class="ModerateUser",
                host=server.url,
                users=2,
                duration_s=3,
                csv_prefix=tmp_path / "run",
                locust_options={"prompts-file": str(prompts_file)},
            ),
            target_pid=server.pid,
        )
    finally:
        server.stop()
    usage = record.target_usage
    assert usage is not None and usage.samples >= 3
    assert usage.cpu_mean_percent > 5  # the server did the scoring
    assert usage.rss_peak_mb > 20
    assert server.process is not None and server.process.poll() is not None  # stopped
