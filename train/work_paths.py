"""Where each stage writes inside the work dir."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WorkPaths:
    root: Path

    @property
    def train(self) -> Path:
        return self.root / "data" / "train.jsonl.gz"

    @property
    def val(self) -> Path:
        return self.root / "data" / "val.jsonl.gz"

    @property
    def data_stats(self) -> Path:
        return self.root / "data" / "stats.json"

    def dev_set(self, name: str) -> Path:
        return self.root / "data" / "dev" / f"{name}.jsonl.gz"

    @property
    def dev_sets(self) -> dict[str, Path]:
        folder = self.root / "data" / "dev"
        return {p.name.removesuffix(".jsonl.gz"): p for p in sorted(folder.glob("*.jsonl.gz"))}

    @property
    def teacher_run(self) -> Path:
        return self.root / "teacher"

    @property
    def teacher_model(self) -> Path:
        return self.root / "teacher" / "best"

    @property
    def teacher_artifact(self) -> Path:
        return self.root / "teacher" / "onnx"

    @property
    def scored_train(self) -> Path:
        return self.root / "teacher_scores" / "train.jsonl.gz"

    @property
    def scored_val(self) -> Path:
        return self.root / "teacher_scores" / "val.jsonl.gz"

    def scored_dev(self, name: str) -> Path:
        return self.root / "teacher_scores" / "dev" / f"{name}.jsonl.gz"

    def scored_augment(self, source: Path) -> Path:
        name = source.name.removesuffix(".gz").removesuffix(".jsonl")
        return self.root / "teacher_scores" / "augment" / f"{name}.jsonl.gz"

    @property
    def student_run(self) -> Path:
        return self.root / "student"

    @property
    def student_model(self) -> Path:
        return self.root / "student" / "best"

    @property
    def cache(self) -> Path:
        return self.root / "teacher_cache.sqlite"

    def eval_dir(self, name: str) -> Path:
        return self.root / "eval" / name
