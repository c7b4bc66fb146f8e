"""Stage `teacher-categories`: the teacher's category scores, for the students' heads to distil.

A category probe is fitted on the reference teacher's frozen features, as on a student's
(`train.category_probe`): P(hazard | harmful) from the training rows whose source names their
hazards, plus the teacher's `labelled` rows. Read out on every training row, it gives a soft
target per hazard where no source names one (the harmful ToxicChat and AdvBench rows, the
unlabelled Do-Not-Answer and transfer rows), so a student's probe learns from the teacher
there (cross-entropy to a soft target = KL per hazard), each row weighted by how harmful it is.

`python -m train teacher-categories --work-dir W` (after the `teacher` stage) writes
`teacher_scores/train.categories.npy`: one row of 14 scores per row of
`teacher_scores/train.jsonl.gz`, in its order; NaN for the rows that could teach nothing
(labelled safe, or scored under MIN_WEIGHT), which are not read out. It needs a teacher with a
classification head (the reference teacher); a hub guard such as Llama Guard names its
categories itself. A teacher trained with its own conditional category head
(`teacher.fit.categories` and `category_conditional`, train/configs/teacher-e2e.yaml) is read
out directly: its head learnt P(hazard | harmful) end to end, and no probe is fitted.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from train.category_probe import classifier_inputs, fit_probe
from train.config import PipelineConfig
from train.data.hazards import hazard_matrix
from train.data.records import Record, read_records
from train.modeling import Classifier, is_conditional
from train.training_summary import SUMMARY_FILE, pair_layout
from train.work_paths import WorkPaths

CATEGORIES_FILE = "train.categories.npy"
# A row the teacher finds less harmful than this teaches P(hazard | harmful) almost nothing
# (its weight is its harmfulness) and is left out, to save the student's feature pass.
MIN_WEIGHT = 0.05


def categories_path(teacher_scores: Path) -> Path:
    return teacher_scores / CATEGORIES_FILE


def run(cfg: PipelineConfig, seed: int = 1) -> Path:
    paths = WorkPaths(Path(cfg.work_dir))
    out = categories_path(paths.scored_train.parent)
    if out.is_file():
        print(f"[teacher-categories] {out} exists")
        return out
    summary = json.loads((paths.teacher_model / SUMMARY_FILE).read_text())
    clf = Classifier.load(
        paths.teacher_model, cfg.teacher.score_max_length, layout=pair_layout(summary)
    )
    train = read_records(paths.scored_train)
    if clf.has_categories:
        table = _head_scores(clf, train, cfg.teacher.score_batch_size)
    else:
        table = _probe_scores(clf, train, cfg, seed)
    np.save(out, table)
    print(f"[teacher-categories] {len(train)} rows -> {out}")
    return out


def _head_scores(clf: Classifier, train: list[Record], batch_size: int) -> npt.NDArray[np.float32]:
    """The teacher's own head, P(hazard | harmful), on the rows that can teach (NaN elsewhere)."""
    if not is_conditional(clf.model):
        raise ValueError("the teacher's category head must be conditional (P(hazard | harmful))")
    wanted = _can_teach(train)
    print(f"[teacher-categories] the teacher's own head on {int(wanted.sum())} of {len(train)}")
    picked = [train[i].pair for i in np.flatnonzero(wanted)]
    _, cats = clf.predict_all(picked, batch_size, desc="teacher head", exposed=False)
    assert cats is not None
    table = np.full((len(train), cats.shape[1]), np.nan, dtype=np.float32)
    table[wanted] = cats
    return table


def _probe_scores(
    clf: Classifier, train: list[Record], cfg: PipelineConfig, seed: int
) -> npt.NDArray[np.float32]:
    """A probe on the teacher's frozen features, read out on the rows that can teach."""
    extra = [r for path in cfg.teacher.labelled for r in read_records(Path(path))]
    extra = [r for r, t in zip(extra, hazard_matrix(extra, True), strict=True) if _named(t)]
    rows = train + extra  # the training split is read out; the extra rows only fit the probe
    targets = hazard_matrix(rows, conditional=True)
    known = ~np.isnan(targets).all(axis=1)
    # the rows `soft_targets` can give a weight: the others are not read out (NaN), which
    # saves most of the teacher's feature pass
    wanted = np.concatenate([_can_teach(train), np.zeros(len(extra), dtype=bool)])
    needed = np.flatnonzero(known | wanted)
    print(f"[teacher-categories] teacher features of {len(needed)} of {len(rows)} rows; the "
          f"probe fits on the {int(known.sum())} with named hazards")  # fmt: skip
    picked = classifier_inputs(clf, [rows[i] for i in needed], cfg.teacher.score_batch_size)
    features = np.zeros((len(rows), picked.shape[1]), dtype=np.float32)
    features[needed] = picked
    weight, bias = fit_probe(features[known], targets[known], seed=seed)
    logits = torch.nn.functional.linear(torch.from_numpy(features[: len(train)]), weight, bias)
    table = torch.sigmoid(logits).numpy().astype(np.float32)
    table[~wanted[: len(train)]] = np.nan
    return table


def _can_teach(rows: list[Record]) -> npt.NDArray[np.bool_]:
    """The rows `soft_targets` can give a weight (the others are not read out)."""
    return np.array([_harm(r) >= MIN_WEIGHT for r in rows], dtype=bool)


def _harm(r: Record) -> float:
    """How much a row can teach P(hazard | harmful): 1 if labelled harmful, its teacher score
    if unlabelled, 0 if labelled safe."""
    return 1.0 if r.label == 1 else (r.teacher_score or 0.0) if r.label is None else 0.0


def _named(targets: npt.NDArray[np.float32]) -> bool:
    return not bool(np.isnan(targets).all())


def soft_targets(
    rows: list[Record], teacher_scores: Path
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """(targets, weights) for `rows` from the teacher's category scores: each row whose source
    names no hazard and that is harmful (label 1: weight 1) or may be (no label: weight = the
    teacher's score, rows under MIN_WEIGHT left out) takes the teacher's scores; the others
    NaN and weight 0. Rows are matched by (prompt, response) to the teacher's training split."""
    scored = read_records(teacher_scores / "train.jsonl.gz")
    table = np.load(categories_path(teacher_scores))
    if len(table) != len(scored):
        raise ValueError(f"{teacher_scores}: {len(table)} category rows for {len(scored)} rows")
    by_pair = {r.pair: i for i, r in enumerate(scored)}
    targets = np.full((len(rows), table.shape[1]), np.nan, dtype=np.float32)
    weights = np.zeros(len(rows), dtype=np.float32)
    for i, r in enumerate(rows):
        j = by_pair.get(r.pair)
        if j is None or _harm(r) < MIN_WEIGHT or np.isnan(table[j]).all():
            continue
        targets[i], weights[i] = table[j], _harm(r)
    return targets, weights
