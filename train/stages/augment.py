"""Stage `augment` (`python -m train augment`): the HarmAug steps, each resumable, in order.

The steps themselves are `train.augment`'s; this stage gives them the pipeline run's teacher
when none is named, and runs the ablation (`train.stages.ablation`) as its last step.
`train/cli.py` adds the shared options (`--config` = the pipeline YAML whose work dir holds the
reference teacher, `--data-dir`, `--work-dir`) and then calls `add_arguments` and `run`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

STEPS = ("generate", "respond", "label", "eda", "export", "ablation")
DEFAULT_STEPS = ["generate", "respond", "label", "eda", "export"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--steps",
        nargs="+",
        choices=STEPS,
        default=DEFAULT_STEPS,
        help="what to run, in this order (default: %(default)s)",
    )
    parser.add_argument(
        "--augment-config",
        type=Path,
        default=None,
        help="AugmentConfig YAML (keys of train/augment/config.py)",
    )
    parser.add_argument(
        "--aug-dir",
        dest="aug_work_dir",
        default=None,
        help="augmentation work dir (default runs/augment)",
    )
    parser.add_argument("--out-dir", default=None, help="dataset folder (default data/harmaug)")
    parser.add_argument(
        "--generator",
        default=None,
        help="hub id, folder, .gguf path, or served model name with --endpoint",
    )
    parser.add_argument(
        "--endpoint", default=None, help="base URL of an OpenAI-compatible server (/v1/completions)"
    )
    parser.add_argument(
        "--tokenizer",
        default=None,
        help="tokenizer whose chat template renders prompts for an endpoint",
    )
    parser.add_argument("--response-model", default=None)
    parser.add_argument("--response-endpoint", default=None)
    parser.add_argument(
        "--teacher",
        default=None,
        help="teacher spec (default: the --config run's reference teacher)",
    )
    parser.add_argument(
        "--target",
        dest="target_instructions",
        type=int,
        default=None,
        help="clean instructions to reach",
    )
    parser.add_argument("--response-share", type=float, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch threads for generation")
    parser.add_argument(
        "--harmaug-file",
        type=Path,
        nargs="+",
        default=None,
        help="HarmAug file(s) the ablation distils with, one student each "
        "(default: <out-dir>/<source>.jsonl.gz)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=Path("train/reports/ablation.md"),
        help="where the ablation step writes its table",
    )


def default_teacher_spec(pipeline_config: Path | None, work_dir: Path | None = None) -> str:
    """The pipeline run's teacher (its int8 ONNX export if that run scores with it)."""
    # Imported here: `python -m train --help` builds this parser without loading torch.
    from train.config import load_config
    from train.stages.teacher import teacher_spec
    from train.work_paths import WorkPaths

    cfg = load_config(pipeline_config)
    return teacher_spec(cfg, WorkPaths(Path(work_dir or cfg.work_dir)), None)


def run(args: argparse.Namespace) -> int:
    from train.augment import pipeline
    from train.augment.config import load_augment_config

    cfg = load_augment_config(
        args.augment_config,
        work_dir=args.aug_work_dir,
        out_dir=args.out_dir,
        generator=args.generator,
        endpoint=args.endpoint,
        tokenizer=args.tokenizer,
        response_model=args.response_model,
        response_endpoint=args.response_endpoint,
        teacher=args.teacher,
        target_instructions=args.target_instructions,
        response_share=args.response_share,
        batch_size=args.batch_size,
        threads=args.threads,
    )
    if cfg.teacher is None and {"label", "eda", "export", "ablation"} & set(args.steps):
        cfg.teacher = default_teacher_spec(args.config, args.work_dir)
    data_dir: Path = args.data_dir
    generator = None
    for step in args.steps:
        print(f"[augment] step {step}")
        if step == "generate":
            generator = pipeline.run_generate(cfg, data_dir)
        elif step == "respond":
            pipeline.run_respond(cfg, data_dir, generator)
        elif step == "label":
            pipeline.run_label(cfg, data_dir)
        elif step == "eda":
            pipeline.run_eda(cfg, data_dir)
        elif step == "export":
            pipeline.run_export(cfg, data_dir)
        elif step == "ablation":
            from train.stages.ablation import run_ablation

            run_ablation(cfg, args.config, args.work_dir, data_dir, args.report, args.harmaug_file)
    return 0
