"""`python -m train <data|teacher|distill|export|evaluate|all|experiment|card|augment|...>`.

Every subcommand takes `--config` (YAML, see train/configs/), `--data-dir` ($DATA_DIR, default
../shared/datasets) and `--work-dir` (overrides the config's, default runs/reference).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from train.stages import augment as augment_stage

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "reference.yaml"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                        help="pipeline YAML (default: %(default)s)")  # fmt: skip
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("DATA_DIR", "../shared/datasets")),
                        help="datasets folder (env DATA_DIR; default %(default)s)")  # fmt: skip
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="where runs are written (default: the config's work_dir)")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("data", help="build the seed mix, decontaminate, split")
    _common(p)
    p.add_argument("--force", action="store_true", help="rebuild even if the split exists")
    p = sub.add_parser("teacher", help="train the reference teacher and score the splits")
    _common(p)
    p.add_argument("--spec", default=None,
                   help="use this teacher instead (HF id/folder, llamaguard:..., "
                        "llamaguard-endpoint:URL|MODEL)")  # fmt: skip
    p.add_argument("--no-score", action="store_true", help="train only, do not score")
    p = sub.add_parser("teacher-categories", help="the teacher's category scores (a probe)")
    _common(p)
    p = sub.add_parser("teacher-crossfit", help="out-of-fold teacher scores of labelled rows")
    _common(p)
    p = sub.add_parser("distill", help="distil the student from the teacher's scores")
    _common(p)
    p.add_argument("--augment", nargs="+", default=[], metavar="PATH",
                   help="augmentation JSONL(.gz) files or globs")  # fmt: skip
    p.add_argument("--run-name", default="student", help="subfolder of the work dir")
    p = sub.add_parser("export", help="ONNX int8 artifact + parity check")
    _common(p)
    p.add_argument("--model", type=Path, default=None, help="HF folder (default: the student)")
    p.add_argument("--out", type=Path, default=None, help="artifact folder (default: config)")
    p = sub.add_parser("evaluate", help="evaluate an artifact or HF model on the eval sets")
    _common(p)
    p.add_argument("target", type=Path, nargs="?", default=None,
                   help="artifact or HF model folder (default: the config's artifact)")  # fmt: skip
    p.add_argument("--name", default=None, help="label in the report")
    p.add_argument("--out", type=Path, default=None, help="report folder")
    p.add_argument("--no-latency", action="store_true")
    p.add_argument("--sets", nargs="+", default=None, metavar="NAME",
                   help="eval sets (default: the config's evaluate.sets)")  # fmt: skip
    p = sub.add_parser("all", help="data -> teacher -> distill -> export -> evaluate -> card")
    _common(p)
    p = sub.add_parser("experiment", help="arms x seeds on the dev suite, with a report")
    _common(p)
    p.add_argument("--arms", default=None,
                   help="comma-separated arm names (default: every arm in the config)")  # fmt: skip
    p.add_argument("--seeds", type=int, default=None,
                   help="use the config's first N seeds (default: all of them)")  # fmt: skip
    p.add_argument("--report-only", action="store_true",
                   help="only rewrite the report from the runs already done")  # fmt: skip
    p.add_argument("--teacher-gap", action="store_true",
                   help="only write experiment/teacher-gap.md: the runs against their teacher "
                        "on the dev suite")  # fmt: skip
    p.add_argument("--baseline", default=None,
                   help="the arm the others are compared with (default: the config's)")  # fmt: skip
    p = sub.add_parser("card", help="rewrite MODEL_CARD.md from the run's saved reports")
    _common(p)
    p = sub.add_parser("response-pairs", help="response-level pairs by construction (issue 14)")
    _common(p)
    p.add_argument("--out", type=Path, default=Path("data/response_pairs"),
                   help="output folder (default: %(default)s)")  # fmt: skip
    p.add_argument("--seed", type=int, default=None, help="default: the config's data seed")
    p = sub.add_parser("category-statements", help="statement-form rows by construction (issue 15)")
    _common(p)
    p.add_argument("--out", type=Path, default=Path("data/category_statements"),
                   help="output folder (default: %(default)s)")  # fmt: skip
    p = sub.add_parser("phenomenon-templates", help="templates for thinly covered phenomena")
    _common(p)
    p.add_argument("--out", type=Path, default=Path("data/phenomenon_templates"),
                   help="output folder (default: %(default)s)")  # fmt: skip
    p = sub.add_parser("counterfactuals", help="counterfactual edits of the seeds (issue 13)")
    _common(p)
    p.add_argument("--out", type=Path, default=Path("data/counterfactuals"),
                   help="output folder (default: %(default)s)")  # fmt: skip
    p.add_argument("--seed", type=int, default=None, help="default: the module's (13)")
    p = sub.add_parser("augment", help="HarmAug augmentation (train.augment)")
    _common(p)
    augment_stage.add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    import torch

    torch.set_num_threads(int(os.environ.get("TRAIN_THREADS", "2")))
    args = build_parser().parse_args(argv)
    from train.config import load_config

    cfg = load_config(args.config)
    if args.work_dir is not None:
        cfg.work_dir = str(args.work_dir)
    data_dir: Path = args.data_dir
    if args.command == "augment":
        return int(augment_stage.run(args) or 0)
    if args.command == "response-pairs":
        return _response_pairs(args, cfg, data_dir)
    if args.command == "category-statements":
        return _category_statements(args, data_dir)
    if args.command == "phenomenon-templates":
        return _phenomenon_templates(args, data_dir)
    if args.command == "counterfactuals":
        return _counterfactuals(args, data_dir)
    from train import pipeline

    return pipeline.dispatch(args.command, args, cfg, data_dir)


def _response_pairs(args: argparse.Namespace, cfg: Any, data_dir: Path) -> int:
    from train.data.response_pairs import write_response_pairs

    seed = cfg.data.seed if args.seed is None else args.seed
    attack = cfg.data.dev_jailbreakbench_attack or "PAIR"
    command = f"python -m train response-pairs --out {args.out} --seed {seed}"
    pairs = write_response_pairs(args.out, data_dir, seed=seed, held_out_attack=attack,
                                 command=command)  # fmt: skip
    print(f"[response-pairs] {len(pairs.train)} train / {len(pairs.dev)} dev rows in {args.out}")
    return 0


def _category_statements(args: argparse.Namespace, data_dir: Path) -> int:
    from train.data.category_statements import write_category_statements

    command = f"python -m train category-statements --out {args.out}"
    built = write_category_statements(args.out, data_dir, command=command)
    rows = f"{len(built.train)} train / {len(built.dev)} dev rows"
    print(f"[category-statements] {rows} in {args.out} ({built.dropped_total} eval near-copies)")
    return 0


def _phenomenon_templates(args: argparse.Namespace, data_dir: Path) -> int:
    from train.data.phenomenon_templates import write_phenomenon_templates

    command = f"python -m train phenomenon-templates --out {args.out}"
    built = write_phenomenon_templates(args.out, data_dir, command=command)
    rows = f"{len(built.train)} train / {len(built.dev)} dev rows"
    print(f"[phenomenon-templates] {rows} in {args.out} ({built.dropped_total} eval near-copies)")
    return 0


def _counterfactuals(args: argparse.Namespace, data_dir: Path) -> int:
    from train.data.counterfactuals import DEFAULT_SEED, write_counterfactuals

    command = f"python -m train counterfactuals --out {args.out}"
    if args.seed is not None:
        command += f" --seed {args.seed}"
    seed = DEFAULT_SEED if args.seed is None else args.seed
    built = write_counterfactuals(args.out, data_dir, seed=seed, command=command)
    print(f"[counterfactuals] {len(built.rows)} rows in {args.out} "
          f"({built.dropped_total} eval near-copies)")  # fmt: skip
    return 0
