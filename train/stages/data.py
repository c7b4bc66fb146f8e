"""Stage `data`: build the seed mix, decontaminate against the eval sets, split, write."""

from __future__ import annotations

import json
from pathlib import Path

from train.config import PipelineConfig
from train.data.mix import (
    assert_no_eval_leakage,
    build_seed_mix,
    decontaminate,
    describe,
    eval_prompt_keys,
    stratified_split,
)
from train.data.records import read_records, write_records
from train.stages.paths import WorkPaths


def run(cfg: PipelineConfig, data_dir: Path, *, force: bool = False) -> None:
    paths = WorkPaths(Path(cfg.work_dir))
    eval_keys = eval_prompt_keys(data_dir)
    if paths.train.is_file() and paths.val.is_file() and not force:
        print(f"[data] {paths.train.parent} exists; checking it for eval leakage only")
    else:
        mix = build_seed_mix(data_dir, cfg.data)
        mix, dropped = decontaminate(mix, eval_keys)
        train, val = stratified_split(mix, cfg.data.val_fraction, cfg.data.seed)
        write_records(paths.train, train)
        write_records(paths.val, val)
        stats = {"rows": len(mix), "train": len(train), "val": len(val),
                 "dropped_as_eval_prompts": dict(dropped), "by_source": describe(mix)}  # fmt: skip
        paths.data_stats.write_text(json.dumps(stats, indent=2) + "\n")
        print(f"[data] {len(train)} train / {len(val)} val rows; removed {sum(dropped.values())} "
              f"rows whose prompt is an eval prompt: {dict(dropped)}")  # fmt: skip
    assert_no_eval_leakage(read_records(paths.train), eval_keys, "training")
    assert_no_eval_leakage(read_records(paths.val), eval_keys, "validation")
    print("[data] leakage check passed: no eval prompt in the training or validation split")
