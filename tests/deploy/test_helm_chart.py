"""The Helm chart (deploy/helm/harmaug-moderation), rendered by a real helm and checked offline:
every manifest against the Kubernetes schemas (`kubernetes-validate`), the settings, ports and
probes against the service's own, and the alert and autoscaler queries against the series a
real service exports."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest

from loadtest.processes import REPO_ROOT, free_port
from service.config import Settings
from service.health.router import router as health_router
from tests.deploy.helm import CHART, HelmNotFoundError, RenderError, find_helm, render
from tests.docker.promql import read_query
from tests.docker.test_monitoring import exported_series

# Oldest Kubernetes the chart supports (Chart.yaml kubeVersion: the preStop `sleep` action is
# 1.30's) and the newest whose schemas kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
# Custom resources: no schema in kubernetes-validate; checked field by field below.
CUSTOM_KINDS = {
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}
# Labels a ServiceMonitor scrape adds to every series.
SCRAPE_LABELS = {"job", "namespace", "service", "pod", "instance", "container", "endpoint", "le"}

EVERYTHING_ON = {
    "keda": {"enabled": False},
    "serviceMonitor": {"enabled": True},
    "prometheusRule": {"enabled": True},
    "grafanaDashboard": {"enabled": True},
}
VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "monitoring and HPA": EVERYTHING_ON,
    "KEDA on queue depth": {**EVERYTHING_ON, "keda": {"enabled": True}},
    "KEDA on request rate": {"keda": {"enabled": True, "metric": "request_rate"}},
    "external Redis, keys": {
        "redis": {"enabled": False, "url": "redis://:pw@cache.example:6379/0"},
        "apiKeys": ["k1", "k2"],
        "autoscaling": {"enabled": False},
    },
    "existing secret, no Redis": {
        "redis": {"enabled": False},
        "existingSecret": "moderation-keys",
        "podDisruptionBudget": {"enabled": False},
    },
    "tracing, extra env": {
        "settings": {"tracing": True, "shadow_mode": True, "overload_status": 503},
        "extraEnv": [{"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://otel:4318"}],
    },
}


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        return find_helm(tmp_path_factory.mktemp("helm"))
    except HelmNotFoundError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module", params=list(VALUE_SETS), ids=list(VALUE_SETS))
def manifests(request: pytest.FixtureRequest, helm: Path) -> list[dict[str, Any]]:
    return render(helm, VALUE_SETS[request.param])


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict[str, Any]], kind: str, component: str | None = None) -> dict[str, Any]:
    found = [
        d
        for d in by_kind(docs, kind)
        if component is None
        or d["metadata"]["labels"].get("app.kubernetes.io/component") == component
    ]
    assert len(found) == 1, f"{len(found)} {kind} ({component})"
    return found[0]


def server_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = one(docs, "Deployment", "server")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def environment(docs: list[dict[str, Any]]) -> dict[str, str]:
    """MODERATION_* as the server container sees them (ConfigMap, Secret, then `env`)."""
    container = server_container(docs)
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            config = next(d for d in by_kind(docs, "ConfigMap") if d["metadata"]["name"] == name)
            env |= config["data"]
        else:
            name = source["secretRef"]["name"]
            secret = [d for d in by_kind(docs, "Secret") if d["metadata"]["name"] == name]
            env |= secret[0]["stringData"] if secret else {}
    env |= {item["name"]: item["value"] for item in container.get("env", [])}
    return env


def test_the_chart_lints(helm: Path) -> None:
    out = subprocess.run(
        [str(helm), "lint", "--strict", str(CHART)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_validates_against_the_kubernetes_schemas(
    manifests: list[dict[str, Any]], version: str
) -> None:
    for doc in manifests:
        kind = (doc["apiVersion"], doc["kind"])
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            assert kind in CUSTOM_KINDS, f"no schema for {kind}"
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{kind} {doc['metadata']['name']}: {exc.message} at {list(exc.path)}")


def test_every_setting_is_a_service_setting_with_a_valid_value(
    manifests: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = environment(manifests)
    for name in env:
        if name.startswith("MODERATION_"):
            assert name.removeprefix("MODERATION_").lower() in Settings.model_fields, name
        else:
            assert name.startswith("OTEL_"), name  # only from extraEnv
    for name in list(Settings.model_fields):
        monkeypatch.delenv(f"MODERATION_{name.upper()}", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()  # raises on a value the service would refuse at start
    assert settings.host == "0.0.0.0"
    assert not settings.auth_protect_ops  # the probes carry no API key


def test_ports_and_probes_agree_with_the_service(manifests: list[dict[str, Any]]) -> None:
    settings_port = int(environment(manifests)["MODERATION_PORT"])
    container = server_container(manifests)
    (port,) = container["ports"]
    assert port["containerPort"] == settings_port and port["name"] == "http"
    service = one(manifests, "Service", "server")
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
    routes = {getattr(r, "path", None) for r in health_router.routes}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["startupProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert {"/readyz", "/healthz"} <= routes
    selector = service["spec"]["selector"]
    pod_labels = one(manifests, "Deployment", "server")["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= pod_labels.items()


def test_pods_run_as_the_images_user_with_cpu_limits(manifests: list[dict[str, Any]]) -> None:
    pod = one(manifests, "Deployment", "server")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 10001  # docker/Dockerfile's USER
    limits = server_container(manifests)["resources"]["limits"]
    assert "cpu" in limits and "memory" in limits


def test_termination_outlasts_the_drain_and_the_longest_request(
    manifests: list[dict[str, Any]],
) -> None:
    pod = one(manifests, "Deployment", "server")["spec"]["template"]["spec"]
    env = environment(manifests)
    request_s = float(env["MODERATION_REQUEST_TIMEOUT_MS"]) / 1000
    shutdown_s = float(env["MODERATION_SHUTDOWN_TIMEOUT_SECONDS"])
    drain_s = float(env["MODERATION_SHUTDOWN_DRAIN_SECONDS"])
    sleep_s = server_container(manifests)["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert drain_s + request_s <= shutdown_s  # a request that starts as the drain ends, ends
    assert pod["terminationGracePeriodSeconds"] > sleep_s + shutdown_s


@pytest.mark.parametrize(
    ("cpu", "workers"), [("2", 2), ("4", 4), ("2.5", 2), ("1500m", 1), ("500m", 1), (3, 3)]
)
def test_engine_workers_follow_the_cpu_limit(helm: Path, cpu: Any, workers: int) -> None:
    docs = render(helm, {"resources": {"limits": {"cpu": cpu}, "requests": {"cpu": cpu}}})
    env = environment(docs)
    assert env["MODERATION_ENGINE_WORKERS"] == str(workers)
    assert env["MODERATION_ONNX_THREADS"] == "1"


def test_one_autoscaler_owns_the_replicas(manifests: list[dict[str, Any]]) -> None:
    hpas = by_kind(manifests, "HorizontalPodAutoscaler")
    scaled = by_kind(manifests, "ScaledObject")
    assert len(hpas) + len(scaled) <= 1  # KEDA makes its own HPA
    deployment = one(manifests, "Deployment", "server")
    assert ("replicas" in deployment["spec"]) == (not hpas and not scaled)
    for target in [h["spec"]["scaleTargetRef"] for h in hpas + scaled]:
        assert target["name"] == deployment["metadata"]["name"]


def test_redis_is_in_chart_external_or_absent(helm: Path) -> None:
    inside = render(helm)
    assert environment(inside)["MODERATION_REDIS_URL"].startswith("redis://rel-")
    assert one(inside, "Deployment", "cache") and one(inside, "Service", "cache")
    external = render(helm, VALUE_SETS["external Redis, keys"])
    env = environment(external)
    assert env["MODERATION_REDIS_URL"] == "redis://:pw@cache.example:6379/0"  # in the Secret
    assert env["MODERATION_API_KEYS"] == "k1,k2"
    assert not [d for d in external if d["metadata"]["name"].endswith("-redis")]
    none = render(helm, VALUE_SETS["existing secret, no Redis"])
    assert not by_kind(none, "Secret") and "MODERATION_REDIS_URL" not in environment(none)
    refs = server_container(none)["envFrom"]
    assert {"secretRef": {"name": "moderation-keys"}} in refs


def test_probes_with_protected_ops_are_refused(helm: Path) -> None:
    with pytest.raises(RenderError, match="auth_protect_ops"):
        render(helm, {"settings": {"auth_protect_ops": True}})


def test_custom_resources_are_wired_to_this_release(helm: Path) -> None:
    docs = render(helm, {**EVERYTHING_ON, "keda": {"enabled": True}})
    service = one(docs, "Service", "server")
    monitor = one(docs, "ServiceMonitor")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["endpoints"][0]["port"] == "http"
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert monitor["spec"]["namespaceSelector"]["matchNames"] == ["moderation"]
    rules = one(docs, "PrometheusRule")["spec"]["groups"][0]["rules"]
    assert {r["alert"] for r in rules} >= {
        "ModerationHighErrorRate", "ModerationHighP99Latency", "ModerationRedisErrors",
        "ModerationQueueSaturated",
    }  # fmt: skip
    for rule in rules:
        assert f'job="{service["metadata"]["name"]}"' in rule["expr"]
        assert rule["labels"]["severity"] in ("warning", "critical")
    (trigger,) = one(docs, "ScaledObject")["spec"]["triggers"]
    assert trigger["type"] == "prometheus" and trigger["metricType"] == "AverageValue"
    assert float(trigger["metadata"]["threshold"]) > 0


def test_the_dashboard_configmap_is_the_compose_dashboard(helm: Path) -> None:
    docs = render(helm, EVERYTHING_ON)
    (dashboard,) = [d for d in by_kind(docs, "ConfigMap") if "moderation.json" in d["data"]]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    compose = REPO_ROOT / "docker" / "grafana" / "dashboards" / "moderation.json"
    assert json.loads(dashboard["data"]["moderation.json"]) == json.loads(compose.read_text())


@pytest.fixture(scope="module")
def exported(start_service: Any, tiny_artifact: Path) -> Iterator[dict[str, set[str]]]:
    """Series a real service exports after traffic (Redis dead, so cache errors have labels)."""
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    service = start_service(tiny_artifact, env={"MODERATION_REDIS_URL": dead_redis})
    try:
        with httpx.Client(base_url=service.url, timeout=30) as client:
            for prompt in ("hello there", "how do I bake bread?"):
                assert client.post("/moderate", json={"prompt": prompt}).status_code == 200
            metrics = client.get("/metrics")
        yield exported_series(metrics.text)
    finally:
        service.stop()


def test_alert_and_autoscaler_queries_use_exported_series(
    helm: Path, exported: dict[str, set[str]]
) -> None:
    queries = []
    for metric in ("queue_depth", "request_rate"):
        docs = render(helm, {**EVERYTHING_ON, "keda": {"enabled": True, "metric": metric}})
        queries.append(one(docs, "ScaledObject")["spec"]["triggers"][0]["metadata"]["query"])
        queries += [r["expr"] for r in one(docs, "PrometheusRule")["spec"]["groups"][0]["rules"]]
    for expr in queries:
        query = read_query(expr)
        assert query.metrics, expr
        assert not query.metrics - exported.keys(), f"{expr}: {query.metrics - exported.keys()}"
        for metric, labels in query.matcher_labels.items():
            missing = labels - exported[metric] - SCRAPE_LABELS
            assert not missing, f"{expr}: {metric} has no label {sorted(missing)}"
