"""The training package calls downward: no import loop, no import from a lower layer upward.

Read from the source (every import, function-level ones included), so the rule holds for
imports that run late as well as for those at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# Lowest first. A module may import its own layer and the layers before it. A module of
# train/ that no layer names is one of the pipeline's pieces (PIECES).
LAYERS: list[tuple[str, ...]] = [
    ("contract",),
    (
        "train.data", "train.modeling", "train.base_models", "train.loss", "train.sampling",
        "train.device", "train.yaml_config", "train.endpoint_client", "train.work_paths",
        "train.training_summary",
    ),
    ("train.scoring",),
    ("train.evaluation",),
    (
        "train.trainer", "train.config", "train.artifact_export", "train.parity", "train.card",
        "train.augment",
    ),
    ("train.stages", "train.pipeline", "train.cli", "train.__main__"),
]  # fmt: skip
PIECES = next(rank for rank, names in enumerate(LAYERS) if "train.trainer" in names)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    files = [*REPO_ROOT.glob("train/**/*.py"), *REPO_ROOT.glob("contract/**/*.py")]
    return {_module_name(p): p for p in files}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from package import module` depends on the module, not on the package
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]  # fmt: skip
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def _layer(module: str) -> int:
    for rank, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    if module.startswith("train."):
        return PIECES
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def test_every_import_goes_to_the_same_layer_or_below() -> None:
    upward = [
        f"{a} -> {b}" for a, targets in _graph().items() for b in targets if _layer(b) > _layer(a)
    ]
    assert upward == []


def test_there_is_no_import_loop() -> None:
    graph = _graph()
    done: set[str] = set()
    loops: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            loops.append([*path[path.index(node) :], node])
            return
        if node in done:
            return
        for nxt in sorted(graph[node]):
            visit(nxt, [*path, node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    assert loops == []


def test_the_graph_sees_function_level_imports() -> None:
    assert "train.scoring.llamaguard" in _graph()["train.scoring.factory"]
