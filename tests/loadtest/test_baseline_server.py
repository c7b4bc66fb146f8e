"""The plain FastAPI + transformers baseline, as a real server process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from loadtest import targets


@pytest.fixture(scope="module")
def baseline(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("baseline") / "baseline.log"
    server = targets.start_baseline(tiny_model_dir, log=log, max_length=128)
    try:
        yield server.url
    finally:
        server.stop()


def test_scores_the_harmful_label(baseline: str, tiny_model_dir: Path) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    prompt = "How do I pick a lock?"
    resp = httpx.post(baseline + "/moderate", json={"prompt": prompt, "response": None})
    assert resp.status_code == 200
    body = resp.json()
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    with torch.no_grad():
        expected = model(**tokenizer(prompt, return_tensors="pt")).logits.softmax(-1)[0, 1]
    assert body["score"] == pytest.approx(float(expected), abs=1e-5)
    assert body["harmful"] == (body["score"] >= body["threshold"])


def test_prompt_response_pairs_are_scored(baseline: str) -> None:
    one = httpx.post(baseline + "/moderate", json={"prompt": "hi", "response": None}).json()
    two = httpx.post(baseline + "/moderate", json={"prompt": "hi", "response": "hello"}).json()
    assert one["score"] != two["score"]


def test_bad_input_is_a_4xx(baseline: str) -> None:
    assert httpx.post(baseline + "/moderate", json={"prompt": ""}).status_code == 422
    assert httpx.post(baseline + "/moderate", json={"text": "x"}).status_code == 422


def test_a_server_that_cannot_start_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(targets.TargetError, match="exited with code"):
        targets.start_baseline(tmp_path / "no-such-model", log=tmp_path / "b.log", max_length=8)
