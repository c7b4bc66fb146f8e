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
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel

from contract import MODEL_FILE, TOKENIZER_FILE, Manifest, write_manifest

ONNX_OPSET = 17


def _onnx_inputs(model: PreTrainedModel) -> list[str]:
    names = ["input_ids", "attention_mask"]
    # BERT-style models take segment ids; MPNet/RoBERTa-style do not.
    if int(getattr(model.config, "type_vocab_size", 0) or 0) > 1:
        names.append("token_type_ids")
    return names


def export_onnx(model_dir: Path, onnx_path: Path) -> list[str]:
    """Export `model_dir` to fp32 ONNX at `onnx_path`; return the ONNX input names."""
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    input_names = _onnx_inputs(model)
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


def quantize_int8(fp32_path: Path, int8_path: Path) -> None:
    """Dynamic int8 quantisation of the MatMul weights (activations stay fp32)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32_path), str(int8_path), weight_type=QuantType.QInt8)


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
    **manifest_fields: Any,
) -> Manifest:
    """Write `model.onnx`, `tokenizer.json` and `manifest.json` for `model_dir` into `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        input_names = export_onnx(Path(model_dir), fp32)
        if quantize:
            quantize_int8(fp32, out_dir / MODEL_FILE)
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
        quantization="int8-dynamic" if quantize else None,
        **manifest_fields,
    )
