"""Near-duplicate detection by word n-gram Jaccard similarity, with an exact-key shortcut.

Keys are `normalise_text` (casefold, NFKC, collapsed spaces). Candidates come from an inverted
index over n-grams with prefix filtering: a text that shares >= t of its n-grams with another
must share one of its |A| - ceil(t|A|) + 1 rarest ones, so only those postings are scanned and
the search stays exact without comparing against every stored text.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict

from train.data.records import normalise_text

_TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int) -> frozenset[str]:
    words = _TOKEN.findall(normalise_text(text))
    if len(words) < n:
        return frozenset([" ".join(words)]) if words else frozenset()
    return frozenset(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


class NearDuplicateIndex:
    """Texts added so far; `match(text)` returns the first stored label it duplicates."""

    def __init__(self, threshold: float = 0.6, n: int = 2) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self.n = n
        self._exact: dict[str, str] = {}
        self._sets: list[frozenset[str]] = []
        self._labels: list[str] = []
        self._postings: dict[str, list[int]] = defaultdict(list)

    def __len__(self) -> int:
        return len(self._sets)

    def add(self, text: str, label: str) -> None:
        self._exact.setdefault(normalise_text(text), label)
        grams = shingles(text, self.n)
        idx = len(self._sets)
        self._sets.append(grams)
        self._labels.append(label)
        for gram in grams:
            self._postings[gram].append(idx)

    def match(self, text: str) -> tuple[str, float] | None:
        """(label, similarity) of a stored duplicate of `text` (1.0 = exact), or None."""
        exact = self._exact.get(normalise_text(text))
        if exact is not None:
            return exact, 1.0
        grams = shingles(text, self.n)
        if not grams:
            return None
        rarest = sorted(grams, key=lambda g: len(self._postings.get(g, ())))
        needed = math.ceil(self.threshold * len(grams))
        seen: set[int] = set()
        for gram in rarest[: len(grams) - needed + 1]:
            for idx in self._postings.get(gram, ()):
                if idx in seen:
                    continue
                seen.add(idx)
                sim = jaccard(grams, self._sets[idx])
                if sim >= self.threshold:
                    return self._labels[idx], sim
        return None
