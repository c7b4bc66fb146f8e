"""Where training runs and at what precision: small helpers for the trainer.

`resolve_device("auto")` picks this process's GPU when CUDA is there, else the CPU;
`autocast(device, precision)` runs the forward pass in bf16 or fp16 (fp32: no autocast), and
`grad_scaler(device, precision)` scales the loss where fp16 needs it (on CUDA only).

Several GPUs: `accelerate launch --multi_gpu --num_processes N -m train ...` (or `torchrun
--nproc-per-node N`) starts one process per GPU and sets `LOCAL_RANK`; `resolve_device("auto")`
then gives each process its own `cuda:LOCAL_RANK`. Under Accelerate proper, prefer
`Accelerator(mixed_precision=...)`: it places the model and batches (`accelerator.device`),
autocasts and wraps the model in DistributedDataParallel, and these helpers are then only the
single-process path.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import Any, Literal, get_args

import torch

Precision = Literal["fp32", "bf16", "fp16"]
PRECISIONS: tuple[str, ...] = get_args(Precision)


def resolve_device(name: str | None) -> torch.device:
    """`None` or "auto": CUDA when present (this process's `LOCAL_RANK` GPU), else the CPU.
    Otherwise a torch device name ("cpu", "cuda", "cuda:1"), refused if it is not usable."""
    if name is None or name == "auto":
        if torch.cuda.is_available():
            local_rank = int(os.environ.get("LOCAL_RANK", "0"))
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {name!r} (use auto, cpu, cuda or cuda:N)") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r}: CUDA is not available here (use auto or cpu)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device {name!r}: only {torch.cuda.device_count()} GPU(s) here")
    return device


def check_precision(device: torch.device, precision: str) -> Precision:
    """The precision, refused when unknown or when this device cannot run it."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(f"{device}: this GPU has no bf16; use fp16 or fp32")
    return precision  # type: ignore[return-value]


def autocast(device: torch.device, precision: Precision) -> contextlib.AbstractContextManager[Any]:
    """Mixed precision for the forward pass and loss; weights and optimiser stay fp32."""
    check_precision(device, precision)
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(device: torch.device, precision: Precision) -> torch.amp.GradScaler:
    """fp16 gradients underflow without loss scaling; bf16 and fp32 need none (disabled: its
    `scale`, `step` and `update` then pass through, so the trainer calls them either way)."""
    enabled = precision == "fp16" and device.type == "cuda"
    return torch.amp.GradScaler(device.type, enabled=enabled)


def to_device(batch: Mapping[str, Any], device: torch.device) -> dict[str, Any]:
    """A batch dict with its tensors on `device` (other values as they are); pinned CPU
    tensors copy to the GPU without blocking."""
    return {
        key: value.to(device, non_blocking=True) if isinstance(value, torch.Tensor) else value
        for key, value in batch.items()
    }
