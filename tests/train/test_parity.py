"""Parity between the fp32 model and its ONNX export: the figures, from known scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from train import parity
from train.data.records import Record

ROWS = [
    Record("a", None, 1, "t"),
    Record("b", None, 0, "t"),
    Record("c", None, 1, "t"),
    Record("d", None, 0, "t"),
    Record("unlabelled", None, None, "t"),  # parity is measured on labelled rows only
]
TORCH = [0.9, 0.2, 0.6, 0.4]
ONNX = [0.85, 0.25, 0.35, 0.4]


class _Torch:
    def predict(self, pairs: list[Any], desc: str = "") -> np.ndarray:
        assert len(pairs) == len(TORCH)
        return np.array(TORCH, dtype=np.float32)


class _Onnx:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def score(self, pairs: list[Any]) -> list[float]:
        return ONNX


@pytest.fixture
def known_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parity.Classifier, "load", lambda *a, **k: _Torch())
    monkeypatch.setattr(parity, "OnnxArtifactScorer", _Onnx)


@pytest.mark.usefixtures("known_scores")
def test_the_figures_compare_both_models_on_the_same_labelled_rows() -> None:
    p = parity.measure_parity(Path("model"), Path("artifact"), ROWS, 128, threshold=0.5)
    assert p["rows"] == 4
    assert p["auprc_torch_fp32"] == pytest.approx(1.0)
    assert p["auprc_onnx"] == pytest.approx(0.8333, abs=1e-4)  # 0.35 ranks below a safe 0.4
    assert p["auprc_drop"] == pytest.approx(p["auprc_torch_fp32"] - p["auprc_onnx"])
    assert p["max_abs_score_diff"] == pytest.approx(0.25, abs=1e-6)
    assert p["mean_abs_score_diff"] == pytest.approx((0.05 + 0.05 + 0.25 + 0.0) / 4, abs=1e-6)
    assert p["decision_flips_at_threshold"] == 1  # 0.6 vs 0.35 across 0.5
    assert p["f1_torch_fp32"] == 1.0 and p["f1_onnx"] == pytest.approx(2 / 3)


def test_the_description_names_every_figure() -> None:
    text = parity.describe_parity(
        {
            "rows": 4,
            "auprc_torch_fp32": 1.0,
            "auprc_onnx": 0.8333,
            "auprc_drop": 0.1667,
            "max_abs_score_diff": 0.15,
            "mean_abs_score_diff": 0.0625,
            "decision_flips_at_threshold": 1,
        }
    )
    assert text == (
        "parity on 4 validation rows: AUPRC fp32 1.0000 vs onnx 0.8333 (drop +0.1667); "
        "score diff max 0.1500, mean 0.06250; 1 decisions flip at the threshold"
    )
