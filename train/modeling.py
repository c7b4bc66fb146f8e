"""A sequence classifier with its contract-configured tokenizer, for training and scoring.

Text is encoded with `contract.encode_pairs`, exactly as `service/` encodes it, so training,
validation, parity checks and serving all see the same token layout.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer
from tqdm import tqdm
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel

from contract import (
    CATEGORY_CODES,
    EncodedPair,
    Pair,
    PairLayout,
    category_probabilities,
    encode_pairs,
    harmful_probability,
    prepare_tokenizer,
)
from contract.batches import pad_batch as pad_arrays
from contract.batches import pad_id_of
from train.base_models import resolve_model


def exposed_category_logits(logits: torch.Tensor, conditional: bool) -> torch.Tensor:
    """The category logits a model exposes, from its (batch, 2 + n) logits.

    A conditional head scores P(hazard | harmful); what it exposes is the logit of
    P(harmful) x P(hazard | harmful), so that the contract's sigmoid gives P(harmful and hazard)
    and a safe verdict keeps every hazard low.
    """
    cats = logits[:, 2:].float()
    if not conditional:
        return cats
    log_joint = torch.log_softmax(logits[:, :2].float(), dim=-1)[:, 1:2] + F.logsigmoid(cats)
    log_joint = log_joint.clamp(max=-1e-6)
    # log1p(-exp(x)), not log(-expm1(x)): expm1 has no ONNX export at opset 17
    return log_joint - torch.log1p(-torch.exp(log_joint))


def is_conditional(model: PreTrainedModel) -> bool:
    return bool(getattr(model.config, "category_conditional", False))


def model_input_names(model: PreTrainedModel) -> list[str]:
    names = ["input_ids", "attention_mask"]
    # BERT-style models take segment ids; MPNet/RoBERTa-style do not.
    if int(getattr(model.config, "type_vocab_size", 0) or 0) > 1:
        names.append("token_type_ids")
    return names


def pad_batch(
    encoded: Sequence[EncodedPair], input_names: Sequence[str], pad_id: int
) -> dict[str, torch.Tensor]:
    """Pad a batch to its own longest member (dynamic padding), as the service does."""
    arrays = pad_arrays(encoded, input_names, pad_id)
    return {name: torch.from_numpy(array) for name, array in arrays.items()}


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


@dataclass
class Classifier:
    model: PreTrainedModel
    tokenizer: Tokenizer  # contract-configured (truncation to max_length, no padding)
    max_length: int
    pad_id: int
    # Pairs: the prompt's tail and the response's head (contract/pairs.py); None = longest_first
    layout: PairLayout | None = None

    @classmethod
    def load(
        cls,
        spec: str | Path,
        max_length: int,
        *,
        fresh_head: bool = False,
        categories: bool = False,
        layout: PairLayout | None = None,
    ) -> Classifier:
        """Load a classifier; `fresh_head` allows a base encoder without a head.

        Its logits are the 2 classes, then (with a category head) one per hazard in
        `CATEGORY_CODES` order: one linear head, so one forward pass scores both.
        """
        path = resolve_model(str(spec))
        hf_tok = AutoTokenizer.from_pretrained(path)
        n_labels = 2 + (len(CATEGORY_CODES) if categories else 0)
        # A fresh head replaces whatever head the checkpoint has, of any size.
        kwargs = {"num_labels": n_labels, "ignore_mismatched_sizes": True} if fresh_head else {}
        model = AutoModelForSequenceClassification.from_pretrained(path, **kwargs)
        if model.config.num_labels not in (2, 2 + len(CATEGORY_CODES)):
            raise ValueError(
                f"{spec} has {model.config.num_labels} labels; expected 2, or 2 + "
                f"{len(CATEGORY_CODES)} with a category head"
            )
        tokenizer = prepare_tokenizer(
            Tokenizer.from_str(hf_tok.backend_tokenizer.to_str()), max_length, layout
        )
        pad_id = pad_id_of(tokenizer)
        return cls(model.eval(), tokenizer, max_length, int(pad_id), layout)

    @property
    def has_categories(self) -> bool:
        return self.n_categories > 0

    @property
    def n_categories(self) -> int:
        return int(self.model.config.num_labels or 2) - 2

    @property
    def input_names(self) -> list[str]:
        return model_input_names(self.model)

    def encode(self, pairs: Sequence[Pair]) -> list[EncodedPair]:
        return encode_pairs(self.tokenizer, list(pairs), self.layout)

    def batch(self, encoded: Sequence[EncodedPair]) -> dict[str, torch.Tensor]:
        return pad_batch(encoded, self.input_names, self.pad_id)

    def predict(
        self, pairs: Sequence[Pair], batch_size: int = 32, desc: str | None = None
    ) -> npt.NDArray[np.float32]:
        """P(harmful) per pair, in input order (batches are length-sorted for speed)."""
        return self.predict_all(pairs, batch_size, desc)[0]

    @torch.no_grad()
    def predict_all(
        self, pairs: Sequence[Pair], batch_size: int = 32, desc: str | None = None,
        exposed: bool = True,
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:  # fmt: skip
        """P(harmful) per pair and, with a category head, (pairs, hazards) scores: what the
        model exposes, or (`exposed=False`) the head's own, P(hazard | harmful) for a
        conditional head."""
        was_training = self.model.training
        self.model.eval()
        encoded = self.encode(pairs)
        out = np.zeros(len(encoded), dtype=np.float32)
        n_cat = self.n_categories
        cats = np.zeros((len(encoded), n_cat), dtype=np.float32) if n_cat else None
        batches = list(length_sorted_batches([len(e) for e in encoded], batch_size))
        device = next(self.model.parameters()).device
        for idx in tqdm(batches, desc=desc or "scoring", unit="batch", disable=desc is None):
            inputs = {k: v.to(device) for k, v in self.batch([encoded[i] for i in idx]).items()}
            logits = self.model(**inputs).logits.float()
            out[idx] = harmful_probability(logits[:, :2].cpu().numpy())
            if cats is not None:
                conditional = exposed and is_conditional(self.model)
                head = exposed_category_logits(logits, conditional)
                cats[idx] = category_probabilities(head.cpu().numpy())
        self.model.train(was_training)
        return out, cats

    def save(self, out_dir: Path, source_spec: str | Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(out_dir)
        AutoTokenizer.from_pretrained(resolve_model(str(source_spec))).save_pretrained(out_dir)
