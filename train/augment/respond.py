"""Stage 2: a second model call answers a share of the instructions; the rest stay prompt-only.

Which instructions get a response is a hash of (seed, id), so the choice survives a resume and
does not depend on order. Responses are stored per id, sharded, and skipped when already there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from tqdm import tqdm

from train.augment.config import AugmentConfig
from train.augment.generate import Instruction
from train.augment.generators import Generator, SamplingParams
from train.augment.prompts import response_prompt
from train.augment.shards import ShardedJsonl


def response_store(cfg: AugmentConfig) -> ShardedJsonl:
    return ShardedJsonl(cfg.work / "responses", "responses")


def wants_response(row_id: str, share: float, seed: int) -> bool:
    digest = hashlib.sha256(f"{seed}:{row_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def clean_response(text: str) -> str | None:
    text = text.strip()
    return text or None


def load_responses(cfg: AugmentConfig) -> dict[str, str | None]:
    return {row["id"]: row["response"] for row in response_store(cfg).read()}


def generate_responses(
    cfg: AugmentConfig, generator: Generator, instructions: Sequence[Instruction]
) -> dict[str, str | None]:
    store = response_store(cfg)
    done = load_responses(cfg)
    todo = [
        ins
        for ins in instructions
        if wants_response(ins.id, cfg.response_share, cfg.seed) and ins.id not in done
    ]
    # Similar prompt lengths per batch waste less compute on padding.
    todo.sort(key=lambda ins: len(ins.text))
    bar = tqdm(total=len(todo), desc="responses")
    for start in range(0, len(todo), cfg.batch_size):
        chunk = todo[start : start + cfg.batch_size]
        prompts = [response_prompt(generator.templater, ins.text) for ins in chunk]
        params = SamplingParams(
            cfg.response_tokens, cfg.response_temperature, cfg.top_p, seed=cfg.seed + start
        )
        completions = generator.complete(prompts, params)
        rows: list[dict[str, Any]] = [
            {"id": ins.id, "response": clean_response(c.text), "tokens": c.tokens}
            for ins, c in zip(chunk, completions, strict=True)
        ]
        store.append(rows)
        done.update({row["id"]: row["response"] for row in rows})
        bar.update(len(chunk))
        stats = generator.stats
        bar.set_postfix(
            tok_s=f"{stats.tokens / max(stats.seconds, 1e-9):.0f}",
            samples_s=f"{stats.samples / max(stats.seconds, 1e-9):.2f}",
        )
    bar.close()
    print(f"[augment] responses: {generator.stats.summary()}")
    return done
