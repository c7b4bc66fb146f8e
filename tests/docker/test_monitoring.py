"""Prometheus and Grafana configuration: they scrape, find and chart what the service exports."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from loadtest.processes import free_port
from service.config import Settings
from tests.docker.promql import Query, read_query
from tests.docker.stack import DOCKER_DIR, REPO_ROOT, interpolate_defaults, load_compose

PROMETHEUS_CONFIG = DOCKER_DIR / "prometheus" / "prometheus.yml"
GRAFANA_DIR = DOCKER_DIR / "grafana"
DASHBOARD = GRAFANA_DIR / "dashboards" / "moderation.json"
SERVICE_PORT = Settings.model_fields["port"].default

# What the issue asks the dashboard to show, as the series that carry it.
REQUIRED_ON_DASHBOARD = {
    "moderation_requests_total",  # request rate by status
    "moderation_request_latency_seconds_bucket",  # latency percentiles
    "moderation_queue_depth",
    "moderation_batch_size_bucket",
    "moderation_padding_ratio_bucket",
    "moderation_cache_hits_total",  # hit ratio
    "moderation_cache_misses_total",
    "moderation_cache_errors_total",  # Redis errors
    "moderation_model_info",
    "moderation_category_flags_total",  # flags per category (the category head)
}
# Series Prometheus adds itself, and the labels it attaches to every scraped series.
PROMETHEUS_SERIES = {"up"}
PROMETHEUS_LABELS = {"job", "instance"}
# The sample names each metric type exposes (the OpenMetrics/text suffixes).
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "untyped": ("",),
}


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def scrape_job() -> dict[str, Any]:
    (job,) = load_yaml(PROMETHEUS_CONFIG)["scrape_configs"]
    assert isinstance(job, dict)
    return job


def dashboard() -> dict[str, Any]:
    data = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def dashboard_queries() -> dict[str, Query]:
    """Every PromQL expression on the dashboard (panels and template variables), read."""
    board = dashboard()
    exprs = [t["expr"] for panel in board["panels"] for t in panel.get("targets", [])]
    queries = {expr: read_query(expr) for expr in exprs}
    for variable in board["templating"]["list"]:
        inner = variable["query"]["query"].strip()
        assert inner.startswith("label_values(") and inner.endswith(")"), inner
        selector, label = inner[len("label_values(") : -1].rsplit(",", 1)
        query = read_query(selector)
        for metric in query.metrics:
            query.matcher_labels.setdefault(metric, set()).add(label.strip())
        queries[inner] = query
    return queries


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Bind mounts of a compose service: container path -> host path."""
    pairs = (v.split(":")[:2] for v in service.get("volumes", []))
    return {target: interpolate_defaults(source) for source, target in pairs}


# ---- Prometheus ---------------------------------------------------------------------------------


def test_prometheus_discovers_every_service_replica_on_the_service_port() -> None:
    config = load_yaml(PROMETHEUS_CONFIG)
    assert config["global"]["scrape_interval"]
    job = scrape_job()
    assert job.get("metrics_path", "/metrics") == "/metrics"
    (sd,) = job["dns_sd_configs"]
    services = load_compose()["services"]
    assert sd["type"] == "A"
    assert sd["port"] == SERVICE_PORT
    for name in sd["names"]:
        aliases = {name for s in services.values() for name in _aliases(s)}
        assert name in services or name in aliases, name


def _aliases(service: dict[str, Any]) -> list[str]:
    networks = service.get("networks") or {}
    return [a for net in networks.values() for a in (net or {}).get("aliases", [])]


def test_compose_runs_prometheus_with_this_config() -> None:
    prometheus = load_compose()["services"]["prometheus"]
    flags = dict(arg.split("=", 1) for arg in prometheus["command"] if "=" in arg)
    config_path = flags["--config.file"]
    assert REPO_ROOT / mounts(prometheus)[config_path] == PROMETHEUS_CONFIG


# ---- Grafana ------------------------------------------------------------------------------------


def test_grafana_datasource_points_at_the_compose_prometheus() -> None:
    (source,) = load_yaml(GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml")[
        "datasources"
    ]
    assert source["type"] == "prometheus"
    url = urllib.parse.urlsplit(source["url"])
    compose = load_compose()
    assert url.hostname in compose["services"]
    assert f"{url.port}:{url.port}" in compose["services"][url.hostname]["ports"]
    assert {p["datasource"]["uid"] for p in dashboard()["panels"]} == {source["uid"]}


