"""One fine-tuning loop for the reference teacher (hard labels) and the student (distillation).

Resumable: every `checkpoint_every` steps the model, optimiser, scheduler, loss scaler, random
state and position are saved to `<out>/checkpoint/state.pt`; batch order is a pure function of
(seed, epoch), so a restarted run skips the batches it already did and, with dropout's random
state restored, ends with the weights of a run that was never interrupted. After each epoch
the model is scored on the validation split; the epoch with the best validation AUPRC is kept
in `<out>/best` with its F1-optimal validation threshold in `training_summary.json`.
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

from contract import EncodedPair, PairLayout
from train.data.hazards import hazard_matrix
from train.data.mix import stratified_split
from train.data.records import Record
from train.device import (
    Precision,
    autocast,
    check_precision,
    grad_scaler,
    resolve_device,
    to_device,
)
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
    # LP-FT (Kumar et al., 2022): the first N epochs train the head alone on the pretrained
    # features, so that full fine-tuning starts from a fitted head and distorts those features
    # less, which helped out of distribution there. 0: full fine-tuning from the start.
    head_first_epochs: int = 0
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
    # The head scores P(hazard | harmful), learnt on harmful rows only; the model exposes
    # P(harmful) x P(hazard | harmful) (train.modeling.exposed_category_logits).
    category_conditional: bool = False
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


def _base_model(model: torch.nn.Module) -> Any:
    """The encoder under a task head (`bert`, `mpnet`, ...) by the model's own prefix, or None.
    Any: its layout (`embeddings`, `encoder.layer`) is the architecture's, not torch's."""
    return getattr(model, str(getattr(model, "base_model_prefix", "")), None)


def freeze_lower_layers(model: torch.nn.Module, layers: int) -> None:
    """Freeze the embeddings and the first `layers` encoder layers (BERT/MPNet/RoBERTa layout).

    The backward pass then stops at layer `layers`, which roughly halves a step's cost when
    two thirds of the layers are frozen; the upper layers and the head still adapt.
    """
    base = _base_model(model)
    if base is None or not hasattr(base, "encoder"):
        raise ValueError(f"cannot freeze layers of {type(model).__name__}: unknown layout")
    for param in base.embeddings.parameters():
        param.requires_grad = False
    for layer in base.encoder.layer[:layers]:
        for param in layer.parameters():
            param.requires_grad = False


def train_head_only(model: torch.nn.Module, head_only: bool, freeze_layers: int) -> None:
    """Freeze the whole encoder (`head_only`), or unfreeze it but for the embeddings and the
    first `freeze_layers` layers."""
    base = _base_model(model)
    if base is None:
        raise ValueError(f"cannot find the encoder of {type(model).__name__}")
    for param in base.parameters():
        param.requires_grad = not head_only
    if not head_only and freeze_layers:
        freeze_lower_layers(model, freeze_layers)


def validate(clf: Classifier, val: list[Record], batch_size: int) -> dict[str, float]:
    labels = np.array([r.label for r in val], dtype=np.int64)
    scores = clf.predict([r.pair for r in val], batch_size=batch_size, desc="validating")
    threshold = best_f1_threshold(labels, scores)
    metrics = binary_metrics(labels, scores, threshold)
    return {"threshold": threshold, **metrics}


@dataclass
class TrainingRows:
    """The training rows, encoded once, with what each one learns from (aligned by index)."""

    rows: list[Record]
    encoded: list[EncodedPair]
    lengths: list[int]
    labels: torch.Tensor  # NO_LABEL where no human label
    teacher: torch.Tensor  # the teacher's P(harmful), NaN where none is used
    hazards: torch.Tensor | None  # (rows, hazards) targets when the category head trains
    weights: list[float]  # sampling weight of each row (train.sampling)


@dataclass
class Optimisation:
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler


class Checkpoint:
    """`<out>/checkpoint/state.pt`: model, optimiser, scheduler, loss scaler, the torch random
    state (dropout draws from it) and the loop's position.

    The position (`state`) is a plain dict (epoch, step, history, best_auprc) so that runs
    checkpointed by any version of this loop resume; one saved without the scaler or the
    random state resumes with fresh ones.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "state.pt"

    def resume(
        self, model: torch.nn.Module, opt: Optimisation, device: torch.device
    ) -> dict[str, Any]:
        """The saved position, with the model and optimiser restored; a fresh one if none."""
        if not self.path.is_file():
            return {"epoch": 0, "step": 0, "history": [], "best_auprc": -1.0}
        saved = torch.load(self.path, weights_only=False, map_location=device)
        model.load_state_dict(saved["model"])
        opt.optimizer.load_state_dict(saved["optimizer"])
        opt.scheduler.load_state_dict(saved["scheduler"])
        if "scaler" in saved:
            opt.scaler.load_state_dict(saved["scaler"])
        # random states must be CPU byte tensors; `map_location` moved them to `device`
        if "rng" in saved:
            torch.set_rng_state(saved["rng"].cpu())
        if saved.get("cuda_rng") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in saved["cuda_rng"]])
        state: dict[str, Any] = saved["state"]
        print(f"[fit] resuming at epoch {state['epoch']} step {state['step']}")
        return state

    def save(self, model: torch.nn.Module, opt: Optimisation, state: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / "state.pt.tmp"
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": opt.optimizer.state_dict(),
                "scheduler": opt.scheduler.state_dict(),
                "scaler": opt.scaler.state_dict(),
                "rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
                "state": state,
            },
            tmp,
        )
        tmp.replace(self.path)  # a crash mid-write leaves the previous checkpoint whole

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)  # optimizer state is large; the best model is kept


