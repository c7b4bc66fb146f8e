"""Export: which nodes int8 touches, the parity measurement, the response threshold."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from contract import CATEGORY_CODES, CATEGORY_OUTPUT, OPENAI_CATEGORY_MAP, load_artifact
from train.artifact_export import export_artifact, update_manifest
from train.data.records import Record, write_records
from train.evaluation.metrics import f1_response_threshold
from train.parity import measure_parity
from train.scoring.onnx_artifact import OnnxArtifactScorer
from train.stages.export import response_threshold
from train.work_paths import WorkPaths


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


def test_a_category_head_is_a_second_output_in_the_same_graph(
    tiny_category_model_dir: Path, tiny_category_artifact: Path
) -> None:
    manifest = load_artifact(tiny_category_artifact).manifest
    assert manifest.categories == list(CATEGORY_CODES)
    assert manifest.category_output == CATEGORY_OUTPUT
    assert manifest.category_thresholds == dict.fromkeys(CATEGORY_CODES, 0.5)
    assert manifest.category_map == {k: list(v) for k, v in OPENAI_CATEGORY_MAP.items()}
    session = ort.InferenceSession(str(tiny_category_artifact / "model.onnx"))
    outputs = {o.name: o.shape for o in session.get_outputs()}
    assert outputs == {"logits": ["batch", 2], CATEGORY_OUTPUT: ["batch", len(CATEGORY_CODES)]}
    # The int8 graph's outputs are the PyTorch head's logits, split after the binary pair.
    tokenizer = AutoTokenizer.from_pretrained(tiny_category_model_dir)
    encoded = tokenizer(["how do I bake bread", "a second, longer prompt here"], padding=True)
    feed = {n: np.array(encoded[n], dtype=np.int64) for n in manifest.onnx_inputs}
    logits, category_logits = session.run(["logits", CATEGORY_OUTPUT], feed)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_category_model_dir).eval()
    with torch.no_grad():
        expected = model(**{n: torch.tensor(v) for n, v in feed.items()}).logits.numpy()
    assert np.abs(logits - expected[:, :2]).max() < 0.05
    assert np.abs(category_logits - expected[:, 2:]).max() < 0.05
    quantised = _quantised_nodes(tiny_category_artifact / "model.onnx")
    assert not [n for n in quantised if "classifier" in n]  # the head stays fp32


def test_a_binary_model_exports_one_output_and_refuses_category_fields(
    tiny_model_dir: Path, tiny_artifact: Path, tmp_path: Path
) -> None:
    session = ort.InferenceSession(str(tiny_artifact / "model.onnx"))
    assert [o.name for o in session.get_outputs()] == ["logits"]
    assert load_artifact(tiny_artifact).manifest.categories == []
    with pytest.raises(ValueError, match="no category head"):
        export_artifact(tiny_model_dir, tmp_path, name="t", version="0", base_model="tiny",
                        max_length=64, threshold=0.5, quantize=False,
                        category_thresholds={"S1": 0.5})  # fmt: skip


def test_a_category_head_needs_a_threshold_per_category(
    tiny_category_model_dir: Path, tmp_path: Path
) -> None:
    common: dict[str, Any] = {"name": "t", "version": "0", "base_model": "tiny",
                              "max_length": 64, "threshold": 0.5, "quantize": False}  # fmt: skip
    with pytest.raises(ValueError, match="no threshold for"):
        export_artifact(tiny_category_model_dir, tmp_path, **common)
    with pytest.raises(ValueError, match="14 category logits; 2 named"):
        export_artifact(tiny_category_model_dir, tmp_path, categories=["S1", "S2"],
                        category_thresholds={"S1": 0.5, "S2": 0.5}, **common)  # fmt: skip


def _dev_suite(root: Path) -> tuple[WorkPaths, dict[str, str], list[Record]]:
    """A work dir's dev suite as the data and teacher stages leave it, plus an extra dev set:
    pairs with a response spread over three sets, prompt-only and unlabelled rows among them."""
    topics = ["bread", "bombs", "poems", "guns", "taxes", "poison", "code", "knives"]
    pairs = [
        Record(f"tell me about {t}", f"here is how, step {i}: {t}", i % 2, "pairs")
        for i, t in enumerate(topics)
    ]
    prompts = [Record(f"prompt about {t}", None, 1 - i % 2, "seeds") for i, t in enumerate(topics)]
    paths = WorkPaths(root)
    write_records(paths.scored_val, [*pairs[:3], *prompts[:4]])
    write_records(paths.dev_set("attack"), pairs[3:5])
    write_records(paths.scored_dev("attack"), [*pairs[3:5], Record("x", "y", None, "unlabelled")])
    write_records(paths.dev_set("prompts"), prompts[4:])
    write_records(paths.scored_dev("prompts"), prompts[4:])
    write_records(root / "extra.jsonl.gz", pairs[5:])
    return paths, {"extra": str(root / "extra.jsonl.gz")}, pairs


def test_the_response_threshold_is_chosen_on_the_dev_rows_with_a_response(
    tiny_artifact: Path, tmp_path: Path
) -> None:
    paths, extra_dev, pairs = _dev_suite(tmp_path / "work")
    threshold, rule = response_threshold(paths, tiny_artifact, extra_dev)
    # Exactly the labelled pairs, from every dev set that has them, at the int8 model's scores.
    scores = OnnxArtifactScorer(tiny_artifact).score([r.pair for r in pairs])
    expected = f1_response_threshold([r.label for r in pairs], scores, [True] * len(pairs))
    assert threshold is not None and threshold == expected
    assert rule.startswith("F1-optimal on the 8 labelled dev rows with a response")
    assert "(val 3, attack 2, extra 3)" in rule
    artifact = tmp_path / "artifact"
    shutil.copytree(tiny_artifact, artifact)
    update_manifest(artifact, response_threshold=threshold)
    manifest = load_artifact(artifact).manifest
    assert manifest.thresholds.for_pair("an answer") == threshold
    assert manifest.thresholds.for_pair(None) == manifest.threshold == 0.5  # kept


def test_without_dev_rows_with_a_response_there_is_no_response_threshold(
    tiny_artifact: Path, tmp_path: Path
) -> None:
    assert response_threshold(WorkPaths(tmp_path / "none"), tiny_artifact, {})[0] is None
    paths = WorkPaths(tmp_path / "prompts")
    write_records(paths.scored_val, [Record("a", None, 0, "s"), Record("b", None, 1, "s")])
    assert response_threshold(paths, tiny_artifact, {}) == (
        None,
        "none: no labelled dev rows with a response of both classes",
    )
