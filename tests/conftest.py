"""Fixtures shared by every test package: the data dir and a tiny real artifact."""

from __future__ import annotations

import os
from pathlib import Path

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
    from train.tiny import build_tiny_classifier

    return build_tiny_classifier(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_artifact(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real int8 ONNX artifact of the tiny model, following the contract."""
    from train.export import export_artifact

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
