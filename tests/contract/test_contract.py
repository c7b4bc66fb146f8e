from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from contract import (
    MANIFEST_FILE,
    MODEL_FILE,
    ArtifactError,
    encode_pair,
    encode_pairs,
    harmful_probability,
    load_artifact,
    prepare_tokenizer,
)


def test_harmful_probability_is_softmax_of_index_one() -> None:
    probs = harmful_probability([[0.0, 0.0], [0.0, 100.0], [3.0, 1.0]])
    assert probs[0] == pytest.approx(0.5)
    assert probs[1] == pytest.approx(1.0)
    assert probs[2] == pytest.approx(1 / (1 + np.exp(2.0)))
    with pytest.raises(ValueError, match="shape"):
        harmful_probability([1.0, 2.0])


def test_pair_format_uses_segments_and_reports_truncation(tiny_artifact: Path) -> None:
    tok = prepare_tokenizer(Tokenizer.from_file(str(tiny_artifact / "tokenizer.json")), 16)
    alone = encode_pair(tok, "hello there", None)
    assert set(alone.token_type_ids) == {0} and not alone.truncated
    pair = encode_pair(tok, "hello there", "general kenobi")
    assert pair.token_type_ids[-1] == 1 and len(pair) > len(alone)
    assert encode_pair(tok, "hello there", "") == alone  # empty response = prompt only
    long = encode_pair(tok, "word " * 50, "reply " * 50)
    assert len(long) == 16 and long.truncated and 1 in long.token_type_ids
    assert encode_pairs(tok, [("hello there", "general kenobi")]) == [pair]


def test_load_artifact_checks_hashes_and_schema(tiny_artifact: Path, tmp_path: Path) -> None:
    artifact = load_artifact(tiny_artifact)
    assert artifact.manifest.model_id == "tiny-random@0.0.0"
    assert artifact.manifest.input_format == "text_pair"

    broken = tmp_path / "broken"
    shutil.copytree(tiny_artifact, broken)
    with (broken / MODEL_FILE).open("ab") as fh:
        fh.write(b"x")
    with pytest.raises(ArtifactError, match=r"model\.onnx does not match"):
        load_artifact(broken)

    shutil.copytree(tiny_artifact, tmp_path / "future")
    manifest = json.loads((tmp_path / "future" / MANIFEST_FILE).read_text())
    manifest["schema_version"] = 99
    (tmp_path / "future" / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="schema_version 99"):
        load_artifact(tmp_path / "future")

    with pytest.raises(ArtifactError, match="does not exist"):
        load_artifact(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"categories": ["S1", "S99"]}, "unknown or repeated categories"),
        ({"categories": ["S1", "S1"]}, "unknown or repeated categories"),
        ({"category_output": None}, "no category_output"),
        ({"category_thresholds": {"S1": 0.5}}, "no category threshold for"),
        ({"category_thresholds": {"S1": 1.5, "S2": 0.5}}, "outside \\[0, 1\\]"),
        ({"category_map": {"violence": ["S9"]}}, "outside the contract"),
        ({"category_map": {"violent": ["S1"]}}, "outside the contract"),
    ],
)
def test_a_manifest_with_a_bad_category_head_is_refused(
    tiny_artifact: Path, tmp_path: Path, change: dict[str, object], message: str
) -> None:
    shutil.copytree(tiny_artifact, tmp_path / "a")
    manifest = json.loads((tmp_path / "a" / MANIFEST_FILE).read_text())
    manifest |= {
        "categories": ["S1", "S2"],
        "category_output": "category_logits",
        "category_thresholds": {"S1": 0.5, "S2": 0.5},
        "category_map": {"violence": ["S1"], "illicit": ["S2"]},
    }
    (tmp_path / "a" / MANIFEST_FILE).write_text(json.dumps(manifest))
    assert load_artifact(tmp_path / "a").manifest.categories == ["S1", "S2"]  # the valid base
    (tmp_path / "a" / MANIFEST_FILE).write_text(json.dumps(manifest | change))
    with pytest.raises(ArtifactError, match=message):
        load_artifact(tmp_path / "a")
