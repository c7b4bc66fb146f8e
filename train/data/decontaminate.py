"""Near-duplicate decontamination of training text against every eval set.

Exact matching after normalisation (`normalise_text`) misses paraphrases and wrappers that quote
an eval behaviour: a row is dropped when it shares a word 8-gram with any eval prompt, or, for
short texts, when its word-set Jaccard similarity with an eval prompt reaches 0.7 (short prompts
share few 8-grams but are near-copies at that overlap). Both prompt and response are checked.
An 8-gram found in 3 or more eval texts is boilerplate ("I'm sorry, but I cannot assist with
that request"), not evidence of a copied item, and does not count.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from train.data.loaders import load_evals
from train.data.records import Record, normalise_text

NGRAM = 8
JACCARD = 0.7
# Word sets this small are common phrasings ("how are you"), not evidence of copying.
MIN_JACCARD_WORDS = 4
MAX_JACCARD_WORDS = 24  # longer texts are compared by 8-grams only
BOILERPLATE_TEXTS = 3
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words(text: str) -> list[str]:
    return _WORD.findall(normalise_text(text))


def ngrams(tokens: Sequence[str], n: int = NGRAM) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


@dataclass
class EvalIndex:
    """The eval texts' 8-grams and word sets, with an inverted index for the Jaccard check."""

    grams: dict[tuple[str, ...], str] = field(default_factory=dict)
    word_sets: list[frozenset[str]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    by_word: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def build(cls, texts_by_set: Mapping[str, Iterable[str]]) -> EvalIndex:
        index = cls()
        seen_in: Counter[tuple[str, ...]] = Counter()
        for name, texts in texts_by_set.items():
            for text in texts:
                tokens = words(text)
                for gram in ngrams(tokens):
                    seen_in[gram] += 1
                    index.grams.setdefault(gram, name)
                ws = frozenset(tokens)
                if MIN_JACCARD_WORDS <= len(ws) <= MAX_JACCARD_WORDS:
                    slot = len(index.word_sets)
                    index.word_sets.append(ws)
                    index.names.append(name)
                    for word in ws:
                        index.by_word[word].append(slot)
        for gram, count in seen_in.items():
            if count >= BOILERPLATE_TEXTS:
                del index.grams[gram]
        return index

    def match(self, text: str) -> str | None:
        """The eval set `text` near-duplicates, or None."""
        tokens = words(text)
        for gram in ngrams(tokens):
            if gram in self.grams:
                return self.grams[gram]
        ws = frozenset(tokens)
        if not MIN_JACCARD_WORDS <= len(ws) <= MAX_JACCARD_WORDS:
            return None
        overlap: Counter[int] = Counter()
        for word in ws:
            overlap.update(self.by_word.get(word, ()))
        for slot, shared in overlap.items():
            other = self.word_sets[slot]
            # Jaccard >= t needs shared >= t * |union| >= t * max(len): a cheap bound first.
            bound_ok = shared >= JACCARD * max(len(ws), len(other))
            if bound_ok and shared / len(ws | other) >= JACCARD:
                return self.names[slot]
        return None


def eval_texts(evals: dict[str, list[Record]]) -> dict[str, list[str]]:
    """Every prompt and response of each eval set."""
    return {
        name: [t for r in rows for t in (r.prompt, r.response) if t] for name, rows in evals.items()
    }


def near_duplicates(
    records: Sequence[Record], index: EvalIndex
) -> tuple[list[Record], Counter[str]]:
    """(kept rows, drops counted by "source -> eval set")."""
    kept: list[Record] = []
    dropped: Counter[str] = Counter()
    cache: dict[str, str | None] = {}
    for record in records:
        hit = None
        for text in (record.prompt, record.response):
            if text:
                if text not in cache:
                    cache[text] = index.match(text)
                hit = hit or cache[text]
        if hit:
            dropped[f"{record.source} -> {hit}"] += 1
        else:
            kept.append(record)
    return kept, dropped


def eval_prompt_keys(data_dir: Path) -> set[str]:
    return {normalise_text(r.prompt) for rows in load_evals(data_dir).values() for r in rows}


def decontaminate(records: list[Record], eval_keys: set[str]) -> tuple[list[Record], Counter[str]]:
    """Drop rows whose prompt is an eval prompt; return the kept rows and drops per source."""
    kept, dropped = [], Counter[str]()
    for record in records:
        if normalise_text(record.prompt) in eval_keys:
            dropped[record.source] += 1
        else:
            kept.append(record)
    return kept, dropped
