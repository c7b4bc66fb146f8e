"""The on-disk score cache a scorer sits behind, so re-runs never rescore a pair."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from contract import Pair
from train.scoring.scorer import Scorer

DEFAULT_CACHE = Path(os.environ.get("TEACHER_CACHE", "runs/teacher_cache.sqlite"))


def _key(scorer_id: str, pair: Pair) -> str:
    prompt, response = pair
    raw = "\x1f".join((scorer_id, prompt, "\x00" if response is None else response))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ScoreCache:
    """sqlite table key -> score; safe to share between processes (one writer at a time)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=60)
        self._db.execute("CREATE TABLE IF NOT EXISTS scores (key TEXT PRIMARY KEY, score REAL)")
        self._db.commit()

    def get_many(self, keys: Sequence[str]) -> dict[str, float]:
        found: dict[str, float] = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT key, score FROM scores WHERE key IN ({marks})", chunk)
            found.update(rows)
        return found

    def put_many(self, items: dict[str, float]) -> None:
        self._db.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?)", items.items())
        self._db.commit()


class CachedScorer:
    """Wraps a backend: cached pairs come from disk, the rest are scored in chunks and stored.

    Scores are written after every chunk, so an interrupted labelling run resumes where it was.
    """

    def __init__(self, backend: Scorer, cache: ScoreCache, chunk_size: int = 256) -> None:
        self.backend = backend
        self.cache = cache
        self.chunk_size = chunk_size

    @property
    def scorer_id(self) -> str:
        return self.backend.scorer_id

    def score(self, pairs: list[Pair]) -> list[float]:
        keys = [_key(self.scorer_id, p) for p in pairs]
        known = self.cache.get_many(keys)
        todo = sorted({k: i for i, k in enumerate(keys) if k not in known}.values())
        if todo:
            print(
                f"[teacher] {self.scorer_id}: {len(pairs) - len(todo)} cached, {len(todo)} to score"
            )
        for start in range(0, len(todo), self.chunk_size):
            chunk = todo[start : start + self.chunk_size]
            scores = self.backend.score([pairs[i] for i in chunk])
            fresh = {keys[i]: float(s) for i, s in zip(chunk, scores, strict=True)}
            self.cache.put_many(fresh)
            known.update(fresh)
        return [known[k] for k in keys]
