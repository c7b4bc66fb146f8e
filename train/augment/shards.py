"""Append-only sharded JSONL: `name-00000.jsonl`, `name-00001.jsonl`, ... under one folder.

Rows are flushed after every batch; a crash can leave at most a torn last line, which reading
skips, so a resumed run continues from the last whole row.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class ShardedJsonl:
    def __init__(self, folder: Path, name: str, rows_per_shard: int = 1000) -> None:
        self.folder = Path(folder)
        self.name = name
        self.rows_per_shard = rows_per_shard

    def shards(self) -> list[Path]:
        return sorted(self.folder.glob(f"{self.name}-[0-9][0-9][0-9][0-9][0-9].jsonl"))

    def read(self) -> Iterator[dict[str, Any]]:
        for shard in self.shards():
            with shard.open(encoding="utf-8") as fh:
                for line in fh:
                    if not line.endswith("\n"):
                        break  # torn write from an interrupted run
                    yield json.loads(line)

    def append(self, rows: list[dict[str, Any]]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        shards = self.shards()
        index = len(shards) - 1 if shards else 0
        current = shards[-1] if shards else None
        count = self._whole_lines(current) if current else 0
        if current is not None and count < self._lines(current):
            self._truncate_torn(current)
        for row in rows:
            if current is None or count >= self.rows_per_shard:
                index = index + 1 if current is not None else index
                current = self.folder / f"{self.name}-{index:05d}.jsonl"
                count = 0
            with current.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
        if current is not None:
            with current.open("a", encoding="utf-8") as fh:
                fh.flush()
                os.fsync(fh.fileno())

    @staticmethod
    def _lines(path: Path) -> int:
        data = path.read_bytes()
        return data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)

    @staticmethod
    def _whole_lines(path: Path) -> int:
        return path.read_bytes().count(b"\n")

    @staticmethod
    def _truncate_torn(path: Path) -> None:
        data = path.read_bytes()
        path.write_bytes(data[: data.rfind(b"\n") + 1])
