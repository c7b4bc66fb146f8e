"""One pair layout from training to serving (issue 14): the exported manifest records it, and
training, the exported artifact's scorer and the service encode every pair identically."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from contract import Pair, PairLayout, encode_pairs, load_artifact, prepare_tokenizer
from service.windows import LongInputPolicy, build_encoder
from train.artifact_export import export_artifact
from train.modeling import Classifier
from train.scoring.hf_classifier import HFClassifierScorer
from train.scoring.onnx_artifact import OnnxArtifactScorer
from train.training_summary import SUMMARY_FILE

MAX_LENGTH = 64
LAYOUT = PairLayout(max_length=128, prompt_tokens=40, response_tokens=80)
WRAPPER = " ".join(f"roleplay{i} rule{i}" for i in range(150))
PAIRS: list[Pair] = [
    ("How do I bake bread?", None),
    ("How do I bake bread?", "Mix flour, water, salt and yeast, then knead and bake."),
    (WRAPPER + " Now explain how to pick a lock.", "I can't help with that."),
    ("Tell me a story.", " ".join(f"sentence{i} of the story." for i in range(60))),
    (WRAPPER, WRAPPER),
]


@pytest.fixture(scope="module")
def laid_out_artifact(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("laid-out-artifact")
    export_artifact(
        tiny_model_dir, out, name="tiny-layout", version="0.0.0", base_model="tiny",
        max_length=MAX_LENGTH, threshold=0.5, quantize=False, pair_layout=LAYOUT,
    )  # fmt: skip
    return out


def test_export_records_the_layout_when_given(laid_out_artifact: Path, tiny_artifact: Path) -> None:
    assert load_artifact(laid_out_artifact).manifest.pair_layout == LAYOUT
    assert load_artifact(tiny_artifact).manifest.pair_layout is None


def test_training_scoring_and_serving_encode_pairs_identically(
    tiny_model_dir: Path, laid_out_artifact: Path
) -> None:
    trained = Classifier.load(tiny_model_dir, MAX_LENGTH, layout=LAYOUT).encode(PAIRS)
    scorer = OnnxArtifactScorer(laid_out_artifact)
    scored = encode_pairs(scorer.tokenizer, PAIRS, scorer.layout)
    manifest = load_artifact(laid_out_artifact).manifest
    served_tok = prepare_tokenizer(
        Tokenizer.from_file(str(laid_out_artifact / "tokenizer.json")),
        manifest.max_length,
        manifest.pair_layout,
    )
    served = build_encoder(
        served_tok, manifest.max_length, policy=LongInputPolicy.TRUNCATE, stride=None,
        max_windows=1, layout=manifest.pair_layout,
    )(PAIRS)  # fmt: skip
    assert trained == scored == [item.sequences[0] for item in served]
    assert all(len(e) <= LAYOUT.max_length for e in trained)
    assert len(trained[0]) <= MAX_LENGTH  # prompts alone keep the prompt-only window
    # the layout kept the request at the end of the wrapper
    assert "lock" in served_tok.decode(trained[2].input_ids)


def test_a_model_without_the_layout_encodes_pairs_differently(tiny_model_dir: Path) -> None:
    """The check above has teeth: longest_first cuts the request off the wrapper."""
    plain = Classifier.load(tiny_model_dir, MAX_LENGTH).encode(PAIRS)
    laid_out = Classifier.load(tiny_model_dir, MAX_LENGTH, layout=LAYOUT).encode(PAIRS)
    assert plain[:2] == laid_out[:2]
    assert plain[2] != laid_out[2]


def test_parity_scores_follow_the_layout(tiny_model_dir: Path, laid_out_artifact: Path) -> None:
    torch_scores = Classifier.load(tiny_model_dir, MAX_LENGTH, layout=LAYOUT).predict(PAIRS)
    onnx_scores = np.array(OnnxArtifactScorer(laid_out_artifact).score(PAIRS))
    assert np.allclose(torch_scores, onnx_scores, atol=1e-4)


def test_a_folder_trained_in_a_layout_is_scored_in_it(
    tiny_model_dir: Path, laid_out_artifact: Path, tmp_path: Path
) -> None:
    """A teacher or student folder whose training summary records a layout is scored in it by
    the PyTorch scorer too (teachers score with it), as its ONNX export and the service do."""
    folder = tmp_path / "trained"
    shutil.copytree(tiny_model_dir, folder)
    summary = {"config": {"max_length": MAX_LENGTH, "pair_layout": LAYOUT.model_dump()}}
    (folder / SUMMARY_FILE).write_text(json.dumps(summary))
    laid_out = np.array(HFClassifierScorer(str(folder), max_length=MAX_LENGTH).score(PAIRS))
    plain = np.array(HFClassifierScorer(str(tiny_model_dir), max_length=MAX_LENGTH).score(PAIRS))
    trained = Classifier.load(tiny_model_dir, MAX_LENGTH, layout=LAYOUT).predict(PAIRS)
    assert np.allclose(laid_out, trained, rtol=0, atol=1e-7)
    assert np.allclose(laid_out, OnnxArtifactScorer(laid_out_artifact).score(PAIRS), atol=1e-4)
    # a random tiny model scores every pair near 0.49: the long pairs still differ, by ~1e-5
    assert np.abs(plain[2:] - laid_out[2:]).min() > 1e-6
    assert HFClassifierScorer(str(folder), max_length=MAX_LENGTH).scorer_id != (
        HFClassifierScorer(str(tiny_model_dir), max_length=MAX_LENGTH).scorer_id
    )
