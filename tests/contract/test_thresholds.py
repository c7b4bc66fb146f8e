"""The response threshold: optional in the manifest, one rule for which input gets which."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from contract import MANIFEST_FILE, ArtifactError, Thresholds, has_response, load_artifact


def test_a_pair_with_a_response_gets_the_response_threshold() -> None:
    both = Thresholds(prompt=0.4, response=0.05)
    assert both.for_pair(None) == both.for_pair("") == 0.4  # empty = no response (encoding)
    assert both.for_pair("Sure, here is how") == 0.05
    assert (both.for_input(False), both.for_input(True)) == (0.4, 0.05)
    assert not has_response("") and not has_response(None) and has_response(" ")


def test_without_a_response_threshold_every_input_gets_the_threshold() -> None:
    alone = Thresholds(prompt=0.4)
    assert alone.for_pair("Sure") == alone.for_pair(None) == 0.4


def test_older_manifests_load_and_a_new_one_carries_its_response_threshold(
    tiny_artifact: Path, tmp_path: Path
) -> None:
    old = load_artifact(tiny_artifact).manifest
    assert old.response_threshold is None
    assert old.thresholds == Thresholds(0.5, None)
    shutil.copytree(tiny_artifact, tmp_path / "a")
    raw = json.loads((tmp_path / "a" / MANIFEST_FILE).read_text())
    (tmp_path / "a" / MANIFEST_FILE).write_text(json.dumps(raw | {"response_threshold": 0.06}))
    new = load_artifact(tmp_path / "a").manifest
    assert new.thresholds.for_pair("an answer") == 0.06
    assert new.thresholds.for_pair(None) == 0.5


@pytest.mark.parametrize("value", [-0.1, 1.5, "high"])
def test_a_response_threshold_outside_0_1_is_refused(
    tiny_artifact: Path, tmp_path: Path, value: object
) -> None:
    shutil.copytree(tiny_artifact, tmp_path / "a")
    raw = json.loads((tmp_path / "a" / MANIFEST_FILE).read_text())
    (tmp_path / "a" / MANIFEST_FILE).write_text(json.dumps(raw | {"response_threshold": value}))
    with pytest.raises(ArtifactError, match="response_threshold"):
        load_artifact(tmp_path / "a")
