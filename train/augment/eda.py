"""The simple baseline from the paper's comparison: EDA-style word edits of seed instructions.

Easy Data Augmentation (Wei & Zou, 2019) without WordNet (not installable offline here): random
swap, random deletion and random insertion of a word already in the sentence. Each seed harmful
instruction yields `per_seed` edited copies; the same teacher labels them as HarmAug's rows.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from train.augment.generate import Instruction

EDITS = ("swap", "delete", "insert")


def edit_words(words: list[str], op: str, alpha: float, rng: random.Random) -> list[str]:
    n = max(1, round(alpha * len(words)))
    out = list(words)
    for _ in range(n):
        if len(out) < 2:
            break
        if op == "swap":
            i, j = rng.sample(range(len(out)), 2)
            out[i], out[j] = out[j], out[i]
        elif op == "delete":
            del out[rng.randrange(len(out))]
        elif op == "insert":
            out.insert(rng.randrange(len(out) + 1), rng.choice(out))
        else:
            raise ValueError(f"unknown edit {op!r}")
    return out


def eda_instructions(
    seeds: Sequence[str], *, per_seed: int = 4, alpha: float = 0.1, seed: int = 0
) -> list[Instruction]:
    rng = random.Random(seed)
    out: list[Instruction] = []
    seen = {s.casefold() for s in seeds}
    for i, text in enumerate(seeds):
        words = text.split()
        for k in range(per_seed):
            op = EDITS[k % len(EDITS)]
            edited = " ".join(edit_words(words, op, alpha, rng))
            if edited.casefold() not in seen:
                seen.add(edited.casefold())
                out.append(Instruction(f"eda{i:05d}-{k}", edited, f"eda-{op}"))
    return out