def test_grafana_loads_the_dashboard_from_where_compose_mounts_it() -> None:
    grafana = load_compose()["services"]["grafana"]
    volumes = mounts(grafana)
    provisioning = volumes["/etc/grafana/provisioning"]
    assert REPO_ROOT / provisioning == GRAFANA_DIR / "provisioning"
    (provider,) = load_yaml(GRAFANA_DIR / "provisioning" / "dashboards" / "moderation.yml")[
        "providers"
    ]
    dashboards_in_container = provider["options"]["path"]
    assert REPO_ROOT / volumes[dashboards_in_container] == DASHBOARD.parent
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{dashboards_in_container}/{DASHBOARD.name}"


def test_dashboard_shows_what_the_issue_asks_for() -> None:
    board = dashboard()
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    shown = set().union(*(q.metrics for q in dashboard_queries().values()))
    assert shown >= REQUIRED_ON_DASHBOARD, sorted(REQUIRED_ON_DASHBOARD - shown)
    job = scrape_job()["job_name"]
    for expr, query in dashboard_queries().items():
        assert query.metrics, f"{expr}: selects no series"
        if "up" in query.metrics:
            assert f'up{{job="{job}"}}' in expr, expr


# ---- against the running service ---------------------------------------------------------------


def exported_series(exposition: str) -> dict[str, set[str]]:
    """Sample name -> label names, for every sample name the exposition can produce.

    Metric families are listed (HELP/TYPE) even before their first sample, so a family whose
    label sets have not been seen yet still contributes its names, with unknown labels (empty).
    """
    series: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(exposition):
        for suffix in SUFFIXES[family.type]:
            series.setdefault(family.name + suffix, set())
        for sample in family.samples:
            series.setdefault(sample.name, set()).update(sample.labels)
    return series


@pytest.fixture(scope="module")
def exported(start_service: Any, tiny_category_artifact: Path) -> Iterator[dict[str, set[str]]]:
    """The series a real service exports after some traffic, scraped like Prometheus does.

    The artifact has a category head, so the per-category series carry their labels.

    Its Redis URL points at a port where nothing listens, so the cache-error series (what the
    dashboard's Redis panel shows) carries samples with their labels too.
    """
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    service = start_service(tiny_category_artifact, env={"MODERATION_REDIS_URL": dead_redis})
    try:
        with httpx.Client(base_url=service.url, timeout=30) as client:
            for prompt in ("hello there", "hello there", "how do I bake bread?"):
                assert client.post("/moderate", json={"prompt": prompt}).status_code == 200
            batch = {"items": [{"prompt": "a"}, {"prompt": "b", "response": "c"}]}
            assert client.post("/moderate/batch", json=batch).status_code == 200
            assert client.post("/moderate", json={"prompt": ""}).status_code == 422
            metrics = client.get(scrape_job().get("metrics_path", "/metrics"))
        assert metrics.status_code == 200
        yield exported_series(metrics.text)
    finally:
        service.stop()


def test_the_scrape_target_serves_the_service_metrics(exported: dict[str, set[str]]) -> None:
    # Guards the checks below: the traffic above must have produced labelled samples.
    assert {"endpoint", "status"} <= exported["moderation_requests_total"]
    assert "le" in exported["moderation_request_latency_seconds_bucket"]
    assert "backend" in exported["moderation_cache_errors_total"]
    info = {"name", "version", "threshold", "response_threshold"}
    assert info <= exported["moderation_model_info"]
    assert {"category", "mode"} <= exported["moderation_category_flags_total"]


def test_dashboard_charts_only_series_the_service_exports(
    exported: dict[str, set[str]],
) -> None:
    for expr, query in dashboard_queries().items():
        unknown = query.metrics - exported.keys() - PROMETHEUS_SERIES
        assert not unknown, f"{expr}: {sorted(unknown)} not exported"


def test_dashboard_labels_exist_on_the_series(exported: dict[str, set[str]]) -> None:
    for expr, query in dashboard_queries().items():
        for metric, labels in query.matcher_labels.items():
            if not exported.get(metric):
                continue  # `up`, or no sample yet to read label names from
            missing = labels - exported[metric] - PROMETHEUS_LABELS
            assert not missing, f"{expr}: {metric} has no label {sorted(missing)}"
        known = set().union(*(exported.get(m, set()) for m in query.metrics))
        if known:
            missing = query.grouping_labels - known - PROMETHEUS_LABELS
            assert not missing, f"{expr}: no label {sorted(missing)}"
