"""Stage `teacher`: train the reference teacher (unless one is given), then score the splits.

The reference teacher is all-mpnet-base-v2 fine-tuned with cross-entropy on (a stratified
subsample of) the training split; any other teacher (`teacher.spec` or `--spec`) is used as is.
The scores land in `teacher_scores/` as the records' `teacher_score`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from train.artifact_export import export_artifact
from train.config import PipelineConfig
from train.data.mix import stratified_split
from train.data.records import Record, read_records, write_records
from train.parity import describe_parity, measure_parity
from train.scoring import load_teacher
from train.trainer import fit
from train.training_summary import SUMMARY_FILE, pair_layout
from train.work_paths import WorkPaths


def train_reference_teacher(cfg: PipelineConfig, paths: WorkPaths) -> Path:
    train, val = read_records(paths.train), read_records(paths.val)
    train = [r for r in train if r.label is not None]  # the teacher learns human labels only
    limit = cfg.teacher.train_rows
    if limit and limit < len(train):
        _, train = stratified_split(train, limit / len(train), cfg.seed)
    for path in cfg.teacher.labelled:
        rows = [r for r in read_records(Path(path)) if r.label is not None]
        print(f"[teacher] + {len(rows)} labelled rows from {path}")
        train += rows
    fit(train, val, paths.teacher_run, cfg.teacher.fit, use_teacher_scores=False)
    return paths.teacher_model


def teacher_spec(cfg: PipelineConfig, paths: WorkPaths, override: str | None) -> str:
    if override or cfg.teacher.spec:
        return str(override or cfg.teacher.spec)
    if cfg.teacher.score_with_onnx:
        return str(paths.teacher_artifact)
    return str(paths.teacher_model)


def export_teacher(cfg: PipelineConfig, paths: WorkPaths) -> None:
    """The reference teacher as an int8 ONNX artifact, with its parity against PyTorch."""
    out = paths.teacher_artifact
    if (out / "parity.json").is_file():
        return
    summary = json.loads((paths.teacher_model / SUMMARY_FILE).read_text())
    threshold = float(summary["val"]["threshold"])
    layout = pair_layout(summary)  # a teacher trained in a pair layout is exported in it
    max_length = cfg.teacher.score_max_length
    export_artifact(
        paths.teacher_model, out, name="reference-teacher", version="0.1.0",
        base_model=cfg.teacher.fit.base_model, max_length=max_length,
        threshold=threshold, keep_fp32=cfg.export.keep_fp32, pair_layout=layout,
        metrics={"validation": summary["val"]},
    )  # fmt: skip
    val = read_records(paths.val)
    if cfg.teacher.fit.max_val_rows and cfg.teacher.fit.max_val_rows < len(val):
        _, val = stratified_split(val, cfg.teacher.fit.max_val_rows / len(val), cfg.seed)
    parity = measure_parity(paths.teacher_model, out, val, max_length, threshold, layout)
    print(f"[teacher] int8 ONNX teacher {describe_parity(parity)}")
    (out / "parity.json").write_text(json.dumps({"accepted": parity}, indent=2) + "\n")


def score_split(rows: list[Record], spec: str, cfg: PipelineConfig, cache: Path) -> list[Record]:
    teacher = load_teacher(spec, cache_path=cache, max_length=cfg.teacher.score_max_length,
                           batch_size=cfg.teacher.score_batch_size)  # fmt: skip
    scores = teacher.score([r.pair for r in rows])
    return [replace(r, teacher_score=s) for r, s in zip(rows, scores, strict=True)]


def score_augmentation(cfg: PipelineConfig, paths: WorkPaths, source: Path) -> Path:
    """An augmentation file rescored by this run's teacher, hard labels dropped (cached).

    Generated rows have no human label: whatever label the file carries is an earlier
    teacher's thresholded guess, so they learn from this teacher's soft score alone.
    """
    out = paths.scored_augment(source)
    if out.is_file():
        return out
    rows = [replace(r, label=None) for r in read_records(source)]
    write_records(out, score_split(rows, teacher_spec(cfg, paths, None), cfg, paths.cache))
    print(f"[teacher] scored {len(rows)} augmentation rows of {source} -> {out}")
    return out


def score_dev_sets(cfg: PipelineConfig, paths: WorkPaths, spec: str) -> None:
    """The dev sets with the teacher's scores (fidelity is measured on them)."""
    for name, path in paths.dev_sets.items():
        out = paths.scored_dev(name)
        if not out.is_file():
            write_records(out, score_split(read_records(path), spec, cfg, paths.cache))


def run(cfg: PipelineConfig, *, spec: str | None = None, score: bool = True) -> str:
    paths = WorkPaths(Path(cfg.work_dir))
    if not (spec or cfg.teacher.spec):
        train_reference_teacher(cfg, paths)
        if cfg.teacher.score_with_onnx:
            export_teacher(cfg, paths)
    chosen = teacher_spec(cfg, paths, spec)
    if score and not paths.scored_train.is_file():
        train = read_records(paths.train)
        limit = cfg.teacher.score_train_rows
        if limit and limit < len(train):
            # Scoring is the teacher's main cost; unscored rows train with plain cross-entropy.
            rest, chosen_rows = stratified_split(train, limit / len(train), cfg.seed + 1)
        else:
            rest, chosen_rows = [], train
        scored = score_split(chosen_rows, chosen, cfg, paths.cache)
        write_records(paths.scored_train, scored + rest)
        # Validation rows keep their hard labels only: they choose checkpoints and thresholds.
        write_records(paths.scored_val, read_records(paths.val))
        print(f"[teacher] scored {len(scored)} of {len(train)} training rows -> "
              f"{paths.scored_train}")  # fmt: skip
    if score:
        score_dev_sets(cfg, paths, chosen)
    return chosen
