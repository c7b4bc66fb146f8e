"""Export a sequence-classification checkpoint to an artifact that follows `contract`.

ONNX with dynamic batch and sequence axes, optionally int8 dynamic quantisation, the tokenizer
configured for the contract's pair format, and `manifest.json` with the files' hashes.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from contract import MODEL_FILE, TOKENIZER_FILE, Manifest, write_manifest
from train.modeling import model_input_names

ONNX_OPSET = 17


def export_onnx(model_dir: Path, onnx_path: Path) -> list[str]:
    """Export `model_dir` to fp32 ONNX at `onnx_path`; return the ONNX input names."""
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    input_names = model_input_names(model)
    dummy = {name: torch.ones((2, 8), dtype=torch.long) for name in input_names}
    axes = {name: {0: "batch", 1: "sequence"} for name in input_names}
    axes["logits"] = {0: "batch"}

    class _Logits(torch.nn.Module):
        # Return a bare tensor so the graph has exactly one output named "logits".
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(input_names, args, strict=True))).logits

    with torch.no_grad():
        torch.onnx.export(
            _Logits(model),
            tuple(dummy[n] for n in input_names),
            str(onnx_path),
            input_names=input_names,
            output_names=["logits"],
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
    **manifest_fields: Any,
) -> Manifest:
    """Write `model.onnx`, `tokenizer.json` and `manifest.json` for `model_dir` into `out_dir`."""
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
        **manifest_fields,
    )
