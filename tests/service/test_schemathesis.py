"""Schemathesis over the server's own OpenAPI, against a real `python -m service` (tiny artifact).

Every operation gets requests generated from its schema, valid ones (positive mode) and invalid
ones (negative mode: wrong types, missing or extra fields, out-of-range values); the reply to
each must not be a server error, and a refusal must be the JSON error shape of
`service/errors.py` (OpenAI's `error` object). Examples are bounded and derandomised so that
this stays well under a minute and fails the same way twice; `make reliability` sends 2,000
random mutations of valid bodies besides.

The operations are driven through schemathesis's Python API (`as_strategy` under hypothesis)
rather than its pytest plugin, whose lazy fixture loader does not run under pytest 9.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode

EXAMPLES = 50  # per operation and mode


@pytest.fixture(scope="module")
def api_schema(start_service: Any, tiny_artifact: Path) -> Any:
    server = start_service(tiny_artifact, {"MODERATION_MAX_TEXT_CHARS": "2000"})
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json")


def check_reply(case: Case) -> None:
    response = case.call(timeout=30)
    described = f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    assert response.status_code < 500, described
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["message"], str) and error["message"], described
        assert {"type", "code", "param"} <= set(error), described


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_server_error(api_schema: Any, mode: GenerationMode) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    posts = {op.path for op in operations if op.method.upper() == "POST"}
    assert {"/moderate", "/moderate/batch", "/v1/moderations"} <= posts  # the schema was read
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and operation.method.upper() == "GET":
            continue  # no parameters or body to get wrong
        run = given(case=operation.as_strategy(generation_mode=mode))(check_reply)
        settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )(run)()
