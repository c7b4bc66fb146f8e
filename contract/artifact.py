"""The artifact contract: a folder with `model.onnx`, `tokenizer.json` and `manifest.json`.

`train/` writes it (`write_manifest`), `service/` reads it (`load_artifact`). Loading checks the
schema version and the files' sha256 and fails with an `ArtifactError` that names the problem.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contract.categories import LLAMA_GUARD_CATEGORIES, OPENAI_CATEGORIES
from contract.labels import HARMFUL_INDEX, LABELS
from contract.pairs import PairLayout
from contract.thresholds import Thresholds

ARTIFACT_SCHEMA_VERSION = 1
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"


class ArtifactError(RuntimeError):
    """The artifact folder is missing, incomplete, corrupt or of another schema version."""


class Manifest(BaseModel):
    """`manifest.json`. Unknown keys are kept (`extra="allow"`) so newer writers stay readable."""

    model_config = ConfigDict(extra="allow", frozen=True)

    schema_version: int = ARTIFACT_SCHEMA_VERSION
    name: str
    version: str
    base_model: str
    max_length: int = Field(gt=1, le=8192)
    onnx_inputs: list[str] = Field(min_length=1)
    onnx_output: str = "logits"
    input_format: Literal["text_pair"] = "text_pair"
    labels: list[str] = Field(default_factory=lambda: list(LABELS))
    harmful_index: int = HARMFUL_INDEX
    threshold: float = Field(ge=0.0, le=1.0)
    # Inputs with a response (contract/thresholds.py); absent = `threshold`, as artifacts
    # before it were served.
    response_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    metrics: dict[str, Any] = Field(default_factory=dict)
    training_data: list[dict[str, Any]] = Field(default_factory=list)
    teacher: str | None = None
    quantization: str | None = None
    license: str | None = None
    # The category head (contract/categories.py); empty for a binary-only artifact.
    categories: list[str] = Field(default_factory=list, description="hazard codes, head order")
    category_output: str | None = None
    category_thresholds: dict[str, float] = Field(default_factory=dict)
    category_map: dict[str, list[str]] = Field(
        default_factory=dict, description="OpenAI category -> hazard codes it takes the max of"
    )
    # How a (prompt, response) pair is laid out (contract/pairs.py); absent = `longest_first`
    # truncation to `max_length`, as every artifact before it was trained.
    pair_layout: PairLayout | None = None
    files: dict[str, str] = Field(description="file name -> sha256 hex digest")

    @property
    def model_id(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.threshold, self.response_threshold)


@dataclass(frozen=True)
class Artifact:
    path: Path
    manifest: Manifest

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def tokenizer_path(self) -> Path:
        return self.path / TOKENIZER_FILE


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(folder: Path, **fields: Any) -> Manifest:
    """Hash the model and tokenizer in `folder` and write `manifest.json` beside them."""
    folder = Path(folder)
    files = {}
    for name in (MODEL_FILE, TOKENIZER_FILE):
        path = folder / name
        if not path.is_file():
            raise ArtifactError(f"cannot write a manifest: {path} does not exist")
        files[name] = sha256_file(path)
    manifest = Manifest(schema_version=ARTIFACT_SCHEMA_VERSION, files=files, **fields)
    (folder / MANIFEST_FILE).write_text(
        json.dumps(manifest.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8"
    )
    return manifest


def load_artifact(folder: Path | str, *, verify_hashes: bool = True) -> Artifact:
    """Read and check an artifact folder; raise `ArtifactError` naming what is wrong."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ArtifactError(f"artifact folder {folder} does not exist")
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.is_file():
        raise ArtifactError(f"{manifest_path} is missing: not an artifact folder")
    try:
        raw = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{manifest_path} is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ArtifactError(f"{manifest_path} must hold a JSON object")
    found = raw.get("schema_version")
    if found != ARTIFACT_SCHEMA_VERSION:
        raise ArtifactError(
            f"{manifest_path} has schema_version {found!r}; this code reads "
            f"version {ARTIFACT_SCHEMA_VERSION}"
        )
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        raise ArtifactError(f"{manifest_path} is invalid: {exc}") from exc
    if list(manifest.labels) != list(LABELS) or manifest.harmful_index != HARMFUL_INDEX:
        raise ArtifactError(
            f"{manifest_path} declares labels {manifest.labels} (harmful index "
            f"{manifest.harmful_index}); expected {list(LABELS)} with index {HARMFUL_INDEX}"
        )
    _check_categories(manifest, manifest_path)
    for name in (MODEL_FILE, TOKENIZER_FILE):
        path = folder / name
        if not path.is_file():
            raise ArtifactError(f"{path} is missing")
        expected = manifest.files.get(name)
        if expected is None:
            raise ArtifactError(f"{manifest_path} has no sha256 for {name}")
        if verify_hashes:
            actual = sha256_file(path)
            if actual != expected:
                raise ArtifactError(
                    f"{path} does not match its manifest: sha256 {actual[:12]}... "
                    f"!= {expected[:12]}... (corrupt, a Git LFS pointer, or replaced)"
                )
    return Artifact(path=folder, manifest=manifest)


def _check_categories(manifest: Manifest, manifest_path: Path) -> None:
    if not manifest.categories:
        return
    unknown = [c for c in manifest.categories if c not in LLAMA_GUARD_CATEGORIES]
    if unknown or len(set(manifest.categories)) != len(manifest.categories):
        raise ArtifactError(f"{manifest_path} lists unknown or repeated categories: {unknown}")
    if not manifest.category_output:
        raise ArtifactError(f"{manifest_path} lists categories but no category_output")
    missing = [c for c in manifest.categories if c not in manifest.category_thresholds]
    if missing:
        raise ArtifactError(f"{manifest_path} has no category threshold for {missing}")
    outside = {c: t for c, t in manifest.category_thresholds.items() if not 0.0 <= t <= 1.0}
    if outside:
        raise ArtifactError(f"{manifest_path} has category thresholds outside [0, 1]: {outside}")
    for key, codes in manifest.category_map.items():
        if key not in OPENAI_CATEGORIES or any(c not in manifest.categories for c in codes):
            raise ArtifactError(f"{manifest_path} maps {key!r} to {codes}, outside the contract")
