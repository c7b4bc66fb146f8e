"""`load_teacher(spec)`: a teacher from a spec string, behind the on-disk score cache.

Specs:
- `<hub id or folder>`: a Hugging Face sequence classifier (e.g. the reference teacher's
  saved folder `runs/reference/teacher/best`, or a released guard such as HarmAug-Guard);
- `<artifact folder>` (has `manifest.json`): a contract artifact run by ONNX Runtime (the
  reference run scores with the teacher's own ONNX export: several times faster on CPU);
- `llamaguard:<hub id or folder>[::file.gguf]`: a Llama-Guard-style causal LM run locally;
- `llamaguard-endpoint:<base url>|<model>`: the same through an OpenAI-compatible server.
"""

from __future__ import annotations

from pathlib import Path

from contract import MANIFEST_FILE
from train.teacher.base import DEFAULT_CACHE, CachedTeacher, ScoreCache, Teacher


def load_teacher(
    spec: str, *, cache_path: Path | None = None, max_length: int = 256, batch_size: int = 32
) -> CachedTeacher:
    backend: Teacher
    if spec.startswith("llamaguard-endpoint:"):
        from train.teacher.llamaguard import EndpointLlamaGuard

        url, sep, model = spec.removeprefix("llamaguard-endpoint:").rpartition("|")
        if not sep:
            raise ValueError(f"{spec!r}: expected llamaguard-endpoint:<base url>|<model>")
        backend = EndpointLlamaGuard(url, model)
    elif spec.startswith("llamaguard:"):
        from train.teacher.llamaguard import LocalLlamaGuard

        backend = LocalLlamaGuard(spec.removeprefix("llamaguard:"))
    elif (Path(spec) / MANIFEST_FILE).is_file():
        from train.evaluation.onnx_scorer import OnnxArtifactScorer

        backend = OnnxArtifactScorer(spec, batch_size=batch_size)
    else:
        from train.teacher.hf import HFClassifierTeacher

        backend = HFClassifierTeacher(spec, max_length=max_length, batch_size=batch_size)
    return CachedTeacher(backend, ScoreCache(cache_path or DEFAULT_CACHE))
