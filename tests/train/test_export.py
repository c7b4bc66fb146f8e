"""Export: which nodes int8 touches, and the parity measurement."""

from __future__ import annotations

from pathlib import Path

import onnx

from train.data.records import Record
from train.export import export_artifact
from train.parity import measure_parity


def _quantised_nodes(model: Path) -> list[str]:
    graph = onnx.load(str(model)).graph
    return [n.name for n in graph.node if n.op_type == "MatMulInteger"]


def test_keep_fp32_really_keeps_the_head_fp32(tiny_model_dir: Path, tmp_path: Path) -> None:
    export_artifact(tiny_model_dir, tmp_path, name="t", version="0", base_model="tiny",
                    max_length=64, threshold=0.5, keep_fp32=["classifier", "pooler"])  # fmt: skip
    quantised = _quantised_nodes(tmp_path / "model.onnx")
    assert any("attention/self/query" in n for n in quantised)  # the encoder is int8
    assert not [n for n in quantised if "classifier" in n or "pooler" in n]


def test_parity_compares_torch_and_onnx_on_the_same_rows(
    tiny_model_dir: Path, tiny_artifact: Path
) -> None:
    words = ["cats", "bombs", "bread", "guns", "code", "kill -9"] * 3
    rows = [
        Record(f"prompt number {i} about {w}", None if i % 2 else "a reply", i % 2, "t")
        for i, w in enumerate(words)
    ]
    parity = measure_parity(tiny_model_dir, tiny_artifact, rows, 128, 0.5)
    assert parity["rows"] == len(rows)
    assert 0.0 <= parity["max_abs_score_diff"] < 0.1
    assert abs(parity["auprc_drop"]) < 0.2
