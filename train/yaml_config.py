"""Typed configuration from YAML: the defaults, the file's keys over them, checked by pydantic.

The one loader behind `train.config` (the pipeline) and `train.augment.config` (augmentation).
A file states only what differs. A section (a field whose default is a dataclass) is merged over
that field's default, not over its class's defaults: the teacher's `fit` starts from MPNet's
settings, not from the student's. Unknown keys are errors. Values are validated and coerced
against the dataclasses' annotations: YAML 1.1 reads `lr: 3e-5` as a string, which arrives as
the float it means.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml

T = TypeVar("T")


def read_yaml(path: Path | None) -> dict[str, Any]:
    """The file's mapping ({} without a file, or for an empty one).

    `extends: other.yaml` (relative to the file) reads that file first and lays this one over
    it, section by section, so a variant of a config states only its own changes.
    """
    if path is None:
        return {}
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of settings, got {type(raw).__name__}")
    base = raw.pop("extends", None)
    if base is None:
        return raw
    return _laid_over(read_yaml(Path(path).parent / str(base)), raw)


def _laid_over(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """`top` over `base`: mappings merge key by key, anything else (lists too) replaces."""
    out = dict(base)
    for key, value in top.items():
        below = out.get(key)
        if isinstance(value, Mapping) and isinstance(below, dict):
            out[key] = _laid_over(below, value)
        else:
            out[key] = value
    return out


def merged_over_defaults(
    cls: type[Any], raw: Mapping[str, Any], where: str, defaults: Any = None
) -> dict[str, Any]:
    """`raw` with every section given in it completed from its default; unknown keys raise."""
    defaults = cls() if defaults is None else defaults
    unknown = set(raw) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    merged: dict[str, Any] = {}
    for name, value in raw.items():
        current = getattr(defaults, name)
        if _is_instance(current) and isinstance(value, Mapping):
            section = merged_over_defaults(type(current), value, f"{where}.{name}", current)
            merged[name] = {**dataclasses.asdict(current), **section}
        elif _dataclass_list(current) and isinstance(value, list):
            item = type(current[0])
            merged[name] = [
                merged_over_defaults(item, v, f"{where}.{name}[{n}]")
                if isinstance(v, Mapping)
                else v
                for n, v in enumerate(value)
            ]
        else:
            merged[name] = value
    return merged


def _is_instance(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _dataclass_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and _is_instance(value[0])


def build_config(cls: type[T], raw: Mapping[str, Any], where: str) -> T:
    """An instance of the dataclass `cls` from `raw` over its defaults, validated."""
    merged = merged_over_defaults(cls, raw, where)
    try:
        return pydantic.TypeAdapter(cls).validate_python(merged)
    except pydantic.ValidationError as exc:
        raise ValueError(f"{where}: {exc}") from exc
