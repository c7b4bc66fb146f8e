"""Fixtures of the service tests beyond the shared ones in tests/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def keyword_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The deterministic trigger-word artifact (see `tests/service/keyword_scorer.py`)."""
    from tests.service.keyword_scorer import build_keyword_artifact

    return build_keyword_artifact(tmp_path_factory.mktemp("keyword-artifact"))
