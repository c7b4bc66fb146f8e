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

from contract.labels import HARMFUL_INDEX, LABELS

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
    metrics: dict[str, Any] = Field(default_factory=dict)
    training_data: list[dict[str, Any]] = Field(default_factory=list)
    teacher: str | None = None
    quantization: str | None = None
    license: str | None = None
    files: dict[str, str] = Field(description="file name -> sha256 hex digest")

    @property
    def model_id(self) -> str:
        return f"{self.name}@{self.version}"


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
