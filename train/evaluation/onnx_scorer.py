"""Score pairs with an artifact through ONNX Runtime, as the service does.

Same `contract` encoding and label convention as `service/`; kept here so `train` can check
parity and evaluate without importing the web service.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from tokenizers import Tokenizer
from tqdm import tqdm

from contract import (
    category_probabilities,
    encode_pairs,
    harmful_probability,
    load_artifact,
    prepare_tokenizer,
)
from train.modeling import length_sorted_batches

Pair = tuple[str, str | None]


def _pad(rows: list[list[int]], value: int) -> npt.NDArray[np.int64]:
    width = max(len(r) for r in rows)
    out = np.full((len(rows), width), value, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


class OnnxArtifactScorer:
    def __init__(self, folder: Path | str, threads: int = 2, batch_size: int = 32) -> None:
        self.artifact = load_artifact(folder)
        manifest = self.artifact.manifest
        self.threshold = manifest.threshold
        self.layout = manifest.pair_layout  # pairs are encoded as the service encodes them
        self.tokenizer = prepare_tokenizer(
            Tokenizer.from_file(str(self.artifact.tokenizer_path)), manifest.max_length, self.layout
        )
        pads = (self.tokenizer.token_to_id(t) for t in ("[PAD]", "<pad>"))
        self.pad_id = next((p for p in pads if p is not None), 0)  # masked out either way
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(self.artifact.model_path), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = list(manifest.onnx_inputs)
        self.batch_size = batch_size
        self._id = f"onnx:{manifest.model_id}:{manifest.files['model.onnx'][:16]}"

    @property
    def teacher_id(self) -> str:
        return self._id

    def _forward(self, pairs: list[Pair], outputs: list[str]) -> list[npt.NDArray[np.float32]]:
        encoded = encode_pairs(self.tokenizer, pairs, self.layout)
        arrays = {
            "input_ids": _pad([e.input_ids for e in encoded], self.pad_id),
            "attention_mask": _pad([e.attention_mask for e in encoded], 0),
            "token_type_ids": _pad([e.token_type_ids for e in encoded], 0),
        }
        return list(self.session.run(outputs, {n: arrays[n] for n in self.inputs}))

    def run(self, pairs: list[Pair]) -> npt.NDArray[np.float32]:
        """One forward pass over `pairs` as a single padded batch."""
        (logits,) = self._forward(pairs, [self.artifact.manifest.onnx_output])
        return harmful_probability(logits)

    def score_categories(self, pairs: list[Pair]) -> npt.NDArray[np.float32] | None:
        """(pairs, hazards) scores in the manifest's category order; None without a head."""
        output = self.artifact.manifest.category_output
        if not self.artifact.manifest.categories or output is None:
            return None
        lengths = [len(e) for e in encode_pairs(self.tokenizer, pairs, self.layout)]
        out = np.zeros((len(pairs), len(self.artifact.manifest.categories)), dtype=np.float32)
        for idx in length_sorted_batches(lengths, self.batch_size):
            (logits,) = self._forward([pairs[i] for i in idx], [output])
            out[idx] = category_probabilities(logits)
        return out

    def score(self, pairs: list[Pair]) -> list[float]:
        encoded_lengths = [len(e) for e in encode_pairs(self.tokenizer, pairs, self.layout)]
        out = np.zeros(len(pairs), dtype=np.float32)
        batches = list(length_sorted_batches(encoded_lengths, self.batch_size))
        for idx in tqdm(batches, desc="onnx scoring", unit="batch"):
            out[idx] = self.run([pairs[i] for i in idx])
        return out.tolist()
