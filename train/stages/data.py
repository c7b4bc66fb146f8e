"""Stage `data`: build the seed mix, hold out the dev suite, decontaminate, split, write.

Decontamination is two checks against every eval set: exact normalised prompt matches, then
near-duplicates (`train.data.decontaminate`: shared word 8-grams, or Jaccard >= 0.7 on short
texts) in prompts and responses. Both counts land in `data/stats.json`; the dev sets go
through the same filter.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from train.config import PipelineConfig
from train.data.decontaminate import (
    EvalIndex,
    decontaminate,
    eval_prompt_keys,
    eval_texts,
    near_duplicates,
)
from train.data.loaders import load_evals
from train.data.mix import (
    assert_no_eval_leakage,
    build_seed_mix,
    describe,
    split_dev,
    stratified_split,
)
from train.data.records import Record, read_records, write_records
from train.work_paths import WorkPaths


def clean(
    rows: list[Record], eval_keys: set[str], index: EvalIndex
) -> tuple[list[Record], dict[str, dict[str, int]]]:
    rows, exact = decontaminate(rows, eval_keys)
    rows, near = near_duplicates(rows, index)
    return rows, {"exact_eval_prompt": dict(exact), "near_duplicate": dict(near)}


def run(cfg: PipelineConfig, data_dir: Path, *, force: bool = False) -> None:
    paths = WorkPaths(Path(cfg.work_dir))
    eval_keys = eval_prompt_keys(data_dir)
    if paths.train.is_file() and paths.val.is_file() and not force:
        print(f"[data] {paths.train.parent} exists; checking it for eval leakage only")
    else:
        index = EvalIndex.build(eval_texts(load_evals(data_dir)))
        mix, dev = split_dev(build_seed_mix(data_dir, cfg.data), cfg.data)
        mix, dropped = clean(mix, eval_keys, index)
        dev_dropped: dict[str, dict[str, dict[str, int]]] = {}
        for name in list(dev):
            dev[name], dev_dropped[name] = clean(dev[name], eval_keys, index)
            write_records(paths.dev_set(name), dev[name])
        train, val = stratified_split(mix, cfg.data.val_fraction, cfg.data.seed)
        write_records(paths.train, train)
        write_records(paths.val, val)
        near = Counter[str](dropped["near_duplicate"])
        stats = {"rows": len(mix), "train": len(train), "val": len(val),
                 "dropped": dropped, "dev": {k: describe(v) for k, v in dev.items()},
                 "dev_dropped": dev_dropped, "by_source": describe(mix)}  # fmt: skip
        paths.data_stats.write_text(json.dumps(stats, indent=2) + "\n")
        print(f"[data] {len(train)} train / {len(val)} val rows; dev sets "
              f"{ {k: len(v) for k, v in dev.items()} }; removed "
              f"{sum(dropped['exact_eval_prompt'].values())} eval prompts and "
              f"{sum(near.values())} near-duplicates: {dict(near)}")  # fmt: skip
    assert_no_eval_leakage(read_records(paths.train), eval_keys, "training")
    assert_no_eval_leakage(read_records(paths.val), eval_keys, "validation")
    print("[data] leakage check passed: no eval prompt in the training or validation split")
