"""Stage `distill`: the student on the teacher-scored seeds plus optional augmentation files.

Augmentation rows (`--augment`, JSONL(.gz) files or globs, written by `python -m train
augment`) carry the teacher's soft score and possibly no hard label; `train.loss` says how each
kind of row is supervised. They are checked against the eval prompts like the seeds.
"""

from __future__ import annotations

import glob
from pathlib import Path

from train.config import PipelineConfig
from train.data.decontaminate import EvalIndex, eval_prompt_keys, eval_texts, near_duplicates
from train.data.loaders import load_evals
from train.data.mix import assert_no_eval_leakage
from train.data.records import Record, read_records
from train.stages.teacher import score_augmentation
from train.trainer import FitResult, fit
from train.work_paths import WorkPaths


def expand_paths(patterns: list[str]) -> list[Path]:
    found: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) or ([pattern] if Path(pattern).exists() else [])
        if not matches:
            raise FileNotFoundError(f"--augment {pattern!r} matches no file")
        found += [Path(m) for m in matches]
    return found


def load_augmentation(
    patterns: list[str], data_dir: Path, cfg: PipelineConfig | None = None
) -> list[Record]:
    """The rows of every matching file; with `cfg`, rescored by that run's teacher first."""
    rows: list[Record] = []
    for path in expand_paths(patterns):
        if cfg is not None:
            path = score_augmentation(cfg, WorkPaths(Path(cfg.work_dir)), path)
        rows += read_records(path)
    usable = [r for r in rows if r.label is not None or r.teacher_score is not None]
    if len(usable) < len(rows):
        print(f"[distill] dropped {len(rows) - len(usable)} augmentation rows with neither a "
              "label nor a teacher score")  # fmt: skip
    assert_no_eval_leakage(usable, eval_prompt_keys(data_dir), "augmentation")
    kept, near = near_duplicates(usable, EvalIndex.build(eval_texts(load_evals(data_dir))))
    if near:
        print(f"[distill] dropped {sum(near.values())} augmentation rows that near-duplicate "
              f"eval texts: {dict(near)}")  # fmt: skip
    return kept


def run(
    cfg: PipelineConfig, data_dir: Path, *, augment: list[str] | None = None,
    run_name: str = "student",
) -> FitResult:  # fmt: skip
    paths = WorkPaths(Path(cfg.work_dir))
    train, val = read_records(paths.scored_train), read_records(paths.scored_val)
    patterns = cfg.student.augment + list(augment or [])
    if patterns:
        extra = load_augmentation(patterns, data_dir, cfg)
        print(f"[distill] + {len(extra)} augmentation rows from {len(patterns)} pattern(s)")
        train = train + extra
    return fit(train, val, paths.root / run_name, cfg.student.fit, use_teacher_scores=True)
