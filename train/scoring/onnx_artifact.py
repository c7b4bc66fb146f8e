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
    Pair,
    category_probabilities,
    encode_pairs,
    harmful_probability,
    load_artifact,
    prepare_tokenizer,
)
from contract.batches import pad_batch, pad_id_of
from train.modeling import length_sorted_batches


class OnnxArtifactScorer:
    def __init__(self, folder: Path | str, threads: int = 2, batch_size: int = 32) -> None:
        self.artifact = load_artifact(folder)
        manifest = self.artifact.manifest
        self.threshold = manifest.threshold
        self.layout = manifest.pair_layout  # pairs are encoded as the service encodes them
        self.tokenizer = prepare_tokenizer(
            Tokenizer.from_file(str(self.artifact.tokenizer_path)), manifest.max_length, self.layout
        )
        self.pad_id = pad_id_of(self.tokenizer)
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
    def scorer_id(self) -> str:
        return self._id

    def _forward(self, pairs: list[Pair], outputs: list[str]) -> list[npt.NDArray[np.float32]]:
        encoded = encode_pairs(self.tokenizer, pairs, self.layout)
        return list(self.session.run(outputs, pad_batch(encoded, self.inputs, self.pad_id)))

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
