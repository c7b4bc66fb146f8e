"""docker-compose.yml: valid against the Compose Specification and consistent with the service."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from service.config import Settings
from tests.docker.stack import (
    COMPOSE_FILE,
    DOCKER_DIR,
    REPO_ROOT,
    SERVICE_DOCKERFILES,
    compose_environment,
    env_of,
    final_stage,
    interpolate_defaults,
    load_compose,
    read_dockerfile,
)

SETTINGS_PREFIX = str(Settings.model_config.get("env_prefix", ""))
SETTINGS_ENV_NAMES = {SETTINGS_PREFIX + name.upper() for name in Settings.model_fields}


def compose_schema() -> dict[str, Any]:
    # check-jsonschema (dev extra) ships the Compose Specification's schema, kept current by
    # its releases; no hand-made copy in this repository.
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads((vendor / "compose-spec.json").read_text(encoding="utf-8"))
    assert isinstance(schema, dict)
    return schema


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


def effective_service_env(compose: dict[str, Any], name: str) -> dict[str, str | None]:
    """The environment a service container starts with: image ENV, then compose's.

    None: passed through from the caller's shell, so unset when the shell has no such variable.
    """
    image_env: dict[str, str | None] = dict(
        env_of(final_stage(read_dockerfile(SERVICE_DOCKERFILES[name])))
    )
    return {**image_env, **compose_environment(compose["services"][name])}


def test_compose_file_validates_against_the_compose_specification(
    compose: dict[str, Any],
) -> None:
    validator = jsonschema.Draft202012Validator(compose_schema())
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(compose)
    ]
    assert not errors, "\n".join(errors)


def test_the_schema_rejects_a_misspelt_key() -> None:
    # Guards the check above: a schema that accepted anything would make it pass vacuously.
    broken = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    broken["services"]["service"]["healthchek"] = broken["services"]["service"].pop("healthcheck")
    assert list(jsonschema.Draft202012Validator(compose_schema()).iter_errors(broken))


def test_the_stack_and_its_profiles(compose: dict[str, Any]) -> None:
    services = compose["services"]
    default = {n for n, s in services.items() if not s.get("profiles")}
    assert default == {"service", "gateway", "redis", "prometheus", "grafana"}
    profiles = {n: s.get("profiles") for n, s in services.items() if s.get("profiles")}
    assert profiles == {
        "service-gpu": ["gpu"],
        "teacher": ["teacher"],
        "locust-master": ["loadtest"],
        "locust-worker": ["loadtest"],
    }


def test_files_the_compose_file_refers_to_exist(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            context = REPO_ROOT / build["context"]
            assert context.is_dir(), name
            assert (context / build["dockerfile"]).is_file(), name
        for volume in service.get("volumes", []):
            source = interpolate_defaults(volume.split(":", 1)[0])
            if source.startswith("./"):
                assert (REPO_ROOT / source).exists(), f"{name}: {volume}"


@pytest.mark.parametrize("name", sorted(SERVICE_DOCKERFILES))
def test_every_moderation_variable_is_a_real_setting(name: str, compose: dict[str, Any]) -> None:
    env = effective_service_env(compose, name)
    ours = {k for k in env if k.startswith(SETTINGS_PREFIX)}
    assert ours, "the service is configured through MODERATION_* variables"
    # Settings ignores unknown variables, so a misspelt one would silently do nothing.
    assert ours <= SETTINGS_ENV_NAMES, sorted(ours - SETTINGS_ENV_NAMES)


@pytest.mark.parametrize("name", sorted(SERVICE_DOCKERFILES))
def test_the_container_environment_parses_into_settings(
    name: str, compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in SETTINGS_ENV_NAMES:
        monkeypatch.delenv(key, raising=False)
    env = effective_service_env(compose, name)
    for key, value in env.items():
        if value is not None:
            monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.host == "0.0.0.0"  # reachable from the gateway and Prometheus
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.onnx_threads == 0  # sized from the container's CPU quota
    # The image copies model_artifacts/ to /app/: the same artifact `make serve` uses.
    assert settings.artifact_dir == Path("/app") / Settings.model_fields["artifact_dir"].default
    # The port the container listens on is the one it declares and the default of the service.
    assert settings.port == Settings.model_fields["port"].default
    assert compose["services"][name]["expose"] == [str(settings.port)]


@pytest.mark.parametrize("name", sorted(SERVICE_DOCKERFILES))
def test_service_healthcheck_runs_the_image_readiness_script(
    name: str, compose: dict[str, Any]
) -> None:
    check = compose["services"][name]["healthcheck"]
    assert check["test"] == ["CMD", "python", "/app/healthcheck.py"]
    copied = [
        i.args.split()
        for i in final_stage(read_dockerfile(SERVICE_DOCKERFILES[name]))
        if i.keyword == "COPY"
    ]
    assert ["docker/healthcheck.py", "/app/healthcheck.py"] in copied
    assert "/readyz" in (DOCKER_DIR / "healthcheck.py").read_text(encoding="utf-8")


def test_replicas_can_scale_behind_the_gateway(compose: dict[str, Any]) -> None:
    services = compose["services"]
    # `--scale service=N`: no fixed host port and no fixed container name on the replicas.
    for name in SERVICE_DOCKERFILES:
        assert "ports" not in services[name], name
        assert "container_name" not in services[name], name
    assert services["service-gpu"]["networks"]["default"]["aliases"] == ["service"]

    port = Settings.model_fields["port"].default
    gateway = services["gateway"]
    published = [interpolate_defaults(p) for p in gateway["ports"]]
    assert published == [f"{port}:{port}"]
    conf = (DOCKER_DIR / "gateway" / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(rf"^\s*listen {port};", conf, re.M)
    # Re-resolved through Docker's DNS, so replicas added by --scale join the rotation.
    assert re.search(rf"^\s*server service:{port} resolve;", conf, re.M)
    assert re.search(r"^\s*resolver 127\.0\.0\.11\b", conf, re.M)
    # The gateway must not refuse a body the service accepts.
    body_limit = re.search(r"^\s*client_max_body_size (\d+)m;", conf, re.M)
    assert body_limit
    assert int(body_limit.group(1)) * 2**20 >= Settings.model_fields["max_body_bytes"].default
    assert "/readyz" in " ".join(gateway["healthcheck"]["test"])


def test_all_replicas_share_one_bounded_lru_redis(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    args = redis["command"]
    assert args[0] == "redis-server"
    options = dict(zip(args[1::2], args[2::2], strict=True))
    assert options["--maxmemory-policy"] == "allkeys-lru"
    assert options["--save"] == ""  # a cache: no snapshots
    assert options["--appendonly"] == "no"
    assert options["--maxmemory"].endswith("mb")
    assert "memory" in redis["deploy"]["resources"]["limits"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    for name in SERVICE_DOCKERFILES:
        assert compose["services"][name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "ports" not in redis  # only the services talk to it


def test_gpu_services_reserve_a_gpu(compose: dict[str, Any]) -> None:
    for name in ("service-gpu", "teacher"):
        devices = compose["services"][name]["deploy"]["resources"]["reservations"]["devices"]
        assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]


def test_teacher_serves_llama_guard_with_a_token_from_the_environment(
    compose: dict[str, Any],
) -> None:
    teacher = compose["services"]["teacher"]
    assert teacher["image"].startswith("${VLLM_IMAGE:-vllm/vllm-openai:")
    args = [interpolate_defaults(a) for a in teacher["command"]]
    assert args[args.index("--model") + 1] == "meta-llama/Llama-Guard-3-8B"
    # The locustfile's LlamaGuard users ask for this `model` by default.
    assert args[args.index("--served-model-name") + 1] == "llama-guard"
    # Passed through from the caller's shell: no token in the file, no failure without one.
    assert compose_environment(teacher) == {"HF_TOKEN": None}


def test_loadtest_master_runs_the_project_locustfile(compose: dict[str, Any]) -> None:
    master = compose["services"]["locust-master"]
    assert master["ports"] == ["8089:8089"]
    assert "--master" in master["command"]
    host = master["command"][master["command"].index("--host") + 1]
    assert host == f"http://gateway:{Settings.model_fields['port'].default}"
    worker = compose["services"]["locust-worker"]
    assert worker["command"][:3] == ["--worker", "--master-host", "locust-master"]
    dockerfile = REPO_ROOT / master["build"]["context"] / master["build"]["dockerfile"]
    entry = [i for i in read_dockerfile(dockerfile) if i.keyword == "ENTRYPOINT"]
    assert entry and "/app/loadtest/locustfile.py" in entry[-1].args
    assert (REPO_ROOT / "loadtest" / "locustfile.py").is_file()