def finished_run(out_dir: Path) -> FitResult | None:
    """The result of a run that already finished in `out_dir`, if there is one."""
    best_dir = out_dir / "best"
    if not ((best_dir / SUMMARY_FILE).is_file() and (out_dir / "DONE").is_file()):
        return None
    summary = json.loads((best_dir / SUMMARY_FILE).read_text())
    print(f"[fit] {out_dir} already trained (val AUPRC {summary['val']['auprc']:.4f}); reusing")
    return FitResult(
        best_dir, summary["val"]["auprc"], summary["val"]["threshold"], summary["epoch"], summary
    )


def select_rows(
    train_rows: list[Record], val_rows: list[Record], cfg: FitConfig, use_teacher_scores: bool
) -> tuple[list[Record], list[Record]]:
    """Rows that can supervise: labelled validation rows (subsampled to `max_val_rows`), and
    training rows with a label unless the teacher's scores are used."""
    val_rows = [r for r in val_rows if r.label is not None]
    if not use_teacher_scores:
        train_rows = [r for r in train_rows if r.label is not None]
    if cfg.max_val_rows and cfg.max_val_rows < len(val_rows):
        _, val_rows = stratified_split(val_rows, cfg.max_val_rows / len(val_rows), cfg.seed)
    return train_rows, val_rows


def load_model(cfg: FitConfig, device: torch.device) -> Classifier:
    """The base model with a fresh head (drawn from the seeded torch RNG), on `device`."""
    layout = None if cfg.pair_layout is None else PairLayout.model_validate(cfg.pair_layout)
    clf = Classifier.load(
        cfg.base_model, cfg.max_length, fresh_head=True, categories=cfg.categories, layout=layout
    )
    torch.nn.Module.to(clf.model, device)
    if cfg.freeze_layers:
        freeze_lower_layers(clf.model, cfg.freeze_layers)
    clf.model.config.category_conditional = cfg.categories and cfg.category_conditional
    return clf


def training_rows(
    clf: Classifier, rows: list[Record], cfg: FitConfig, use_teacher_scores: bool
) -> TrainingRows:
    encoded = clf.encode([r.pair for r in rows])
    teacher = [
        r.teacher_score if (use_teacher_scores and r.teacher_score is not None) else math.nan
        for r in rows
    ]
    return TrainingRows(
        rows=rows,
        encoded=encoded,
        lengths=[len(e) for e in encoded],
        labels=torch.tensor([NO_LABEL if r.label is None else r.label for r in rows]),
        teacher=torch.tensor(teacher, dtype=torch.float32),
        hazards=(
            torch.from_numpy(hazard_matrix(rows, cfg.category_conditional))
            if cfg.categories
            else None
        ),
        weights=sampling_weights(
            [r.label for r in rows],
            [r.source for r in rows],
            cfg.harmful_share,
            cfg.source_weights,
            cfg.unlabelled_share,
        ),
    )


def build_optimisation(
    model: torch.nn.Module,
    cfg: FitConfig,
    total_steps: int,
    device: torch.device,
    precision: Precision,
) -> Optimisation:
    """AdamW without weight decay on biases and norms, linear warm-up then decay."""
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
    return Optimisation(optimizer, scheduler, scaler)


