"""How far each arm's students stand from their teacher on the dev suite.

`python -m train experiment --teacher-gap --work-dir W --arms A,B --seeds 3` reads the runs'
saved scores (nothing is retrained) and writes `experiment/teacher-gap.md`: per dev set with
the teacher's scores, on its prompts alone (rows without a response), AUPRC and the shares of
safe rows flagged and harmful rows caught, for the teacher and for the arm's students, each at
its own threshold by the experiment's rule (`target_fpr` of the dev `threshold_set` safe rows).

It tells a distillation gap (the teacher gets the rows right and its students do not) from a
label or data gap (the teacher gets them wrong too) before another data arm is run.

A dev set without human labels (the held-out transfer text: real chat and in-the-wild prompts)
is judged against the teacher's verdicts instead: the share of its prompts each model flags, and
the students' flags on the prompts the teacher passes and on those it flags. On real traffic it
shows a student that flags more than its teacher does at the same rule, which the labelled dev
sets, mostly constructed, need not show.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt

from train.evaluation.compare import (
    SetScores,
    auprc,
    harmful_caught,
    mean_sd,
    safe_flagged,
)
from train.stages.experiment import (
    ExperimentConfig,
    Run,
    load_runs,
    recorded_responses,
    teacher_threshold,
    teacher_verdicts,
)
from train.work_paths import WorkPaths

GAP_METRICS = {"auprc": auprc, "safe_flagged": safe_flagged, "harmful_caught": harmful_caught}
REPORT_FILE = "teacher-gap.md"
# {dev set: {metric: {"teacher": value, "student": mean over seeds, "student_sd": sd}}}
GapTable = dict[str, dict[str, dict[str, float]]]


def _prompts(run: Run, name: str) -> SetScores:
    """The set's rows without a response (the threshold rule is set on prompts)."""
    s = run.sets[name]
    flags = recorded_responses(run.raw[name])
    keep = np.ones(len(s.labels), dtype=bool) if flags is None else ~flags
    teacher = None if s.teacher is None else s.teacher[keep]
    return SetScores(s.labels[keep], s.scores[keep], teacher)


def _against_teacher_verdicts(
    runs: list[Run], verdicts: npt.NDArray[np.float64], name: str
) -> dict[str, dict[str, float]]:
    """An unlabelled set: the teacher's verdicts on its prompts stand in for the labels."""
    prompts = ~np.isnan(verdicts)
    students = [(r.sets[name].scores, r.threshold) for r in runs]

    def row(teacher: float, per_seed: list[float]) -> dict[str, float]:
        mean, sd = mean_sd(per_seed)
        return {"teacher": teacher, "student": mean, "student_sd": sd}

    return {
        "flagged": row(
            float(verdicts[prompts].mean()),
            [float((s >= thr)[prompts].mean()) for s, thr in students],
        ),
        "flagged_where_teacher_passes": row(
            0.0, [safe_flagged(verdicts, s, thr) for s, thr in students]
        ),
        "flagged_where_teacher_flags": row(
            1.0, [harmful_caught(verdicts, s, thr) for s, thr in students]
        ),
    }


def gap_table(runs: list[Run], exp: ExperimentConfig) -> GapTable:
    """One arm's table; its teacher is the same in every seed (they differ in the student)."""
    if not runs:
        return {}
    first = runs[0]
    teacher_at = teacher_threshold(first, exp)
    if teacher_at is None:
        return {}
    table: GapTable = {}
    for name in sorted(first.sets):
        if not name.startswith("dev/"):
            continue
        verdicts = teacher_verdicts(first, name, exp)
        if verdicts is not None:
            table[name] = _against_teacher_verdicts(runs, verdicts, name)
            continue
        t = _prompts(first, name)
        if t.teacher is None or not (t.labels == 0).any() or not (t.labels == 1).any():
            continue
        students = [(_prompts(r, name), r.threshold) for r in runs]
        table[name] = {}
        for metric, fn in GAP_METRICS.items():
            mean, sd = mean_sd([fn(s.labels, s.scores, at) for s, at in students])
            table[name][metric] = {
                "teacher": fn(t.labels, t.teacher, teacher_at),
                "student": mean,
                "student_sd": sd,
            }
    return table


def markdown(tables: dict[str, GapTable], exp: ExperimentConfig) -> str:
    lines = [
        "# The students against their teacher on the dev suite",
        "",
        f"Prompts alone (rows without a response). Each model at its own threshold: "
        f"{exp.target_fpr:.0%} of the dev `{exp.threshold_set}` safe prompts flagged. Students: "
        "mean ± sd over seeds. A set without human labels is judged against the teacher's "
        "verdicts: the share of its prompts flagged, and the students' flags where the teacher "
        "passes a prompt and where it flags one.",
        "",
        "| arm | set | metric | teacher | students | students - teacher |",
        "|---|---|---|---|---|---|",
    ]
    for arm, table in tables.items():
        for name, metrics in table.items():
            for metric, v in metrics.items():
                diff = v["student"] - v["teacher"]
                shown = "–" if math.isnan(diff) else f"{diff:+.3f}"
                lines.append(
                    f"| `{arm}` | {name} | {metric} | {v['teacher']:.3f} | "
                    f"{v['student']:.3f} ± {v['student_sd']:.3f} | {shown} |"
                )
    return "\n".join(lines) + "\n"


def write_teacher_gap(
    paths: WorkPaths, exp: ExperimentConfig, arms: list[str], seeds: list[int]
) -> Path:
    tables = {arm: gap_table(load_runs(paths, exp, arm, seeds), exp) for arm in arms}
    out = paths.root / "experiment" / REPORT_FILE
    out.write_text(markdown(tables, exp))
    print(out.read_text())
    return out
