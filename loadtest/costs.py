"""Parameter counts and forward FLOPs per prompt, so the 135M stand-in teacher is never read as
the 7-8B Llama Guard it stands in for.

FLOPs are the usual dense-transformer estimate (one multiply-add = 2 FLOPs): matmuls
2 x (block weights) per token processed, plus attention scores and mixing. An encoder sees all
T tokens once: 2*W*T + 4*L*T^2*H. A decoder reads the prompt and generates G tokens:
2*W*(T+G) + 2*L*H*(T+G)^2 (causal) + 2*V*H*G for the vocabulary head at generated positions.
Embedding lookups cost no FLOPs. W counts the block weights only (no embeddings).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DecoderConfig:
    name: str
    params: int
    layers: int
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    vocab: int

    @property
    def block_weights(self) -> int:
        head_dim = self.hidden // self.heads
        attn = 2 * self.hidden * self.hidden + 2 * self.hidden * self.kv_heads * head_dim
        return self.layers * (attn + 3 * self.hidden * self.intermediate)

    def flops(self, prompt_tokens: float, generated_tokens: float) -> float:
        t = prompt_tokens + generated_tokens
        return (
            2 * self.block_weights * t
            + 2 * self.layers * self.hidden * t * t
            + 2 * self.vocab * self.hidden * generated_tokens
        )


# From the models' published config.json files.
SMOLLM2_135M = DecoderConfig(
    name="SmolLM2-135M-Instruct (Q4_1 GGUF, the local stand-in)",
    params=134_515_008,
    layers=30,
    hidden=576,
    intermediate=1536,
    heads=9,
    kv_heads=3,
    vocab=49_152,
)
LLAMA_GUARD_3_8B = DecoderConfig(
    name="Llama-Guard-3-8B (the teacher it stands in for; not run here)",
    params=8_030_261_248,
    layers=32,
    hidden=4096,
    intermediate=14_336,
    heads=32,
    kv_heads=8,
    vocab=128_256,
)


@dataclass(frozen=True)
class EncoderConfig:
    name: str
    params: int
    layers: int
    hidden: int
    intermediate: int

    @property
    def block_weights(self) -> int:
        return self.layers * (4 * self.hidden * self.hidden + 2 * self.hidden * self.intermediate)

    def flops(self, tokens: float) -> float:
        return 2 * self.block_weights * tokens + 4 * self.layers * tokens * tokens * self.hidden


def safetensors_params(model_dir: Path) -> int:
    """Number of parameters in a folder's `*.safetensors` files, read from their headers."""
    total = 0
    for path in sorted(model_dir.glob("*.safetensors")):
        with path.open("rb") as fh:
            (size,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(size))
        for name, entry in header.items():
            if name != "__metadata__":
                count = 1
                for dim in entry["shape"]:
                    count *= int(dim)
                total += count
    return total


def encoder_from_hf(model_dir: Path, name: str) -> EncoderConfig:
    """The student's shape from its HF folder (`config.json` + safetensors)."""
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    return EncoderConfig(
        name=name,
        params=safetensors_params(model_dir),
        layers=int(config["num_hidden_layers"]),
        hidden=int(config["hidden_size"]),
        intermediate=int(config["intermediate_size"]),
    )


@dataclass(frozen=True)
class CostRow:
    model: str
    params: int
    tokens_per_prompt: float
    gflops_per_prompt: float


def cost_table(
    student: EncoderConfig | None,
    student_tokens: float,
    teacher_prompt_tokens: float,
    teacher_generated_tokens: float,
) -> list[CostRow]:
    """Rows for the report: the student, the stand-in teacher and the real 8B teacher.

    The 8B row uses the stand-in's measured prompt length (the Llama 3 tokenizer gives a
    similar count for the same text)."""
    rows = []
    if student is not None:
        gflops = student.flops(student_tokens) / 1e9
        rows.append(CostRow(student.name, student.params, student_tokens, gflops))
    for teacher in (SMOLLM2_135M, LLAMA_GUARD_3_8B):
        flops = teacher.flops(teacher_prompt_tokens, teacher_generated_tokens)
        rows.append(
            CostRow(
                teacher.name,
                teacher.params,
                teacher_prompt_tokens + teacher_generated_tokens,
                flops / 1e9,
            )
        )
    return rows
