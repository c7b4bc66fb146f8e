"""Settings come from MODERATION_* variables; empty values mean unset."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import Settings, available_cpus, engine_layout


def test_defaults_serve_the_student_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    names = ("ARTIFACT_DIR", "HOST", "PORT", "REDIS_URL", "THRESHOLD", "RESPONSE_THRESHOLD")
    for name in (*names, "BATCHING"):
        monkeypatch.delenv(f"MODERATION_{name}", raising=False)
    settings = Settings()
    assert settings.artifact_dir == Path("model_artifacts/student")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.redis_url is None and settings.threshold is None
    assert settings.response_threshold is None
    assert settings.batching == "length_aware"
    assert settings.max_batch_items == 256


def test_the_environment_overrides_and_empty_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODERATION_REDIS_URL", "")
    monkeypatch.setenv("MODERATION_THRESHOLD", "0.7")
    monkeypatch.setenv("MODERATION_RESPONSE_THRESHOLD", "")
    monkeypatch.setenv("MODERATION_BATCHING", "fifo")
    monkeypatch.setenv("MODERATION_MAX_WAIT_MS", "2.5")
    settings = Settings()
    assert settings.redis_url is None
    assert settings.threshold == 0.7 and settings.response_threshold is None
    assert settings.batching == "fifo"
    assert settings.max_wait_ms == 2.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MODERATION_THRESHOLD", "1.5"),
        ("MODERATION_RESPONSE_THRESHOLD", "-0.1"),
        ("MODERATION_BATCHING", "random"),
        ("MODERATION_PORT", "x"),
    ],
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name.removeprefix("MODERATION_").lower()):
        Settings()


def test_available_cpus_is_positive() -> None:
    assert available_cpus() >= 1


def test_engine_layout_on_cpu_is_one_single_thread_session_per_cpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("ENGINE_WORKERS", "ONNX_THREADS"):
        monkeypatch.delenv(f"MODERATION_{name}", raising=False)
    cpus = available_cpus()
    assert engine_layout(Settings(), gpu=False) == (cpus, 1)
    assert engine_layout(Settings(), gpu=True) == (1, cpus)
    monkeypatch.setenv("MODERATION_ENGINE_WORKERS", "1")
    assert engine_layout(Settings(), gpu=False) == (1, cpus)
    monkeypatch.setenv("MODERATION_ONNX_THREADS", "3")
    assert engine_layout(Settings(), gpu=False) == (1, 3)
