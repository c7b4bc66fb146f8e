"""Scorers by name: `load_teacher(spec)` for a teacher spec, `load_scorer(path)` for a model.

Teacher specs:
- `<hub id or folder>`: a Hugging Face sequence classifier (e.g. the reference teacher's
  saved folder `runs/reference/teacher/best`, or a released guard such as HarmAug-Guard);
- `<artifact folder>` (has `manifest.json`): a contract artifact run by ONNX Runtime (the
  reference run scores with the teacher's own ONNX export: several times faster on CPU);
- `llamaguard:<hub id or folder>[::file.gguf]`: a Llama-Guard-style causal LM run locally;
- `llamaguard-endpoint:<base url>|<model>`: the same through an OpenAI-compatible server.
"""

from __future__ import annotations

import json
from pathlib import Path

from contract import MANIFEST_FILE, Thresholds
from train.scoring.cache import DEFAULT_CACHE, CachedScorer, ScoreCache
from train.scoring.scorer import Scorer
from train.training_summary import SUMMARY_FILE


def load_teacher(
    spec: str, *, cache_path: Path | None = None, max_length: int = 256, batch_size: int = 32
) -> CachedScorer:
    backend: Scorer
    if spec.startswith("llamaguard-endpoint:"):
        from train.scoring.llamaguard import EndpointLlamaGuard

        url, sep, model = spec.removeprefix("llamaguard-endpoint:").rpartition("|")
        if not sep:
            raise ValueError(f"{spec!r}: expected llamaguard-endpoint:<base url>|<model>")
        backend = EndpointLlamaGuard(url, model)
    elif spec.startswith("llamaguard:"):
        from train.scoring.llamaguard import LocalLlamaGuard

        backend = LocalLlamaGuard(spec.removeprefix("llamaguard:"))
    elif (Path(spec) / MANIFEST_FILE).is_file():
        from train.scoring.onnx_artifact import OnnxArtifactScorer

        backend = OnnxArtifactScorer(spec, batch_size=batch_size)
    else:
        from train.scoring.hf_classifier import HFClassifierScorer

        backend = HFClassifierScorer(spec, max_length=max_length, batch_size=batch_size)
    return CachedScorer(backend, ScoreCache(cache_path or DEFAULT_CACHE))


def load_scorer(path: Path | str, *, cache: Path | None = DEFAULT_CACHE,
                max_length: int = 128) -> tuple[Scorer, Thresholds]:  # fmt: skip
    """An artifact folder (ONNX) or an HF classifier folder/hub id -> (scorer, thresholds):
    an artifact's from its manifest; a trained folder's validation threshold, for prompts and
    pairs alike."""
    folder = Path(path)
    scorer: Scorer
    if (folder / MANIFEST_FILE).is_file():
        from train.scoring.onnx_artifact import OnnxArtifactScorer

        onnx = OnnxArtifactScorer(folder)
        scorer, thresholds = onnx, onnx.artifact.manifest.thresholds
    else:
        from train.scoring.hf_classifier import HFClassifierScorer

        scorer = HFClassifierScorer(str(path), max_length=max_length)
        summary = folder / SUMMARY_FILE
        thresholds = Thresholds(
            float(json.loads(summary.read_text())["val"]["threshold"])
            if summary.is_file() else 0.5
        )  # fmt: skip
    if cache is not None:
        scorer = CachedScorer(scorer, ScoreCache(cache))
    return scorer, thresholds
