"""`python -m service --help` and the install metadata a new user meets first."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

from loadtest.processes import REPO_ROOT
from service.config import Settings


def test_help_lists_every_setting() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "service", "--help"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    for name in Settings.model_fields:
        assert f"MODERATION_{name.upper()}=" in out, name
    assert "MODERATION_OVERLOAD_STATUS=429  (429 | 503)" in out


def _requirement(name: str) -> Requirement:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return next(Requirement(r) for r in project["dependencies"] if Requirement(r).name == name)


def test_fastapi_is_bounded_to_versions_the_json_route_was_tested_on() -> None:
    # service/json_route.py reads FastAPI's Dependant internals; a release past the bound must
    # pass tests/service/test_json_route.py before the bound is raised.
    fastapi = _requirement("fastapi")
    assert any(spec.operator in ("<", "<=", "~=", "==") for spec in fastapi.specifier)
    assert fastapi.specifier.contains(version("fastapi"))


def test_the_console_script_runs_the_server() -> None:
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["moderation-service"] == "service.__main__:main"


def test_tracing_without_the_extra_says_what_to_install(tmp_path: Path) -> None:
    # A stand-in `opentelemetry.sdk` that cannot be imported: the install without the extra.
    fake = tmp_path / "opentelemetry" / "sdk"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('not installed')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "MODERATION_TRACING": "true"}
    out = subprocess.run(
        [sys.executable, "-m", "service"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2, out.stderr[-2000:]
    assert 'pip install ".[cpu,tracing]"' in out.stderr
