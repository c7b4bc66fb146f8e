"""A Hugging Face sequence-classification model (hub id or folder) run by PyTorch.

Scores a trained teacher or student folder, or a released guard with a 2-label head
(index 1 = harmful, as in the contract). For a model whose harmful label is another index,
retrain or wrap it; we refuse to guess.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from contract import Pair
from train.modeling import Classifier
from train.training_summary import SUMMARY_FILE, pair_layout


def _weights_fingerprint(folder: Path) -> str:
    """Hash of the weights file(s) so a retrained folder never reuses old cached scores."""
    digest = hashlib.sha256()
    for file in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        with file.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                digest.update(chunk)
    return digest.hexdigest()[:16]


class HFClassifierScorer:
    """Prompts alone are cut at `max_length`; pairs too, unless the folder was trained here in
    a pair layout (its training summary says so): then pairs are encoded in that layout, as its
    ONNX export and the service encode them."""

    def __init__(self, spec: str, max_length: int = 256, batch_size: int = 32) -> None:
        self.spec = spec
        self.batch_size = batch_size
        folder = Path(spec)
        summary = folder / SUMMARY_FILE
        layout = pair_layout(json.loads(summary.read_text())) if summary.is_file() else None
        self.max_length = max_length
        self._clf = Classifier.load(spec, max_length, layout=layout)
        fingerprint = _weights_fingerprint(folder) if folder.is_dir() else "hub"
        shape = str(max_length)
        if layout is not None:
            shape += f":{layout.max_length}={layout.prompt_tokens}+{layout.response_tokens}"
        self._id = f"hf:{folder.name if folder.is_dir() else spec}:{fingerprint}:{shape}"

    @property
    def scorer_id(self) -> str:
        return self._id

    def score(self, pairs: list[Pair]) -> list[float]:
        with torch.inference_mode():
            return self._clf.predict(pairs, self.batch_size, desc=f"teacher {self.spec}").tolist()
