"""Export a sequence-classification checkpoint to an artifact that follows `contract`.

ONNX with dynamic batch and sequence axes, optionally int8 dynamic quantisation, the tokenizer
configured for the contract's pair format, and `manifest.json` with the files' hashes.

A model with more than 2 labels carries the category head (contract/categories.py): its first
2 logits are the binary pair, the rest one per hazard. It is exported as one graph with two
outputs, `logits` (batch, 2) and `category_logits` (batch, n), so the service scores both in
one forward pass and a binary-only reader still finds `logits` where it always was.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

from contract import (
    CATEGORY_CODES,
    CATEGORY_OUTPUT,
    MODEL_FILE,
    OPENAI_CATEGORY_MAP,
    TOKENIZER_FILE,
    Manifest,
    PairLayout,
    load_artifact,
    write_manifest,
)
from train.modeling import exposed_category_logits, is_conditional, model_input_names

ONNX_OPSET = 17


def category_count(model_dir: Path) -> int:
    """Logits of the category head: the model's labels beyond the binary pair (0: none)."""
    config = AutoConfig.from_pretrained(model_dir)
    return max(0, int(config.num_labels) - 2)


def export_onnx(model_dir: Path, onnx_path: Path) -> list[str]:
    """Export `model_dir` to fp32 ONNX at `onnx_path`; return the ONNX input names.

    Outputs: `logits` (batch, 2), and `category_logits` (batch, n) when the model has 2 + n
    labels.
    """
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    input_names = model_input_names(model)
    with_categories = int(model.config.num_labels) > 2
    conditional = is_conditional(model)
    output_names = ["logits", CATEGORY_OUTPUT] if with_categories else ["logits"]
    dummy = {name: torch.ones((2, 8), dtype=torch.long) for name in input_names}
    axes = {name: {0: "batch", 1: "sequence"} for name in input_names}
    axes |= {name: {0: "batch"} for name in output_names}

    class _Logits(torch.nn.Module):
        # Bare tensors, so the graph's outputs are exactly `output_names`.
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *args: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
            logits = self.inner(**dict(zip(input_names, args, strict=True))).logits
            if not with_categories:
                return logits
            return logits[:, :2], exposed_category_logits(logits, conditional)

    with torch.no_grad():
        torch.onnx.export(
            _Logits(model),
            tuple(dummy[n] for n in input_names),
            str(onnx_path),
            input_names=input_names,
            output_names=output_names,
            dynamic_axes=axes,
            opset_version=ONNX_OPSET,
            dynamo=False,  # the TorchScript exporter handles HF encoders with dynamic axes
        )
    return input_names


def quantize_int8(
    fp32_path: Path,
    int8_path: Path,
    *,
    keep_fp32: list[str] | None = None,
    per_channel: bool = False,
    embeddings: bool = False,
) -> None:
    """Dynamic int8 quantisation of MatMul weights (activations stay fp32).

    MatMul nodes are quantised, the embedding tables (Gather) only with `embeddings` (they are
    most of a small encoder's size), and nodes whose name contains one of `keep_fp32` (e.g.
    "classifier") stay fp32: those are where int8 moved scores most.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    patterns = keep_fp32 or []
    graph = onnx.load(str(fp32_path), load_external_data=False).graph
    excluded = []
    for node in graph.node:
        if any(p in node.name for p in patterns):
            # The quantiser rewrites Gemm (pooler, classifier) to MatMul+Add named
            # `<name>_MatMul` before applying exclusions; name both or the head gets quantised.
            excluded += [node.name, f"{node.name}_MatMul"]
    quantize_dynamic(
        str(fp32_path),
        str(int8_path),
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Gather"] if embeddings else ["MatMul"],
        nodes_to_exclude=excluded,
        per_channel=per_channel,
    )


def _quantization_name(
    quantize: bool, keep_fp32: list[str] | None, per_channel: bool, embeddings: bool
) -> str | None:
    if not quantize:
        return None
    name = "int8-dynamic-matmul" + ("+embeddings" if embeddings else "")
    name += "-per-channel" if per_channel else ""
    return name + (f" (fp32: {', '.join(keep_fp32)})" if keep_fp32 else "")


def export_artifact(
    model_dir: Path,
    out_dir: Path,
    *,
    name: str,
    version: str,
    base_model: str,
    max_length: int,
    threshold: float,
    quantize: bool = True,
    keep_fp32: list[str] | None = None,
    per_channel: bool = False,
    quantize_embeddings: bool = False,
    categories: Sequence[str] | None = None,
    category_thresholds: Mapping[str, float] | None = None,
    pair_layout: PairLayout | None = None,
    **manifest_fields: Any,
) -> Manifest:
    """Write `model.onnx`, `tokenizer.json` and `manifest.json` for `model_dir` into `out_dir`.

    A model with a category head needs `category_thresholds` (hazard code -> threshold, chosen
    on dev); `categories` is the head's order, by default `contract.CATEGORY_CODES`.
    `pair_layout` is the layout the model was trained with (none: `longest_first` pairs).
    """
    head = _category_fields(category_count(Path(model_dir)), categories, category_thresholds)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        input_names = export_onnx(Path(model_dir), fp32)
        if quantize:
            quantize_int8(
                fp32, out_dir / MODEL_FILE, keep_fp32=keep_fp32, per_channel=per_channel,
                embeddings=quantize_embeddings,
            )  # fmt: skip
        else:
            shutil.copyfile(fp32, out_dir / MODEL_FILE)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.backend_tokenizer.save(str(out_dir / TOKENIZER_FILE))
    return write_manifest(
        out_dir,
        name=name,
        version=version,
        base_model=base_model,
        max_length=max_length,
        onnx_inputs=input_names,
        threshold=threshold,
        quantization=_quantization_name(quantize, keep_fp32, per_channel, quantize_embeddings),
        **head,
        **({"pair_layout": pair_layout} if pair_layout is not None else {}),
        **manifest_fields,
    )


def update_manifest(out_dir: Path, **changes: Any) -> Manifest:
    """Rewrite an exported artifact's manifest with `changes` over its fields (for what is
    chosen with the exported model itself, after it is written)."""
    manifest = load_artifact(out_dir).manifest
    fields = manifest.model_dump(exclude={"schema_version", "files"})
    return write_manifest(Path(out_dir), **{**fields, **changes})


def _category_fields(
    count: int, categories: Sequence[str] | None, thresholds: Mapping[str, float] | None
) -> dict[str, Any]:
    """The manifest's category fields for a head of `count` logits ({} for a binary model)."""
    if count == 0:
        if categories or thresholds:
            raise ValueError("categories were given, but the model has no category head")
        return {}
    codes = list(CATEGORY_CODES if categories is None else categories)
    if len(codes) != count:
        raise ValueError(f"the model's head has {count} category logits; {len(codes)} named")
    if thresholds is None or set(codes) - set(thresholds):
        missing = codes if thresholds is None else sorted(set(codes) - set(thresholds))
        raise ValueError(f"category_thresholds has no threshold for {missing}")
    served = set(codes)
    return {
        "categories": codes,
        "category_output": CATEGORY_OUTPUT,
        "category_thresholds": {c: float(thresholds[c]) for c in codes},
        # Only the hazards this head scores; a key left with none is absent (scores 0).
        "category_map": {
            key: [c for c in feeds if c in served]
            for key, feeds in OPENAI_CATEGORY_MAP.items()
            if any(c in served for c in feeds)
        },
    }
