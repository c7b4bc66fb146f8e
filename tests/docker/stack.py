"""Readers for the Docker stack's files, shared by the tests in this package.

There is no Docker engine on the machines that run the tests, so the stack is checked by reading
its files the way Docker and Compose would: Dockerfile instructions with their line
continuations, and the compose file with `${VAR:-default}` interpolation at its defaults.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO_ROOT / "docker"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
SERVICE_DOCKERFILES = {
    "service": DOCKER_DIR / "Dockerfile",
    "service-gpu": DOCKER_DIR / "Dockerfile.gpu",
}

_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?]([^}]*))?\}")


def interpolate_defaults(value: str) -> str:
    """What Compose makes of `value` when none of the variables it names is set."""
    return _INTERPOLATION.sub(lambda m: m.group(2) or "", value).replace("$$", "$")


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def compose_environment(service: dict[str, Any]) -> dict[str, str | None]:
    """A compose service's `environment` (map or list form), interpolated at defaults.

    None marks a pass-through (`NAME:` or `- NAME`): the caller's value if set, else unset.
    """
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {str(k): None if v is None else interpolate_defaults(str(v)) for k, v in env.items()}


@dataclass(frozen=True)
class Instruction:
    stage: int  # index of the FROM it belongs to (0-based)
    keyword: str  # upper case: FROM, RUN, ENV, ...
    args: str


def read_dockerfile(path: Path) -> list[Instruction]:
    """Instructions in order, continuation lines joined and comments dropped."""
    instructions: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(stage, keyword, args.strip()))
    assert not pending, f"{path}: dangling line continuation"
    return instructions


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    last = max(i.stage for i in instructions)
    return [i for i in instructions if i.stage == last]


def env_of(instructions: list[Instruction]) -> dict[str, str]:
    """`ENV key=value ...` pairs of the given instructions, later ones winning."""
    env: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword == "ENV":
            for pair in shlex.split(ins.args):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def exec_form(args: str) -> list[str]:
    """The JSON array of a CMD/ENTRYPOINT/HEALTHCHECK CMD in exec form."""
    start = args.index("[")
    parsed = yaml.safe_load(args[start:])
    assert isinstance(parsed, list), args
    return [str(x) for x in parsed]
