"""A category head fitted on a trained binary classifier's frozen features (a linear probe).

The encoder and the binary head stay exactly as trained, so every binary score is unchanged;
the head's rows are fitted by masked binary cross-entropy with L2, full batch, on the features
the classifier layer reads, against the conditional targets of `train.data.hazards`
(P(hazard | harmful): the harmful rows whose source names their hazards, and RealToxicityPrompts
openings by type), and optionally against the teacher's category scores where no source names
a row's hazards (`train.stages.teacher_categories`; each such row weighted by how harmful it
is). The model then exposes P(harmful) x P(hazard | harmful), as a conditional head trained
end to end does (`train.modeling.exposed_category_logits`).

Why a probe: trained end to end beside the binary loss at the encoder's learning rate, the new
head's 14 rows moved little from their random start in 1,000 steps and learnt the hazards' base
rates only (dev hazard AUPRC 0.02-0.20, `categories` and `categories-cond` in the experiment).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from tqdm import tqdm
from transformers import AutoModelForSequenceClassification

from contract import CATEGORY_CODES
from train.data.hazards import hazard_matrix
from train.data.records import Record
from train.loss import category_loss
from train.modeling import Classifier, length_sorted_batches
from train.training_summary import SUMMARY_FILE, pair_layout


def classifier_inputs(
    clf: Classifier, rows: list[Record], batch_size: int = 64
) -> npt.NDArray[np.float32]:
    """What the classification head reads, one row per record (eval mode): a BERT's pooled
    output (its `classifier` is one linear layer), or the first token's hidden state for a
    RoBERTa- or MPNet-style head (dense, tanh, `out_proj`). Not the input of `out_proj`: that
    dense layer was trained for the binary verdict alone, and a probe on it separates hazards
    poorly (the layout teacher's probe: training-row hazard AUPRC 0.16-0.84)."""
    head = getattr(clf.model, "classifier", None)
    two_layer = isinstance(getattr(head, "out_proj", None), torch.nn.Linear)
    if not isinstance(head, torch.nn.Module) or not (
        isinstance(head, torch.nn.Linear) or two_layer
    ):
        raise ValueError(f"{type(clf.model).__name__}: the probe needs a linear `classifier`")
    captured: list[torch.Tensor] = []

    def keep(_m: torch.nn.Module, args: tuple[torch.Tensor, ...], _out: torch.Tensor) -> None:
        captured.append((args[0][:, 0] if two_layer else args[0]).detach())

    hook = head.register_forward_hook(keep)
    encoded = clf.encode([r.pair for r in rows])
    width = clf.model.config.hidden_size if two_layer else getattr(head, "in_features", 0)
    out = np.zeros((len(rows), int(width)), dtype=np.float32)
    clf.model.eval()
    try:
        with torch.no_grad():
            batches = length_sorted_batches([len(e) for e in encoded], batch_size)
            total = -(-len(rows) // batch_size)
            for idx in tqdm(batches, "features", total, unit="batch", mininterval=10):
                captured.clear()
                clf.model(**clf.batch([encoded[i] for i in idx]))
                out[idx] = captured[0].float().numpy()
    finally:
        hook.remove()
    return out


def fit_probe(
    features: npt.NDArray[np.float32],
    targets: npt.NDArray[np.float32],
    *,
    seed: int,
    weights: npt.NDArray[np.float32] | None = None,
    weight_decay: float = 1e-3,
    steps: int = 600,
    lr: float = 0.05,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights (n_hazards, dim) and bias (n_hazards,) minimising masked BCE + L2; `weights`:
    each row's weight in the BCE (default 1)."""
    torch.manual_seed(seed)
    x = torch.from_numpy(features)
    t = torch.from_numpy(targets)
    w = None if weights is None else torch.from_numpy(weights)
    weight = torch.nn.Parameter(torch.randn(t.shape[1], x.shape[1]) * 0.01)
    bias = torch.nn.Parameter(torch.zeros(t.shape[1]))
    optimizer = torch.optim.Adam([weight, bias], lr=lr)
    for _ in range(steps):
        loss = category_loss(F.linear(x, weight, bias), t, w) + weight_decay * weight.pow(2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return weight.detach(), bias.detach()


def add_category_head(
    model_dir: Path,
    rows: list[Record],
    out_dir: Path,
    *,
    seed: int,
    batch_size: int = 64,
    soft: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]] | None = None,
    probe: dict[str, Any] | None = None,
) -> Path:
    """`model_dir` (a binary classifier) with a probe-fitted category head, saved to `out_dir`.

    `soft`: (targets, weights) per row from the teacher
    (`train.stages.teacher_categories.soft_targets`), taken by the rows whose source names no
    hazard. `probe`: `fit_probe` settings (weight_decay, steps, lr)."""
    summary = json.loads((Path(model_dir) / SUMMARY_FILE).read_text())
    max_length = int(summary["config"]["max_length"])
    clf = Classifier.load(model_dir, max_length, layout=pair_layout(summary))
    if clf.has_categories:
        raise ValueError(f"{model_dir} already has a category head")
    targets = hazard_matrix(rows, conditional=True)
    weights = np.ones(len(rows), dtype=np.float32)
    fill = np.zeros(len(rows), dtype=bool)
    if soft is not None:
        fill = np.isnan(targets).all(axis=1) & (soft[1] > 0)
        targets[fill], weights[fill] = soft[0][fill], soft[1][fill]
    known = [i for i, row in enumerate(targets) if not np.isnan(row).all()]
    picked = [rows[i] for i in known]
    print(f"[probe] fitting {len(CATEGORY_CODES)} hazards on {len(picked)} rows of {model_dir}")
    features = classifier_inputs(clf, picked, batch_size)
    settings: dict[str, Any] = dict(probe or {})
    weight, bias = fit_probe(
        features, targets[known], seed=seed, weights=weights[known], **settings
    )
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, num_labels=2 + len(CATEGORY_CODES), ignore_mismatched_sizes=True
    )
    old, new = clf.model.classifier, model.classifier
    assert isinstance(old, torch.nn.Linear) and isinstance(new, torch.nn.Linear)
    with torch.no_grad():
        new.weight.copy_(torch.cat([old.weight, weight]))
        new.bias.copy_(torch.cat([old.bias, bias]))
    model.config.category_conditional = True
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        if (Path(model_dir) / name).is_file():
            shutil.copy(Path(model_dir) / name, out_dir / name)
    summary["config"] = {**summary["config"], "categories": True, "category_conditional": True}
    summary["category_probe"] = {"rows": len(picked), "seed": seed, "base": str(model_dir),
                                 "settings": dict(probe or {}),
                                 "teacher_rows": int(fill.sum())}  # fmt: skip
    (out_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
    return out_dir
