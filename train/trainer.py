"""One fine-tuning loop for the reference teacher (hard labels) and the student (distillation).

Resumable: every `checkpoint_every` steps the model, optimiser, scheduler and position are
saved to `<out>/checkpoint/state.pt`; batch order is a pure function of (seed, epoch), so a
restarted run skips the batches it already did. After each epoch the model is scored on the
validation split; the epoch with the best validation AUPRC is kept in `<out>/best` with its
F1-optimal validation threshold in `training_summary.json`.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm
from transformers import get_linear_schedule_with_warmup

from contract import PairLayout
from train.data.hazards import hazard_matrix
from train.data.mix import stratified_split
from train.data.records import Record
from train.device import autocast, check_precision, grad_scaler, resolve_device, to_device
from train.evaluation.metrics import best_f1_threshold, binary_metrics
from train.loss import NO_LABEL, category_loss, distillation_loss
from train.modeling import Classifier
from train.sampling import epoch_batches, sampling_weights
from train.training_summary import SUMMARY_FILE


@dataclass
class FitConfig:
    base_model: str = "minilm"
    max_length: int = 128
    batch_size: int = 16
    epochs: int = 2
    samples_per_epoch: int | None = None  # None: the number of training rows
    lr: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    grad_clip: float = 1.0
    harmful_share: float | None = 0.4
    source_weights: dict[str, float] = field(default_factory=dict)
    seed: int = 13
    checkpoint_every: int = 100
    eval_batch_size: int = 64
    freeze_layers: int = 0  # freeze the embeddings and the first N encoder layers (cheaper steps)
    max_val_rows: int | None = None  # stratified validation subsample (None: all)
    temperature: float = 1.0  # distillation temperature (train.loss)
    device: str = "auto"  # train.device.resolve_device: a GPU when there is one, else the CPU
    precision: str = "fp32"  # fp32 | bf16 | fp16 (autocast on the forward pass and loss)
    # Share of draws for rows without a human label (None: their natural share of the rows).
    unlabelled_share: float | None = None
    # A category head (Llama Guard 3's S1-S14) beside the binary one, trained on the hazard
    # targets of train.data.hazards with this weight on its loss.
    categories: bool = False
    category_weight: float = 1.0
    # contract.PairLayout fields (max_length, prompt_tokens, response_tokens) for pairs: the
    # prompt's tail and the response's head in a wider window; None: longest-first truncation
    pair_layout: dict[str, int] | None = None


@dataclass
class FitResult:
    best_dir: Path
    val_auprc: float
    threshold: float
    epoch: int
    summary: dict[str, Any]


def freeze_lower_layers(model: torch.nn.Module, layers: int) -> None:
    """Freeze the embeddings and the first `layers` encoder layers (BERT/MPNet/RoBERTa layout).

    The backward pass then stops at layer `layers`, which roughly halves a step's cost when
    two thirds of the layers are frozen; the upper layers and the head still adapt.
    """
    base = getattr(model, str(getattr(model, "base_model_prefix", "")), None)
    if base is None or not hasattr(base, "encoder"):
        raise ValueError(f"cannot freeze layers of {type(model).__name__}: unknown layout")
    for param in base.embeddings.parameters():
        param.requires_grad = False
    for layer in base.encoder.layer[:layers]:
        for param in layer.parameters():
            param.requires_grad = False


def validate(clf: Classifier, val: list[Record], batch_size: int) -> dict[str, float]:
    labels = np.array([r.label for r in val], dtype=np.int64)
    scores = clf.predict([r.pair for r in val], batch_size=batch_size, desc="validating")
    threshold = best_f1_threshold(labels, scores)
    metrics = binary_metrics(labels, scores, threshold)
    return {"threshold": threshold, **metrics}


def fit(
    train_rows: list[Record],
    val_rows: list[Record],
    out_dir: Path,
    cfg: FitConfig,
    *,
    use_teacher_scores: bool,
) -> FitResult:
    out_dir = Path(out_dir)
    best_dir, ckpt_dir = out_dir / "best", out_dir / "checkpoint"
    if (best_dir / SUMMARY_FILE).is_file() and (out_dir / "DONE").is_file():
        summary = json.loads((best_dir / SUMMARY_FILE).read_text())
        print(f"[fit] {out_dir} already trained (val AUPRC {summary['val']['auprc']:.4f}); reusing")
        return FitResult(
            best_dir,
            summary["val"]["auprc"],
            summary["val"]["threshold"],
            summary["epoch"],
            summary,
        )
    val_rows = [r for r in val_rows if r.label is not None]
    if not use_teacher_scores:
        train_rows = [r for r in train_rows if r.label is not None]
    if cfg.max_val_rows and cfg.max_val_rows < len(val_rows):
        _, val_rows = stratified_split(val_rows, cfg.max_val_rows / len(val_rows), cfg.seed)
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)
    precision = check_precision(device, cfg.precision)
    layout = None if cfg.pair_layout is None else PairLayout.model_validate(cfg.pair_layout)
    clf = Classifier.load(
        cfg.base_model, cfg.max_length, fresh_head=True, categories=cfg.categories, layout=layout
    )
    torch.nn.Module.to(clf.model, device)
    if cfg.freeze_layers:
        freeze_lower_layers(clf.model, cfg.freeze_layers)
    encoded = clf.encode([r.pair for r in train_rows])
    lengths = [len(e) for e in encoded]
    labels = torch.tensor([NO_LABEL if r.label is None else r.label for r in train_rows])
    teacher = torch.tensor(
        [
            r.teacher_score if (use_teacher_scores and r.teacher_score is not None) else math.nan
            for r in train_rows
        ],
        dtype=torch.float32,
    )
    hazards = torch.from_numpy(hazard_matrix(train_rows)) if cfg.categories else None
    weights = sampling_weights(
        [r.label for r in train_rows],
        [r.source for r in train_rows],
        cfg.harmful_share,
        cfg.source_weights,
        cfg.unlabelled_share,
    )
    samples = cfg.samples_per_epoch or len(train_rows)
    steps_per_epoch = math.ceil(samples / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    model = clf.model.train()
    no_decay = ("bias", "LayerNorm.weight", "layer_norm", "LayerNorm.bias")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
            "weight_decay": cfg.weight_decay,
        },
        {
            "params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)],
            "weight_decay": 0.0,
        },
    ]
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr)
    scaler = grad_scaler(device, precision)
    scheduler = get_linear_schedule_with_warmup(
        optimizer, int(cfg.warmup_ratio * total_steps), total_steps
    )
    state: dict[str, Any] = {"epoch": 0, "step": 0, "history": [], "best_auprc": -1.0}
    state_path = ckpt_dir / "state.pt"
    if state_path.is_file():
        saved = torch.load(state_path, weights_only=False, map_location=device)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        state = saved["state"]
        print(f"[fit] resuming at epoch {state['epoch']} step {state['step']}")

    def checkpoint() -> None:
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        tmp = ckpt_dir / "state.pt.tmp"
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "state": state,
            },
            tmp,
        )
        tmp.replace(state_path)

    print(
        f"[fit] {cfg.base_model} on {device} ({precision}): {len(train_rows)} rows, "
        f"{samples} samples/epoch, "
        f"{cfg.epochs} epochs, {total_steps} steps of {cfg.batch_size}, max_length "
        f"{cfg.max_length}, mean length {np.mean(lengths):.1f} tokens"
    )
    while state["epoch"] < cfg.epochs:
        epoch = state["epoch"]
        batches = epoch_batches(lengths, weights, samples, cfg.batch_size, cfg.seed + epoch)
        bar = tqdm(
            total=len(batches), initial=state["step"], desc=f"epoch {epoch + 1}", unit="step"
        )
        started, tokens, rows_done = time.perf_counter(), 0, 0
        for step in range(state["step"], len(batches)):
            idx = batches[step]
            inputs = to_device(clf.batch([encoded[i] for i in idx]), device)
            with autocast(device, precision):
                logits = model(**inputs).logits
                loss = distillation_loss(
                    logits[:, :2], labels[idx].to(device), teacher[idx].to(device), cfg.temperature
                )
                if hazards is not None:
                    loss = loss + cfg.category_weight * category_loss(
                        logits[:, 2:], hazards[idx].to(device)
                    )
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            tokens += int(inputs["attention_mask"].sum())
            rows_done += len(idx)
            elapsed = time.perf_counter() - started
            bar.set_postfix(
                loss=f"{loss.item():.4f}",
                rows_s=f"{rows_done / elapsed:.1f}",
                tok_s=f"{tokens / elapsed:.0f}",
            )
            bar.update(1)
            state["step"] = step + 1
            if state["step"] % cfg.checkpoint_every == 0:
                checkpoint()
        bar.close()
        elapsed = time.perf_counter() - started
        print(
            f"[fit] epoch {epoch + 1}: {rows_done} rows in {elapsed:.0f}s "
            f"({rows_done / max(elapsed, 1e-9):.1f} rows/s, "
            f"{tokens / max(elapsed, 1e-9):.0f} tokens/s)"
        )
        val = validate(clf, val_rows, cfg.eval_batch_size)
        print(
            f"[fit] epoch {epoch + 1} validation: "
            + ", ".join(f"{k} {v:.4f}" for k, v in val.items() if isinstance(v, float))
        )
        state["history"].append({"epoch": epoch + 1, **val})
        if val["auprc"] > state["best_auprc"]:
            state["best_auprc"] = val["auprc"]
            clf.save(best_dir, cfg.base_model)
            summary = {
                "epoch": epoch + 1,
                "val": val,
                "config": asdict(cfg),
                "train_rows": len(train_rows),
                "val_rows": len(val_rows),
            }
            (best_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
        state["epoch"], state["step"] = epoch + 1, 0
        checkpoint()
    summary = json.loads((best_dir / SUMMARY_FILE).read_text())
    summary["history"] = state["history"]
    (best_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
    (out_dir / "DONE").write_text("ok\n")
    state_path.unlink(missing_ok=True)  # optimizer state is large; the best model is kept
    return FitResult(
        best_dir, summary["val"]["auprc"], summary["val"]["threshold"], summary["epoch"], summary
    )
