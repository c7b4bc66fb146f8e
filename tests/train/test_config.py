"""The YAML configs: every shipped file loads, values are typed, sections merge over defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from train.augment.config import load_augment_config
from train.config import PipelineConfig, load_config
from train.trainer import FitConfig

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "train" / "configs").glob("*.yaml"))


def _write(tmp_path: Path, config: dict[str, object]) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_shipped_config_loads_typed(path: Path) -> None:
    # A pipeline config (`python -m train`) or an augmentation one (`python -m train.augment`).
    if "variants" in yaml.safe_load(path.read_text(encoding="utf-8")):
        augment = load_augment_config(path)
        assert augment.variants and all(isinstance(v.fewshot, int) for v in augment.variants)
        return
    cfg = load_config(path)
    for fit in (cfg.teacher.fit, cfg.student.fit):
        assert isinstance(fit, FitConfig)
        assert isinstance(fit.lr, float) and isinstance(fit.epochs, int)


def test_no_file_gives_the_defaults() -> None:
    assert load_config(None) == PipelineConfig()


def test_yaml_strings_that_mean_numbers_become_numbers(tmp_path: Path) -> None:
    # YAML 1.1 reads 3e-5 (no dot) as a string.
    path = tmp_path / "c.yaml"
    path.write_text("student:\n  fit:\n    lr: 3e-5\n    epochs: 3\n", encoding="utf-8")
    assert yaml.safe_load(path.read_text())["student"]["fit"]["lr"] == "3e-5"
    fit = load_config(path).student.fit
    assert fit.lr == pytest.approx(3e-5) and fit.epochs == 3


def test_a_section_merges_over_its_field_default(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, {"teacher": {"fit": {"batch_size": 8}}}))
    assert cfg.teacher.fit.batch_size == 8
    assert cfg.teacher.fit.base_model == "mpnet"  # the teacher's default, not FitConfig's
    assert cfg.teacher.fit.lr == pytest.approx(3e-5)


def test_unknown_keys_and_wrong_types_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"teacher\.fit: unknown keys \['batchsize'\]"):
        load_config(_write(tmp_path, {"teacher": {"fit": {"batchsize": 8}}}))
    with pytest.raises(ValueError, match="epochs"):
        load_config(_write(tmp_path, {"student": {"fit": {"epochs": "two"}}}))


def test_augment_variants_are_checked(tmp_path: Path) -> None:
    cfg = load_augment_config(
        _write(tmp_path, {"variants": [{"name": "a", "fewshot": "2"}]}), batch_size=8
    )
    assert cfg.variants[0].name == "a" and cfg.variants[0].fewshot == 2 and cfg.batch_size == 8
    with pytest.raises(ValueError, match="unknown keys"):
        load_augment_config(_write(tmp_path, {"variants": [{"nam": "a"}]}))
    with pytest.raises(ValueError, match="at least one prompt variant"):
        load_augment_config(_write(tmp_path, {"variants": []}))


def test_a_config_extends_another_and_states_only_its_changes(tmp_path: Path) -> None:
    base = {"work_dir": "runs/base", "teacher": {"labelled": ["a.jsonl"],
            "fit": {"lr": 1e-5, "max_length": 64}}}  # fmt: skip
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    variant = {"extends": "base.yaml", "work_dir": "runs/variant",
               "teacher": {"labelled": ["b.jsonl"], "fit": {"max_length": 96}}}  # fmt: skip
    cfg = load_config(_write(tmp_path, variant))
    assert cfg.work_dir == "runs/variant"
    assert cfg.teacher.labelled == ["b.jsonl"]  # a list replaces
    assert (cfg.teacher.fit.lr, cfg.teacher.fit.max_length) == (1e-5, 96)  # a section merges
