"""The model backend: an ONNX Runtime session that turns encoded pairs into P(harmful) and, when
the artifact has a category head (contract/categories.py), each hazard's probability, from one
forward pass that fetches both outputs."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from contract import Artifact, EncodedPair, category_probabilities, harmful_probability
from contract.batches import pad_batch

log = logging.getLogger(__name__)

SUPPORTED_INPUTS = ("input_ids", "attention_mask", "token_type_ids")

# One sequence's scores as the batcher hands them on: P(harmful), then one probability per
# served category in the manifest's order (nothing more for a binary-only artifact).
ScoreRow = list[float]


def cuda_available() -> bool:
    """This onnxruntime build offers CUDA (it may still fall back to the CPU at load)."""
    return "CUDAExecutionProvider" in ort.get_available_providers()


def preferred_providers() -> list[str]:
    """CUDA first when this onnxruntime build has it, else the CPU."""
    if cuda_available():
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


class OnnxEngine:
    """Pads a batch to its longest member (numpy) and runs it; thread-safe for one caller.

    `categories=False` serves an artifact with a category head as binary-only: the category
    output is not fetched (what `MODERATION_CATEGORIES=false` measures against).
    """

    def __init__(
        self, artifact: Artifact, *, threads: int, pad_id: int = 0, categories: bool = True
    ) -> None:
        manifest = artifact.manifest
        self.input_names = list(manifest.onnx_inputs)
        self.output_name = manifest.onnx_output
        served = categories and bool(manifest.categories)
        self.categories: list[str] = list(manifest.categories) if served else []
        self.category_output = manifest.category_output if served else None
        self._fetch = [self.output_name]
        if self.category_output is not None:
            self._fetch.append(self.category_output)
        self.max_length = manifest.max_length
        self.pad_id = pad_id
        self.threads = threads
        providers = preferred_providers()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Spinning threads would steal the CPU the event loop and tokeniser need between batches.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(artifact.model_path), sess_options=options, providers=providers
        )
        self.provider = self.session.get_providers()[0]
        if self.provider != providers[0]:
            # onnxruntime-gpu lists CUDA as available even without a usable GPU, then falls back.
            log.warning("%s could not start; running on %s", providers[0], self.provider)
        unsupported = set(self.input_names) - set(SUPPORTED_INPUTS)
        if unsupported:
            raise ValueError(f"the manifest names inputs this engine cannot feed: {unsupported}")
        missing = set(self.input_names) - {i.name for i in self.session.get_inputs()}
        if missing:
            raise ValueError(f"{artifact.model_path} has no inputs named {sorted(missing)}")
        outputs = {o.name: o.shape for o in self.session.get_outputs()}
        absent = [name for name in self._fetch if name not in outputs]
        if absent:
            raise ValueError(f"{artifact.model_path} has no outputs named {absent}")
        if self.category_output is not None:
            width = outputs[self.category_output][-1]
            if isinstance(width, int) and width != len(self.categories):
                raise ValueError(
                    f"{artifact.model_path}: {self.category_output} has {width} columns; the "
                    f"manifest lists {len(self.categories)} categories"
                )

    def pad(self, batch: Sequence[EncodedPair]) -> dict[str, npt.NDArray[np.int64]]:
        """The ONNX feed: every field padded to the batch's longest member."""
        return pad_batch(batch, self.input_names, self.pad_id)

    def run(
        self, batch: Sequence[EncodedPair]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """One forward pass: P(harmful) (batch,) and category probabilities (batch, categories);
        the latter has no columns when no category head is served."""
        outputs = self.session.run(self._fetch, self.pad(batch))
        harmful = harmful_probability(outputs[0])
        if self.category_output is None:
            return harmful, np.zeros((len(harmful), 0), dtype=np.float32)
        return harmful, category_probabilities(outputs[1])

    def forward(self, batch: Sequence[EncodedPair]) -> npt.NDArray[np.float32]:
        """P(harmful) per sequence (the contract's label convention), from the same pass the
        server runs (the category head included when it is served)."""
        return self.run(batch)[0]

    def score_rows(self, batch: Sequence[EncodedPair]) -> list[ScoreRow]:
        """What the batcher hands on: one `ScoreRow` per sequence."""
        harmful, categories = self.run(batch)
        if not self.categories:
            return [[score] for score in harmful.tolist()]
        rows: list[ScoreRow] = np.concatenate([harmful[:, None], categories], axis=1).tolist()
        return rows

    def warm_up(self, lengths: Sequence[int] = (8, 32, 128)) -> None:
        """Run a few shapes once so the first real requests do not pay for initialisation."""
        for length in lengths:
            length = max(2, min(length, self.max_length))
            seq = EncodedPair(
                input_ids=[self.pad_id + 1] * length,
                attention_mask=[1] * length,
                token_type_ids=[0] * length,
                truncated=False,
            )
            self.forward([seq])
            self.forward([seq, seq])


def start_sessions(
    artifact: Artifact, *, count: int, threads: int, pad_id: int = 0, categories: bool = True
) -> list[OnnxEngine]:
    """`count` warmed-up engines over one artifact: one per batcher worker."""
    engines = [
        OnnxEngine(artifact, threads=threads, pad_id=pad_id, categories=categories)
        for _ in range(count)
    ]
    for engine in engines:
        engine.warm_up()
    return engines
