"""Stage 1: sample candidate instructions until enough survive the clean-up.

Raw continuations are stored as they came (sharded, resumable); the clean-up is replayed on
them, so changing a filter never needs regeneration. Batch `b` always uses seed `seed + b`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from train.augment.cleanup import is_complete
from train.augment.config import AugmentConfig
from train.augment.filtering import InstructionFilter
from train.augment.generators import Generator, SamplingParams
from train.augment.prompts import ExamplePools, instruction_prompt
from train.augment.shards import ShardedJsonl


@dataclass(frozen=True)
class Instruction:
    id: str
    text: str
    variant: str


def raw_store(cfg: AugmentConfig) -> ShardedJsonl:
    return ShardedJsonl(cfg.work / "raw", "instructions")


def replay(store: ShardedJsonl, filt: InstructionFilter) -> tuple[list[Instruction], int]:
    """Run the stored raw rows through `filt`: the kept instructions and the next batch index."""
    kept: list[Instruction] = []
    next_batch = 0
    for row in store.read():
        verdict = filt.check(row["raw"], row["id"])
        if verdict.kept and verdict.instruction is not None:
            kept.append(Instruction(row["id"], verdict.instruction, row["variant"]))
        next_batch = max(next_batch, int(row["batch"]) + 1)
    return kept, next_batch


def generate_instructions(
    cfg: AugmentConfig,
    generator: Generator,
    pools: ExamplePools,
    filt: InstructionFilter,
) -> list[Instruction]:
    store = raw_store(cfg)
    kept, batch = replay(store, filt)
    variants = [v.variant() for v in cfg.variants]
    weights = [v.weight for v in cfg.variants]
    bar = tqdm(
        total=cfg.target_instructions,
        initial=min(len(kept), cfg.target_instructions),
        desc="instructions",
    )
    while len(kept) < cfg.target_instructions and filt.counts["generated"] < cfg.max_generated:
        rng = random.Random(cfg.seed * 1_000_003 + batch)
        chosen = rng.choices(variants, weights=weights, k=cfg.batch_size)
        prompts = [instruction_prompt(generator.templater, v, pools, rng) for v in chosen]
        params = SamplingParams(
            cfg.instruction_tokens, cfg.temperature, cfg.top_p, seed=cfg.seed + batch
        )
        completions = generator.complete(prompts, params, until=is_complete)
        rows: list[dict[str, Any]] = [
            {"id": f"g{batch:06d}-{i:03d}", "batch": batch, "variant": v.name, "raw": c.text,
             "tokens": c.tokens}
            for i, (v, c) in enumerate(zip(chosen, completions, strict=True))
        ]  # fmt: skip
        store.append(rows)
        before = len(kept)
        for row in rows:
            verdict = filt.check(row["raw"], row["id"])
            if verdict.kept and verdict.instruction is not None:
                kept.append(Instruction(row["id"], verdict.instruction, row["variant"]))
        bar.update(min(len(kept), cfg.target_instructions) - min(before, cfg.target_instructions))
        stats = generator.stats
        bar.set_postfix(
            tok_s=f"{stats.tokens / max(stats.seconds, 1e-9):.0f}",
            samples_s=f"{stats.samples / max(stats.seconds, 1e-9):.2f}",
            kept=f"{filt.kept}/{filt.counts['generated']}",
        )
        batch += 1
    bar.close()
    print(f"[augment] instructions: {generator.stats.summary()}")
    print(f"[augment] clean-up counts: {dict(filt.counts)}")
    return kept
