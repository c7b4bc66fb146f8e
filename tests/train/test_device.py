"""train/device.py on this machine's CPU (and on CUDA where a GPU is present)."""

from __future__ import annotations

import pytest
import torch

from train.device import autocast, check_precision, grad_scaler, resolve_device, to_device


def test_auto_picks_cuda_when_present_else_the_cpu() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device(None).type == expected
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")


@pytest.mark.parametrize("name", ["gpu", "tpu:x", ""])
def test_unknown_devices_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="device"):
        resolve_device(name)


@pytest.mark.parametrize(
    ("precision", "dtype"),
    [("fp32", torch.float32), ("bf16", torch.bfloat16), ("fp16", torch.float16)],
)
def test_autocast_runs_the_forward_pass_at_the_precision(
    precision: str, dtype: torch.dtype
) -> None:
    device = resolve_device("auto")
    layer = torch.nn.Linear(8, 2).to(device)
    with autocast(device, check_precision(device, precision)):
        out = layer(torch.randn(4, 8, device=device))
    assert out.dtype == dtype
    assert layer.weight.dtype == torch.float32  # the weights stay fp32


def test_unknown_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="precision"):
        check_precision(torch.device("cpu"), "fp8")


def test_a_training_step_runs_on_the_named_device() -> None:
    torch.manual_seed(0)
    device = resolve_device("auto")
    precision = check_precision(device, "bf16" if device.type == "cpu" else "fp16")
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
    model.to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scaler = grad_scaler(device, precision)
    batch = to_device({"x": torch.randn(8, 16), "y": torch.randint(0, 2, (8,)), "n": 8}, device)
    before = [p.detach().clone() for p in model.parameters()]
    with autocast(device, precision):
        loss = torch.nn.functional.cross_entropy(model(batch["x"]), batch["y"])
    scaler.scale(loss).backward()
    scaler.step(optimiser)
    scaler.update()
    assert batch["n"] == 8 and batch["x"].device.type == device.type
    assert torch.isfinite(loss)
    for old, new in zip(before, model.parameters(), strict=True):
        assert new.device.type == device.type
        assert not torch.equal(old, new.detach())  # the step moved every weight


def test_the_grad_scaler_is_on_only_for_fp16_on_cuda() -> None:
    assert not grad_scaler(torch.device("cpu"), "fp16").is_enabled()
    assert not grad_scaler(torch.device("cpu"), "bf16").is_enabled()
