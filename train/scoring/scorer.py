"""The `Scorer` protocol: what teachers, students and artifacts share when they score pairs."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from contract import Pair


@runtime_checkable
class Scorer(Protocol):
    """Scores pairs with P(harmful) in [0, 1], in input order."""

    @property
    def scorer_id(self) -> str:
        """Names the model and its weights; keys the on-disk score cache."""
        ...

    def score(self, pairs: list[Pair]) -> list[float]: ...