@dataclass
class TrainingRun:
    """One fit's parts, set up once; its methods are the steps of the loop."""

    cfg: FitConfig
    clf: Classifier
    data: TrainingRows
    val_rows: list[Record]
    opt: Optimisation
    checkpoint: Checkpoint
    best_dir: Path
    device: torch.device
    precision: Precision
    samples: int  # drawn per epoch

    def loss(self, logits: torch.Tensor, idx: list[int]) -> torch.Tensor:
        """The batch's loss: distillation on the binary pair, plus the category head's."""
        data, device = self.data, self.device
        loss = distillation_loss(
            logits[:, :2], data.labels[idx].to(device), data.teacher[idx].to(device),
            self.cfg.temperature,
        )  # fmt: skip
        if data.hazards is not None:
            loss = loss + self.cfg.category_weight * category_loss(
                logits[:, 2:], data.hazards[idx].to(device)
            )
        return loss

    def step(self, inputs: dict[str, Any], idx: list[int]) -> torch.Tensor:
        """One optimiser step on one batch; returns its loss."""
        model, opt = self.clf.model, self.opt
        with autocast(self.device, self.precision):
            loss = self.loss(model(**inputs).logits, idx)
        opt.optimizer.zero_grad(set_to_none=True)
        opt.scaler.scale(loss).backward()
        opt.scaler.unscale_(opt.optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), self.cfg.grad_clip)
        opt.scaler.step(opt.optimizer)
        opt.scaler.update()
        opt.scheduler.step()
        return loss

    def epoch(self, state: dict[str, Any]) -> None:
        """The rest of epoch `state["epoch"]` from batch `state["step"]`, checkpointing as it
        goes; the batch order is a pure function of (seed, epoch)."""
        cfg, epoch = self.cfg, state["epoch"]
        if cfg.head_first_epochs:
            # AdamW skips a parameter without a gradient: the frozen encoder keeps its weights
            # and moments while the head trains alone.
            train_head_only(self.clf.model, epoch < cfg.head_first_epochs, cfg.freeze_layers)
        batches = epoch_batches(
            self.data.lengths, self.data.weights, self.samples, cfg.batch_size, cfg.seed + epoch
        )
        bar = tqdm(
            total=len(batches), initial=state["step"], desc=f"epoch {epoch + 1}", unit="step"
        )
        started, tokens, rows_done = time.perf_counter(), 0, 0
        for step in range(state["step"], len(batches)):
            idx = batches[step]
            inputs = to_device(self.clf.batch([self.data.encoded[i] for i in idx]), self.device)
            loss = self.step(inputs, idx)
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
                self.checkpoint.save(self.clf.model, self.opt, state)
        bar.close()
        elapsed = time.perf_counter() - started
        print(
            f"[fit] epoch {epoch + 1}: {rows_done} rows in {elapsed:.0f}s "
            f"({rows_done / max(elapsed, 1e-9):.1f} rows/s, "
            f"{tokens / max(elapsed, 1e-9):.0f} tokens/s)"
        )

    def validate_and_keep_best(self, state: dict[str, Any]) -> None:
        """Score the validation rows; keep the model in `best/` if its AUPRC is the best yet."""
        cfg, epoch = self.cfg, state["epoch"]
        val = validate(self.clf, self.val_rows, cfg.eval_batch_size)
        print(
            f"[fit] epoch {epoch + 1} validation: "
            + ", ".join(f"{k} {v:.4f}" for k, v in val.items() if isinstance(v, float))
        )
        state["history"].append({"epoch": epoch + 1, **val})
        if val["auprc"] > state["best_auprc"]:
            state["best_auprc"] = val["auprc"]
            self.clf.save(self.best_dir, cfg.base_model)
            summary = {
                "epoch": epoch + 1,
                "val": val,
                "config": asdict(cfg),
                "train_rows": len(self.data.rows),
                "val_rows": len(self.val_rows),
            }
            (self.best_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))

    def finish(self, out_dir: Path, state: dict[str, Any]) -> FitResult:
        """The best epoch's summary with the whole history; `DONE`; the checkpoint removed."""
        summary = json.loads((self.best_dir / SUMMARY_FILE).read_text())
        summary["history"] = state["history"]
        (self.best_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
        (out_dir / "DONE").write_text("ok\n")
        self.checkpoint.discard()
        return FitResult(
            self.best_dir,
            summary["val"]["auprc"],
            summary["val"]["threshold"],
            summary["epoch"],
            summary,
        )


def fit(
    train_rows: list[Record],
    val_rows: list[Record],
    out_dir: Path,
    cfg: FitConfig,
    *,
    use_teacher_scores: bool,
) -> FitResult:
    out_dir = Path(out_dir)
    finished = finished_run(out_dir)
    if finished is not None:
        return finished
    if cfg.head_first_epochs >= cfg.epochs:
        raise ValueError(
            f"head_first_epochs ({cfg.head_first_epochs}) leaves none of the {cfg.epochs} "
            "epochs for full fine-tuning"
        )
    train_rows, val_rows = select_rows(train_rows, val_rows, cfg, use_teacher_scores)
    # The order below is the torch RNG's: the seed, then the fresh head's initialisation.
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)
    precision = check_precision(device, cfg.precision)
    clf = load_model(cfg, device)
    data = training_rows(clf, train_rows, cfg, use_teacher_scores)
    samples = cfg.samples_per_epoch or len(train_rows)
    total_steps = math.ceil(samples / cfg.batch_size) * cfg.epochs
    model = clf.model.train()
    opt = build_optimisation(model, cfg, total_steps, device, precision)
    checkpoint = Checkpoint(out_dir / "checkpoint")
    state = checkpoint.resume(model, opt, device)
    print(
        f"[fit] {cfg.base_model} on {device} ({precision}): {len(train_rows)} rows, "
        f"{samples} samples/epoch, "
        f"{cfg.epochs} epochs, {total_steps} steps of {cfg.batch_size}, max_length "
        f"{cfg.max_length}, mean length {np.mean(data.lengths):.1f} tokens"
    )
    run = TrainingRun(
        cfg, clf, data, val_rows, opt, checkpoint, out_dir / "best", device, precision, samples
    )
    while state["epoch"] < cfg.epochs:
        run.epoch(state)
        run.validate_and_keep_best(state)
        state["epoch"], state["step"] = state["epoch"] + 1, 0
        checkpoint.save(model, opt, state)
    return run.finish(out_dir, state)
