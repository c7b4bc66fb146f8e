"""Runs one stage or the whole reference pipeline (`all`), each stage resuming from disk."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from train.base_models import describe_model
from train.config import PipelineConfig
from train.evaluation.report import EvalReport
from train.stages import (
    data,
    distill,
    evaluate,
    export,
    teacher,
    teacher_categories,
    teacher_crossfit,
)
from train.work_paths import WorkPaths

# The sets the card compares; DICES is left to the student's report to save teacher time.
TEACHER_EVAL_SETS = ("oai", "toxicchat", "harmbench", "xstest")


def _start_teacher_eval(config: Path, cfg: PipelineConfig, data_dir: Path, spec: str,
                        out: Path) -> subprocess.Popen[bytes] | None:  # fmt: skip
    """Evaluate the teacher in a second process while the student is exported and evaluated."""
    if (out / "eval.json").is_file():
        return None
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "train", "evaluate", spec, "--config", str(config),
           "--work-dir", cfg.work_dir, "--data-dir", str(data_dir), "--name", "teacher",
           "--out", str(out), "--sets", *TEACHER_EVAL_SETS]  # fmt: skip
    log = (out / "evaluate.log").open("wb")
    print(f"[all] evaluating the teacher in the background: {' '.join(cmd)}")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)


def run_all(cfg: PipelineConfig, data_dir: Path, config: Path) -> None:
    from train.card import write_model_card

    paths = WorkPaths(Path(cfg.work_dir))
    timings: dict[str, float] = {}

    def timed(stage: str, start: float) -> None:
        timings[stage] = round(time.perf_counter() - start, 1)
        print(f"[all] {stage} done in {timings[stage]:.0f}s")

    t = time.perf_counter()
    data.run(cfg, data_dir)
    timed("data", t)
    t = time.perf_counter()
    teacher_spec = teacher.run(cfg)
    timed("teacher", t)
    t = time.perf_counter()
    distill.run(cfg, data_dir)
    timed("distill", t)
    # The teacher's evaluation overlaps export and the student's evaluation, not training:
    # on 2 shared cores it would slow distillation as much as it saves.
    teacher_eval = _start_teacher_eval(config, cfg, data_dir, teacher_spec,
                                       paths.eval_dir("teacher"))  # fmt: skip
    t = time.perf_counter()
    artifact = export.run(cfg, teacher=_teacher_name(cfg, teacher_spec))
    timed("export", t)
    t = time.perf_counter()
    student = evaluate.run(cfg, data_dir, artifact, name="student (int8 ONNX)",
                           out_dir=paths.eval_dir("student"))  # fmt: skip
    publish_eval(paths, artifact)
    timed("evaluate student", t)
    t = time.perf_counter()
    if teacher_eval is not None and teacher_eval.wait() != 0:
        raise RuntimeError(f"teacher evaluation failed: see {paths.eval_dir('teacher')}")
    timed("wait for the teacher's evaluation", t)
    teacher_json = paths.eval_dir("teacher") / "eval.json"
    teacher_report = EvalReport.from_json(json.loads(teacher_json.read_text()))
    write_model_card(cfg, artifact, student, teacher_report, timings)
    (paths.root / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")


def publish_eval(paths: WorkPaths, artifact: Path) -> None:
    """The student's saved evaluation beside the artifact, so the card and its files agree."""
    for name in ("eval.md", "eval.json", "pr_curve.png"):
        shutil.copyfile(paths.eval_dir("student") / name, artifact / name)


def rewrite_card(cfg: PipelineConfig) -> None:
    """The card and the artifact's evaluation files again from the saved reports (e.g. after
    editing `card_notes`, or after `evaluate` of a new export)."""
    from train.card import write_model_card

    paths = WorkPaths(Path(cfg.work_dir))
    publish_eval(paths, Path(cfg.export.out_dir))
    reports = [
        EvalReport.from_json(json.loads((paths.eval_dir(n) / "eval.json").read_text()))
        for n in ("student", "teacher")
    ]
    timings_file = paths.root / "timings.json"
    timings = json.loads(timings_file.read_text()) if timings_file.is_file() else {}
    out = write_model_card(cfg, Path(cfg.export.out_dir), reports[0], reports[1], timings)
    print(f"[card] wrote {out}")


def _teacher_name(cfg: PipelineConfig, spec: str) -> str:
    if cfg.teacher.spec:
        return cfg.teacher.spec
    fit = cfg.teacher.fit
    return (
        f"reference teacher: {describe_model(fit.base_model)}, top layers fine-tuned on the seed "
        f"mix; scored through {spec}"
    )


def run_experiment_command(args: argparse.Namespace, cfg: PipelineConfig, data_dir: Path) -> None:
    from train.stages import experiment

    exp = experiment.load_experiment_config(cfg.experiment)
    if args.baseline:
        exp.arm(args.baseline)  # an unknown arm fails here
        exp = dataclasses.replace(exp, baseline=args.baseline)
    arms = args.arms.split(",") if args.arms else list(exp.arms)
    for arm in arms:
        exp.arm(arm)
    seeds = exp.seeds[: args.seeds] if args.seeds else exp.seeds
    if args.report_only:
        experiment.summarize(WorkPaths(Path(cfg.work_dir)), exp, arms, seeds)
        return
    if args.teacher_gap:
        from train.stages.teacher_gap import write_teacher_gap

        write_teacher_gap(WorkPaths(Path(cfg.work_dir)), exp, arms, seeds)
        return
    data.run(cfg, data_dir)
    teacher.run(cfg)
    experiment.run_experiment(cfg, exp, data_dir, arms, seeds)


def dispatch(command: str, args: argparse.Namespace, cfg: PipelineConfig, data_dir: Path) -> int:
    paths = WorkPaths(Path(cfg.work_dir))
    if command == "data":
        data.run(cfg, data_dir, force=args.force)
    elif command == "teacher":
        teacher.run(cfg, spec=args.spec, score=not args.no_score)
    elif command == "teacher-categories":
        teacher_categories.run(cfg)
    elif command == "teacher-crossfit":
        teacher_crossfit.run(cfg)
    elif command == "distill":
        distill.run(cfg, data_dir, augment=args.augment, run_name=args.run_name)
    elif command == "export":
        export.run(cfg, model_dir=args.model, out_dir=args.out,
                   teacher=_teacher_name(cfg, teacher.teacher_spec(cfg, paths, None)))  # fmt: skip
    elif command == "evaluate":
        if args.sets:
            cfg.evaluate.sets = list(args.sets)
        target = args.target or Path(cfg.export.out_dir)
        evaluate.run(cfg, data_dir, target, name=args.name, out_dir=args.out,
                     with_latency=not args.no_latency)  # fmt: skip
    elif command == "all":
        run_all(cfg, data_dir, args.config)
    elif command == "experiment":
        run_experiment_command(args, cfg, data_dir)
    elif command == "card":
        rewrite_card(cfg)
    return 0
