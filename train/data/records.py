"""`Record`: the one row format every loader, the training mix and the augmentation share.

A record is a (prompt, response) pair with a hard label (1 = harmful) when a human or a judge
gave one. Augmented rows add the teacher's soft score. JSONL(.gz) is the on-disk format.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any


@dataclass(frozen=True, slots=True)
class Record:
    prompt: str
    response: str | None
    label: int | None  # 1 = harmful, 0 = safe, None = unknown (teacher score only)
    source: str
    category: str | None = None
    teacher_score: float | None = field(default=None, compare=False)
    variant: str | None = field(default=None, compare=False)

    @property
    def pair(self) -> tuple[str, str | None]:
        return (self.prompt, self.response)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Record:
        label = row.get("label")
        score = row.get("teacher_score")
        return cls(
            prompt=str(row["prompt"]),
            response=row.get("response") or None,
            label=None if label is None else int(label),
            source=str(row.get("source") or "unknown"),
            category=row.get("category"),
            teacher_score=None if score is None else float(score),
            variant=row.get("variant"),
        )


_SPACES = re.compile(r"\s+")
_PUNCT_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


def normalise_text(text: str) -> str:
    """Casefolded, NFKC, whitespace-collapsed, edge punctuation stripped: the dedup/leak key."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _SPACES.sub(" ", text).strip()
    return _PUNCT_EDGES.sub("", text)


def _open_text(path: Path, mode: str) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return path.open(mode, encoding="utf-8")


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with _open_text(Path(path), "r") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def read_records(path: Path) -> list[Record]:
    return [Record.from_json(row) for row in read_jsonl(path)]


def write_records(path: Path, records: Iterable[Record]) -> int:
    """JSONL (gzip for a .gz suffix), written atomically. Gzip carries no name or timestamp, so
    the same rows give the same bytes (generated datasets are committed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".tmp-" + path.name)
    lines = [json.dumps(record.to_json(), ensure_ascii=False) + "\n" for record in records]
    data = "".join(lines).encode("utf-8")
    if path.suffix == ".gz":
        with (
            tmp.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as fh,
        ):
            fh.write(data)
    else:
        tmp.write_bytes(data)
    tmp.replace(path)
    return len(lines)
