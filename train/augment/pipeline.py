"""The augmentation run, stage by stage; each stage reads what the previous one stored."""

from __future__ import annotations

import json
import random
from pathlib import Path

from train.augment.config import AugmentConfig
from train.augment.datasheet import render_datasheet
from train.augment.diversity import diversity_report
from train.augment.eda import eda_instructions
from train.augment.filtering import InstructionFilter
from train.augment.generate import Instruction, generate_instructions, raw_store, replay
from train.augment.generators import Generator, build_generator
from train.augment.label import label_instructions
from train.augment.respond import generate_responses, load_responses, wants_response
from train.data.benign_alarming import benign_alarming_prompts
from train.data.loaders import SEEDS, load_evals
from train.data.records import read_records, write_records
from train.scoring import Scorer, load_teacher

SEED_HARMFUL_SETS = ("advbench", "donotanswer")


def seed_harmful_instructions(data_dir: Path) -> list[str]:
    """The seed harmful instructions: few-shot examples and the diversity baseline."""
    return [r.prompt for name in SEED_HARMFUL_SETS for r in SEEDS[name].load(data_dir)]


def eval_prompts(data_dir: Path) -> list[str]:
    """Every eval prompt: used only so that no generated instruction repeats one."""
    return [r.prompt for rows in load_evals(data_dir).values() for r in rows]


def new_filter(cfg: AugmentConfig, data_dir: Path) -> InstructionFilter:
    return InstructionFilter(eval_prompts(data_dir), cfg.near_threshold, cfg.eval_threshold)


def clean_instructions(
    cfg: AugmentConfig, data_dir: Path
) -> tuple[list[Instruction], InstructionFilter]:
    filt = new_filter(cfg, data_dir)
    kept, _ = replay(raw_store(cfg), filt)
    return kept, filt


def instruction_generator(cfg: AugmentConfig) -> Generator:
    return build_generator(
        cfg.generator,
        endpoint=cfg.endpoint,
        tokenizer=cfg.tokenizer,
        batch_size=cfg.batch_size,
        threads=cfg.threads,
    )


def response_generator(cfg: AugmentConfig, instruction_gen: Generator | None) -> Generator:
    if cfg.response_model is None and cfg.response_endpoint is None and instruction_gen:
        return instruction_gen
    return build_generator(
        cfg.response_model or cfg.generator,
        endpoint=cfg.response_endpoint,
        tokenizer=cfg.tokenizer,
        batch_size=cfg.batch_size,
        threads=cfg.threads,
    )


def run_generate(cfg: AugmentConfig, data_dir: Path) -> Generator:
    generator = instruction_generator(cfg)
    pools = {
        "seed_harmful": seed_harmful_instructions(data_dir),
        "benign_alarming": [r.prompt for r in benign_alarming_prompts()],
    }
    generate_instructions(cfg, generator, pools, new_filter(cfg, data_dir))
    record_throughput(cfg, "instructions", generator)
    return generator


def run_respond(cfg: AugmentConfig, data_dir: Path, generator: Generator | None = None) -> None:
    instructions, _ = clean_instructions(cfg, data_dir)
    responder = response_generator(cfg, generator)
    responder.stats = type(responder.stats)()  # count this stage's tokens only
    generate_responses(cfg, responder, instructions)
    record_throughput(cfg, "responses", responder)


