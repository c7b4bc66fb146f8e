"""The pipeline's configuration: one YAML file (see `train/configs/reference.yaml`).

Every section has defaults, so a config only states what differs; unknown keys are errors and
values are type-checked (`train.yaml_config`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from train.data.mix import MixConfig
from train.trainer import FitConfig
from train.yaml_config import build_config, read_yaml


@dataclass
class TeacherConfig:
    spec: str | None = None  # use this teacher (see `load_teacher`) instead of training one
    train_rows: int | None = None  # subsample of the training split for the reference teacher
    score_train_rows: int | None = None  # stratified subsample scored; the rest get plain CE
    score_max_length: int = 128
    # Score with the trained teacher's int8 ONNX export (parity measured) instead of PyTorch.
    score_with_onnx: bool = True
    score_batch_size: int = 32
    # Rows labelled by construction (e.g. data/response_pairs/train.jsonl.gz) the teacher also
    # learns from, beside the training split's human labels; with `fit.pair_layout` the teacher
    # judges pairs in the layout the student and the service use.
    labelled: list[str] = field(default_factory=list)
    # Folds of `python -m train teacher-crossfit` (train/stages/teacher_crossfit.py).
    crossfit_folds: int = 2
    fit: FitConfig = field(default_factory=lambda: FitConfig(base_model="mpnet", epochs=1, lr=3e-5))


@dataclass
class StudentConfig:
    fit: FitConfig = field(default_factory=FitConfig)
    augment: list[str] = field(default_factory=list)  # JSONL(.gz) files or globs


@dataclass
class ExportConfig:
    out_dir: str = "model_artifacts/student"
    name: str = "harmaug-student-minilm"
    version: str = "0.1.0"
    # Nodes matching these substrings stay fp32 under dynamic int8 quantisation.
    keep_fp32: list[str] = field(default_factory=lambda: ["classifier", "pooler", "embeddings"])
    max_auprc_drop: float = 0.01
    quantize_embeddings: bool = True  # tried first: int8 embedding tables (~23 MB vs ~59 MB)
    # The decision threshold: None = F1-optimal on the seeds' validation split; a dev set name
    # (e.g. "toxicchat") = the threshold that flags `target_fpr` of that dev set's safe rows.
    threshold_set: str | None = None
    target_fpr: float = 0.05
    # Pairs with a response (contract/thresholds.py): "f1" = the exported model's F1 optimum on
    # the dev suite's labelled rows with a response; "none" = they take the threshold above.
    response_threshold: Literal["f1", "none"] = "f1"


@dataclass
class EvaluateConfig:
    sets: list[str] = field(
        default_factory=lambda: ["oai", "toxicchat", "harmbench", "xstest", "dices990", "dices350"]
    )
    batch_size: int = 32
    max_rows: int | None = None  # smoke tests only: the first N rows of each set


@dataclass
class PipelineConfig:
    work_dir: str = "runs/reference"
    seed: int = 13
    data: MixConfig = field(default_factory=MixConfig)
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    student: StudentConfig = field(default_factory=StudentConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    card_notes: str = ""  # what was tried and why, copied into MODEL_CARD.md
    # the experiment report behind the shipped choice, copied into MODEL_CARD.md
    card_report: str = "train/reports/experiment.md"
    # `python -m train experiment`: arms and seeds (see train.stages.experiment)
    experiment: dict[str, Any] = field(default_factory=dict)


def load_config(path: Path | None) -> PipelineConfig:
    return build_config(PipelineConfig, read_yaml(path), str(path or "defaults"))
