"""Stage `teacher-crossfit`: out-of-fold teacher scores of the labelled training rows.

The reference teacher learns the labelled training rows and then scores the same rows, so its
scores there repeat the labels (96% within 0.05 of theirs in the reference run): on those rows
the distillation term adds nothing to the cross-entropy, and the student never sees how the
teacher judges a policy template's filler it has not memorised. Cross-fitting gives every
labelled row the score of a teacher that never saw it. The labelled rows are cut into K folds,
grouped so that all fillers of one policy template, and all pair variants of one prompt, fall
in the same fold (a teacher that saw the template would judge a held-out filler by rote, as a
dev suite that holds out whole templates would notice). A teacher is trained on the other
folds with the reference teacher's fit, its draws scaled to the rows it has (the same passes
over each row), and scores its fold in fp32. Unlabelled rows keep the reference teacher's
score: no teacher saw them.

`python -m train teacher-crossfit --work-dir W` (after the `teacher` stage) writes
`teacher-crossfit/teacher_scores/train.jsonl.gz`: the training split, in its order, for an
experiment arm's `teacher_scores: teacher-crossfit/teacher_scores`, and `stats.json` (how close
each source's scores sit to its labels, before and after). Each fold's run and scores resume.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

from train.config import PipelineConfig
from train.data.records import Record, read_records, write_records
from train.stages.teacher import score_split
from train.trainer import FitConfig, fit
from train.work_paths import WorkPaths

CROSSFIT_DIR = "teacher-crossfit"
# A score this close to its row's label only repeats the label to the student.
SATURATED = 0.05


def fold_group(row: Record) -> str:
    """Rows that must share a fold: a policy template's fillers (its `variant` is
    `<template id>:<phenomenon>`), otherwise every row built on the same prompt."""
    if row.source == "policy-templates" and row.variant:
        return "template:" + row.variant.split(":", 1)[0]
    return "prompt:" + row.prompt


def assign_folds(rows: list[Record], folds: int, seed: int) -> list[int]:
    """A fold per row: groups shuffled by `seed`, then each given to the fold with the fewest
    rows of its majority label so far, so every fold holds both classes in like shares."""
    if folds < 2:
        raise ValueError(f"cross-fitting needs at least 2 folds, got {folds}")
    groups: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        groups[fold_group(row)].append(i)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    filled = np.zeros((folds, 2), dtype=np.int64)
    out = [0] * len(rows)
    for key in keys:
        members = groups[key]
        harmful = sum(rows[i].label == 1 for i in members)
        major = int(harmful * 2 >= len(members))
        fold = int(np.argmin(filled[:, major] + filled.sum(axis=1) * 1e-9))
        filled[fold, 1] += harmful
        filled[fold, 0] += len(members) - harmful
        for i in members:
            out[i] = fold
    return out


def closeness(rows: list[Record]) -> dict[str, dict[str, float]]:
    """Per source family: labelled rows, the share whose score sits within SATURATED of the
    label, and the mean distance to it."""
    by: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        if row.label is not None and row.teacher_score is not None:
            distance = abs(row.teacher_score - row.label)
            by[row.source.split(":")[0]].append(distance)
            by["all"].append(distance)
    return {
        source: {
            "rows": len(d),
            "saturated": round(float(np.mean(np.array(d) < SATURATED)), 4),
            "mean_distance": round(float(np.mean(d)), 4),
        }
        for source, d in sorted(by.items())
    }


def run(cfg: PipelineConfig) -> Path:
    paths = WorkPaths(Path(cfg.work_dir))
    root = paths.root / CROSSFIT_DIR
    out = root / "teacher_scores" / "train.jsonl.gz"
    if out.is_file():
        print(f"[teacher-crossfit] {out} exists")
        return out
    reference = read_records(paths.scored_train)
    labelled = [i for i, r in enumerate(reference) if r.label is not None]
    folds = cfg.teacher.crossfit_folds
    fold_of = assign_folds([reference[i] for i in labelled], folds, cfg.seed)
    val = read_records(paths.val)
    extra = [r for path in cfg.teacher.labelled for r in read_records(Path(path))]
    extra = [r for r in extra if r.label is not None]
    scored = list(reference)
    for fold in range(folds):
        held = [i for i, f in zip(labelled, fold_of, strict=True) if f == fold]
        rest = [reference[i] for i, f in zip(labelled, fold_of, strict=True) if f != fold]
        print(f"[teacher-crossfit] fold {fold + 1}/{folds}: a teacher on {len(rest)} rows "
              f"scores {len(held)}")  # fmt: skip
        result = fit(rest + extra, val, root / f"fold-{fold + 1}", _fold_fit(cfg, folds),
                     use_teacher_scores=False)  # fmt: skip
        fold_rows = score_split([reference[i] for i in held], str(result.best_dir), cfg,
                                root / "scores_cache.sqlite")  # fmt: skip
        for i, row in zip(held, fold_rows, strict=True):
            scored[i] = row
    write_records(out, scored)
    before, after = closeness(reference), closeness(scored)
    stats = {"folds": folds, "reference": before, "crossfit": after}
    (root / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    share = before["all"]["saturated"], after["all"]["saturated"]
    print(f"[teacher-crossfit] labelled rows within {SATURATED} of their label: "
          f"{share[0]:.1%} -> {share[1]:.1%}; -> {out}")  # fmt: skip
    return out


def _fold_fit(cfg: PipelineConfig, folds: int) -> FitConfig:
    """The reference teacher's fit with its draws scaled to a fold teacher's share of rows."""
    fit_cfg = cfg.teacher.fit
    if fit_cfg.samples_per_epoch is None:
        return fit_cfg
    return replace(fit_cfg, samples_per_epoch=fit_cfg.samples_per_epoch * (folds - 1) // folds)