def record_throughput(cfg: AugmentConfig, stage: str, generator: Generator) -> None:
    """Append this process's throughput for `stage` (a resumed run adds a line)."""
    if not generator.stats.samples:
        return
    path = cfg.work / "throughput.json"
    seen = json.loads(path.read_text()) if path.is_file() else {}
    seen.setdefault(stage, []).append(f"{generator.stats.summary()} ({cfg.threads} threads)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(seen, indent=2) + "\n")


def labelled_path(cfg: AugmentConfig) -> Path:
    return cfg.work / "labelled.jsonl.gz"


def eda_path(cfg: AugmentConfig) -> Path:
    return cfg.work / "eda.jsonl.gz"


def resolve_teacher(cfg: AugmentConfig) -> str:
    if cfg.teacher is None:
        raise ValueError("no teacher: set `teacher` (a spec for train.scoring.load_teacher)")
    return cfg.teacher


def open_teacher(cfg: AugmentConfig) -> Scorer:
    return load_teacher(
        resolve_teacher(cfg),
        cache_path=cfg.work / "teacher_cache.sqlite",
        max_length=cfg.teacher_max_length,
    )


def run_label(cfg: AugmentConfig, data_dir: Path, teacher: Scorer | None = None) -> Path:
    instructions, _ = clean_instructions(cfg, data_dir)
    rows = label_instructions(
        teacher or open_teacher(cfg), instructions, load_responses(cfg), source=cfg.source
    )
    write_records(labelled_path(cfg), rows)
    print(f"[augment] labelled {len(rows)} rows -> {labelled_path(cfg)}")
    return labelled_path(cfg)


def run_eda(cfg: AugmentConfig, data_dir: Path, teacher: Scorer | None = None) -> Path:
    """The EDA baseline, labelled by the same teacher (prompt-only rows, as its seeds are)."""
    filt = new_filter(cfg, data_dir)
    edited = [
        ins for ins in eda_instructions(
            seed_harmful_instructions(data_dir), per_seed=cfg.eda_per_seed, seed=cfg.seed
        )
        if filt.check(f'"{ins.text}"', ins.id).kept
    ]  # fmt: skip
    rows = label_instructions(teacher or open_teacher(cfg), edited, {}, source="eda")
    write_records(eda_path(cfg), rows)
    print(f"[augment] EDA baseline: {len(rows)} rows -> {eda_path(cfg)} ({dict(filt.counts)})")
    return eda_path(cfg)


def labelled_prefix(
    cfg: AugmentConfig, data_dir: Path, labelled: set[str]
) -> tuple[list[Instruction], InstructionFilter]:
    """Replay the raw rows up to the first kept instruction that has no label yet.

    Generation only appends, so the labels cover a prefix of the raw rows; a generation still
    running must not make the datasheet's counts disagree with the exported rows.
    """
    raw = list(raw_store(cfg).read())
    probe = new_filter(cfg, data_dir)
    cut = len(raw)
    for i, row in enumerate(raw):
        verdict = probe.check(row["raw"], row["id"])
        if verdict.kept and verdict.instruction not in labelled:
            cut = i
            break
    filt = new_filter(cfg, data_dir)
    kept = []
    for row in raw[:cut]:
        verdict = filt.check(row["raw"], row["id"])
        if verdict.kept and verdict.instruction is not None:
            kept.append(Instruction(row["id"], verdict.instruction, row["variant"]))
    return kept, filt


def run_export(cfg: AugmentConfig, data_dir: Path) -> Path:
    """Copy the labelled rows into `out_dir` (gzip) and write DATASHEET.md beside them."""
    rows = read_records(labelled_path(cfg))
    instructions, filt = labelled_prefix(cfg, data_dir, {r.prompt for r in rows})
    out = Path(cfg.out_dir)
    data_file = cfg.data_file
    write_records(data_file, rows)
    responses = sum(1 for r in rows if r.response is not None)
    chosen = sum(wants_response(i.id, cfg.response_share, cfg.seed) for i in instructions)
    seeds = seed_harmful_instructions(data_dir)
    sets = {"HarmAug instructions": [i.text for i in instructions], "seed harmful": seeds}
    if eda_path(cfg).is_file():
        sets["EDA baseline"] = [r.prompt for r in read_records(eda_path(cfg))]
    diversity = diversity_report(sets, size=cfg.diversity_sample, seed=cfg.seed)
    throughput_file = cfg.work / "throughput.json"
    throughput = json.loads(throughput_file.read_text()) if throughput_file.is_file() else {}
    counts = dict(filt.counts)
    stats = {"counts": counts, "rows": len(rows), "pairs": responses, "diversity": diversity}
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    examples = random.Random(cfg.seed).sample(rows, min(8, len(rows)))
    (out / "DATASHEET.md").write_text(
        render_datasheet(
            cfg, counts=counts, rows=rows, responses=responses, chosen=chosen,
            teacher=resolve_teacher(cfg),
            throughput={k: "; ".join(v) for k, v in throughput.items()}, diversity=diversity,
            files={
                data_file.name: f"{len(rows)} rows: {len(rows) - responses} prompt-only, "
                f"{responses} (instruction, response) pairs",
                "stats.json": "the counts and diversity numbers below, machine-readable",
            },
            examples=examples,
        ),
        encoding="utf-8",
    )  # fmt: skip
    print(f"[augment] wrote {data_file} ({len(rows)} rows) and {out / 'DATASHEET.md'}")
    return data_file
