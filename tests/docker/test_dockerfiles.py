"""The Dockerfiles: serving dependencies only, non-root, a readiness HEALTHCHECK, a lean context."""

from __future__ import annotations

import ast
import re
import shlex
import sys
import tomllib
from fnmatch import fnmatch
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.docker.stack import (
    DOCKER_DIR,
    REPO_ROOT,
    SERVICE_DOCKERFILES,
    Instruction,
    exec_form,
    final_stage,
    read_dockerfile,
)

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# What must never reach a serving image: the training stack and its model libraries.
TRAINING_ONLY = {"torch", "transformers", "safetensors", "onnx", "onnxscript", "scikit-learn"}
EXPECTED_EXTRA = {"service": "cpu", "service-gpu": "gpu"}


def requirement_name(spec: str) -> str:
    return re.split(r"[\s\[<>=!~;@]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pip_installs(instructions: list[Instruction]) -> list[list[str]]:
    """The package arguments of every `pip install` in RUN lines (options dropped)."""
    installs = []
    for ins in instructions:
        if ins.keyword != "RUN":
            continue
        for command in re.split(r"&&|;", ins.args):
            words = shlex.split(command)
            if "pip" in words and "install" in words:
                rest = words[words.index("install") + 1 :]
                installs.append([w for w in rest if not w.startswith("-")])
    return installs


def expand(spec: str) -> set[str]:
    """Distribution names a local `.[extras]` install pulls in, from pyproject.toml."""
    match = re.fullmatch(r"\.(?:\[([\w,-]+)\])?", spec)
    assert match, f"serving images install the project itself, not {spec!r}"
    project = PYPROJECT["project"]
    names = {requirement_name(r) for r in project["dependencies"]}
    for extra in filter(None, (match.group(1) or "").split(",")):
        names |= {requirement_name(r) for r in project["optional-dependencies"][extra]}
    return names


@pytest.mark.parametrize("name", sorted(SERVICE_DOCKERFILES))
def test_service_images_install_only_the_serving_extra(name: str) -> None:
    installs = pip_installs(read_dockerfile(SERVICE_DOCKERFILES[name]))
    assert installs == [[f".[{EXPECTED_EXTRA[name]}]"]]
    names = expand(installs[0][0])
    assert not names & TRAINING_ONLY, sorted(names & TRAINING_ONLY)
    # Both builds provide the same `onnxruntime` module: exactly one of them.
    runtime, other = ("onnxruntime-gpu", "onnxruntime")[:: 1 if name == "service-gpu" else -1]
    assert runtime in names
    assert other not in names


def test_the_extra_check_catches_training_packages() -> None:
    # Guards the check above against passing vacuously.
    assert expand(".[train]") & TRAINING_ONLY
    with pytest.raises(AssertionError):
        expand("torch==2.13.0")


@pytest.mark.parametrize("name", sorted(SERVICE_DOCKERFILES))
def test_only_serving_code_is_copied_into_service_images(name: str) -> None:
    sources = set()
    for ins in read_dockerfile(SERVICE_DOCKERFILES[name]):
        if ins.keyword == "COPY" and not ins.args.startswith("--from"):
            sources |= set(ins.args.split()[:-1])
    assert sources == {
        "pyproject.toml",
        "README.md",
        "contract/",
        "service/",
        "model_artifacts/",
        "docker/healthcheck.py",
    }
    # model_artifacts/ holds the trained student once `make artifact` has run; the rest is code.
    for source in sources - {"model_artifacts/"}:
        assert (REPO_ROOT / source).exists(), source


@pytest.mark.parametrize("name", sorted(SERVICE_DOCKERFILES))
def test_runtime_stage_is_non_root_with_a_readiness_healthcheck(name: str) -> None:
    instructions = read_dockerfile(SERVICE_DOCKERFILES[name])
    assert max(i.stage for i in instructions) >= 1, "multi-stage: build tools stay behind"
    runtime = final_stage(instructions)
    users = [i.args for i in runtime if i.keyword == "USER"]
    assert users, "runs as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, users[-1]  # numeric: checkable without /etc/passwd
    created = [i.args for i in runtime if i.keyword == "RUN" and "useradd" in i.args]
    assert any(f"--uid {uid} " in args for args in created), "the user exists in the image"
    (health,) = [i.args for i in runtime if i.keyword == "HEALTHCHECK"]
    assert exec_form(health) == ["python", "/app/healthcheck.py"]
    (cmd,) = [i.args for i in runtime if i.keyword == "CMD"]
    assert exec_form(cmd) == ["python", "-m", "service"]
    (expose,) = [i.args for i in runtime if i.keyword == "EXPOSE"]
    assert expose == "8000"


def test_gpu_image_is_built_on_cuda_with_cudnn() -> None:
    instructions = read_dockerfile(SERVICE_DOCKERFILES["service-gpu"])
    args = dict(i.args.split("=", 1) for i in instructions if i.keyword == "ARG" and "=" in i.args)
    assert args["CUDA_IMAGE"].startswith("nvidia/cuda:12.")
    assert "cudnn-runtime" in args["CUDA_IMAGE"]
    assert {i.args.split()[0] for i in instructions if i.keyword == "FROM"} == {"${CUDA_IMAGE}"}


def test_loadtest_image_installs_the_loadtest_extra_only() -> None:
    installs = pip_installs(read_dockerfile(DOCKER_DIR / "Dockerfile.loadtest"))
    assert installs == [[".[loadtest]"]]
    assert not expand(".[loadtest]") & (TRAINING_ONLY | {"onnxruntime", "onnxruntime-gpu"})


def dockerignore_patterns() -> list[str]:
    lines = (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, enough for these patterns: a match on the path or one of its parents."""
    parents = ["/".join(path.split("/")[: n + 1]) for n in range(path.count("/") + 1)]
    return any(fnmatch(p, pat.removeprefix("**/")) for p in parents for pat in patterns)


def test_dockerignore_keeps_the_context_lean_but_complete() -> None:
    patterns = dockerignore_patterns()
    for heavy in (".git", ".venv", ".venvs", "train", "tests", "runs"):
        assert ignored(heavy, patterns), heavy
    needed = {"pyproject.toml", "README.md", "contract", "service", "loadtest", "model_artifacts"}
    needed |= {"docker/healthcheck.py", "model_artifacts/student/model.onnx"}
    for path in needed:
        assert not ignored(path, patterns), path


def installed_closure(requirements: list[str]) -> set[str]:
    """Distributions that installing `requirements` brings in, read from this environment."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.requires(req.name) or []:
            dep = Requirement(line)
            wanted = req.extras or {""}
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in wanted):
                todo.append(dep)
    return seen


def third_party_imports(*packages: str) -> set[str]:
    """Top-level modules imported anywhere in the given first-party packages."""
    modules: set[str] = set()
    for package in packages:
        for source in (REPO_ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - set(packages)


def test_the_serving_install_covers_everything_the_shipped_code_imports() -> None:
    # The other side of "only the serving extra": nothing the image ships may need more.
    project = PYPROJECT["project"]
    closure = installed_closure(project["dependencies"] + project["optional-dependencies"]["cpu"])
    providers = metadata.packages_distributions()
    missing = {
        module
        for module in third_party_imports("service", "contract")
        if not {canonicalize_name(d) for d in providers.get(module, [])} & closure
    }
    assert not missing, f"imported by service/ or contract/ but not installed by .[cpu]: {missing}"
