"""`AugmentConfig`: every knob of the augmentation run, with the paper's recipe as defaults.

Loaded from an optional YAML file (same keys; unknown keys are errors, values type-checked by
`train.yaml_config`) and overridden by CLI flags; the datasheet prints the whole config so a
dataset says how it was made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from train.augment.generators import SMOLLM2_ALIAS
from train.augment.prompts import PAPER_INSTRUCTION, PAPER_PREFIX, PromptVariant
from train.yaml_config import build_config, read_yaml


@dataclass
class VariantConfig:
    name: str = "paper"
    instruction: str = PAPER_INSTRUCTION
    prefix: str = PAPER_PREFIX
    fewshot: int = 0
    examples: str = "seed_harmful"  # or "benign_alarming" (train/data/benign_alarming.py)
    weight: float = 1.0

    def variant(self) -> PromptVariant:
        return PromptVariant(self.name, self.instruction, self.prefix, self.fewshot, self.examples)


@dataclass
class AugmentConfig:
    work_dir: str = "runs/augment"  # raw shards, responses, labels (not in git)
    out_dir: str = "data/harmaug"  # the committed compressed dataset + DATASHEET.md
    seed: int = 0
    # Every exported row's `source` (`student.fit.source_weights` keys match it) and the name of
    # the exported file.
    source: str = "harmaug"
    # Generator: a model spec (hub id, folder, .gguf path or the packaged SmolLM2 alias);
    # with `endpoint` set, the model name on an OpenAI-compatible server instead.
    generator: str = SMOLLM2_ALIAS
    endpoint: str | None = None
    tokenizer: str | None = None  # renders the chat template for an endpoint
    response_model: str | None = None  # None: the generator answers too
    response_endpoint: str | None = None
    threads: int | None = 1  # torch threads; 1 leaves the other core to a concurrent training run
    batch_size: int = 64  # rows sampled together; 64 used ~25% less CPU per sample than 32
    variants: list[VariantConfig] = field(default_factory=lambda: [VariantConfig()])
    target_instructions: int = 5000  # stop once this many clean, unique instructions exist
    max_generated: int = 40000  # and never sample more than this many candidates
    instruction_tokens: int = 48
    temperature: float = 1.0
    top_p: float = 0.95
    response_share: float = 0.4  # share of instructions that get a response; rest prompt-only
    response_tokens: int = 48  # CPU budget; students read <= 128 tokens of a pair anyway
    response_temperature: float = 0.7
    near_threshold: float = 0.6  # word-bigram Jaccard at which two instructions are duplicates
    eval_threshold: float = 0.8  # ... and at which an instruction counts as an eval prompt
    eda_per_seed: int = 2  # EDA baseline: edited copies per seed harmful instruction
    diversity_sample: int = 500  # texts per set in the datasheet's diversity measures
    teacher: str | None = None  # default: the reference run's teacher
    teacher_max_length: int = 128  # as the reference run scores its seeds

    @property
    def work(self) -> Path:
        return Path(self.work_dir)

    @property
    def data_file(self) -> Path:
        """The exported rows: `<out_dir>/<source>.jsonl.gz`."""
        return Path(self.out_dir) / f"{self.source}.jsonl.gz"


def load_augment_config(path: Path | None, **overrides: Any) -> AugmentConfig:
    raw = read_yaml(path)
    raw.update({k: v for k, v in overrides.items() if v is not None})
    cfg = build_config(AugmentConfig, raw, str(path or "defaults"))
    if not cfg.variants:
        raise ValueError("at least one prompt variant is needed")
    return cfg
