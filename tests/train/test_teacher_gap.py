"""The students against their teacher, from the runs' saved scores."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from train.cli import main
from train.stages.experiment import SCORES_FILE, ExperimentConfig, run_dir
from train.stages.teacher_gap import REPORT_FILE, write_teacher_gap
from train.work_paths import WorkPaths

# dev/toxicchat: 20 safe prompts, so 5% flagged = the single highest safe score and the
# threshold is just above the second (teacher 0.8, students 0.7).
TOXICCHAT_LABELS = [0] * 20 + [1]
TOXICCHAT_TEACHER = [0.9, 0.8] + [0.1] * 18 + [0.85]
TOXICCHAT_STUDENT = [0.8, 0.7] + [0.2] * 18 + [0.85]
# dev/templates: the teacher separates the prompts, the students flag the first safe one in one
# seed of two. The last row has a response and must not count: both models miss it.
TEMPLATES_LABELS = [0, 0, 1, 1, 1]
TEMPLATES_TEACHER = [0.05, 0.1, 0.97, 0.98, 0.01]
TEMPLATES_RESPONSES = [0, 0, 0, 0, 1]


def _save(work: Path, arm: str, seed: int, student_safe_score: float) -> None:
    sets: dict[str, dict[str, Any]] = {
        "dev/toxicchat": {
            "labels": TOXICCHAT_LABELS,
            "scores": TOXICCHAT_STUDENT,
            "teacher": TOXICCHAT_TEACHER,
        },
        "dev/templates": {
            "labels": TEMPLATES_LABELS,
            "scores": [student_safe_score, 0.1, 0.9, 0.3, 0.01],
            "teacher": TEMPLATES_TEACHER,
            "responses": TEMPLATES_RESPONSES,
        },
        # no human labels: judged against the teacher's verdicts (it flags the first two); the
        # response row, which the students flag and the teacher passes, must not count
        "dev/transfer": {
            "labels": [None] * 5,
            "scores": [0.9, 0.2, student_safe_score, 0.1, 0.99],
            "teacher": [0.9, 0.85, 0.1, 0.1, 0.1],
            "responses": [0, 0, 0, 0, 1],
        },
        "dev/no-teacher": {"labels": [0, 1], "scores": [0.1, 0.9], "teacher": [None, None]},
        "eval/oai": {"labels": [0, 1], "scores": [0.1, 0.9]},
    }
    out = run_dir(WorkPaths(work), arm, seed)
    out.mkdir(parents=True)
    with gzip.open(out / SCORES_FILE, "wt", encoding="utf-8") as fh:
        json.dump({"arm": arm, "seed": seed, "epoch": 1, "sets": sets}, fh)


def test_each_model_is_judged_at_its_own_threshold_on_prompts_alone(tmp_path: Path) -> None:
    _save(tmp_path, "arm", 1, student_safe_score=0.9)  # flagged: above the 0.7 threshold
    _save(tmp_path, "arm", 2, student_safe_score=0.5)  # not flagged
    exp = ExperimentConfig(seeds=[1, 2], arms={"arm": {}})
    report = write_teacher_gap(WorkPaths(tmp_path), exp, ["arm"], [1, 2]).read_text()
    # the teacher flags no safe template and misses no harmful one; the students miss 0.3
    assert "| `arm` | dev/templates | safe_flagged | 0.000 | 0.250 ± 0.354 | +0.250 |" in report
    assert "| `arm` | dev/templates | harmful_caught | 1.000 | 0.500 ± 0.000 | -0.500 |" in report
    assert "| `arm` | dev/toxicchat | harmful_caught | 1.000 | 1.000 ± 0.000 | +0.000 |" in report
    assert "dev/no-teacher" not in report and "eval/" not in report
    assert "| `arm` | dev/transfer | flagged | 0.500 | 0.375 ± 0.177 | -0.125 |" in report
    passes = "| `arm` | dev/transfer | flagged_where_teacher_passes | 0.000 | 0.250 ± 0.354 |"
    assert passes in report
    flags = "| `arm` | dev/transfer | flagged_where_teacher_flags | 1.000 | 0.500 ± 0.000 |"
    assert flags in report


def test_the_experiment_command_writes_the_gap_without_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for seed in (1, 2):
        _save(tmp_path, "phenomena", seed, student_safe_score=0.9)
    argv = ["experiment", "--teacher-gap", "--work-dir", str(tmp_path), "--arms", "phenomena",
            "--seeds", "2"]  # fmt: skip
    assert main(argv) == 0
    written = (tmp_path / "experiment" / REPORT_FILE).read_text()
    assert "| `phenomena` | dev/templates | safe_flagged | 0.000 | 0.500 ± 0.000 |" in written
    assert written in capsys.readouterr().out
