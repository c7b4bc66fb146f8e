"""The clean-up chain with its counts: extract -> rules -> eval leakage -> exact/near duplicates.

Stateful (it remembers every kept instruction), so it must see rows in generation order; a
resumed run replays the raw shards through a fresh filter and gets the same decisions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from train.augment.cleanup import extract_instruction, reject_reason
from train.augment.dedup import NearDuplicateIndex

KEPT = "kept"


@dataclass(frozen=True)
class Verdict:
    instruction: str | None
    reason: str  # KEPT or why it was dropped
    duplicate_of: str | None = None

    @property
    def kept(self) -> bool:
        return self.reason == KEPT


@dataclass
class InstructionFilter:
    """Holds eval prompts (never let through) and the instructions kept so far."""

    eval_prompts: Iterable[str] = ()
    near_threshold: float = 0.6
    eval_threshold: float = 0.8
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._eval = NearDuplicateIndex(self.eval_threshold)
        for i, prompt in enumerate(self.eval_prompts):
            self._eval.add(prompt, f"eval:{i}")
        self._kept = NearDuplicateIndex(self.near_threshold)

    def check(self, raw: str, row_id: str) -> Verdict:
        self.counts["generated"] += 1
        instruction = extract_instruction(raw)
        reason = reject_reason(instruction)
        if reason is not None:
            return self._drop(Verdict(instruction, reason))
        assert instruction is not None
        if self._eval.match(instruction) is not None:
            return self._drop(Verdict(instruction, "eval_match"))
        dup = self._kept.match(instruction)
        if dup is not None:
            label, sim = dup
            kind = "exact_duplicate" if sim >= 1.0 else "near_duplicate"
            return self._drop(Verdict(instruction, kind, duplicate_of=label))
        self._kept.add(instruction, row_id)
        self.counts[KEPT] += 1
        return Verdict(instruction, KEPT)

    def _drop(self, verdict: Verdict) -> Verdict:
        self.counts[verdict.reason] += 1
        return verdict

    @property
    def kept(self) -> int:
        return self.counts[KEPT]
