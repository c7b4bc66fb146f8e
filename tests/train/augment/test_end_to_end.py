"""A tiny real augmentation run through the CLI, feeding `distill --augment`.

The generator is a 2-layer causal LM with SmolLM2's real tokenizer and chat template, fitted in
seconds to continue the paper's prompt with a few instructions (one of them an XSTest prompt,
which the clean-up must drop). Everything after that is the real code: prompt and prefix,
batched sampling, clean-up, dedup, responses, teacher labels (a tiny random classifier),
EDA baseline, datasheet, then the pipeline's `data`, `teacher` and `distill --augment`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from loadtest.processes import REPO_ROOT
from tests.fixtures.tiny_classifier import build_tiny_classifier
from tests.train.augment.conftest import EVAL_PROMPT, HARMFUL
from train.augment.cleanup import extract_instruction
from train.augment.shards import ShardedJsonl
from train.data.records import read_records

pytestmark = pytest.mark.slow


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "train", *args], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=600, env={**os.environ, "TRAIN_THREADS": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def tiny_augment(
    tmp_path_factory: pytest.TempPathFactory, data_dir: Path, tiny_generator: Path
) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("tiny-augment")
    generator = tiny_generator
    teacher = build_tiny_classifier(root / "teacher", seed=3)
    cfg = {
        "target_instructions": 4, "max_generated": 64, "batch_size": 16,
        "instruction_tokens": 24, "response_tokens": 8, "response_share": 0.5,
        "eda_per_seed": 1, "diversity_sample": 30, "threads": 1,
    }  # fmt: skip
    cfg_path = root / "augment.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    done = _cli(
        "augment", "--data-dir", str(data_dir), "--augment-config", str(cfg_path),
        "--aug-dir", str(root / "work"), "--out-dir", str(root / "data"),
        "--generator", str(generator), "--teacher", str(teacher),
    )  # fmt: skip
    return {"root": root, "teacher": teacher, "stdout": done.stdout + done.stderr}


def test_generation_goes_through_the_real_prompt_and_clean_up(
    tiny_augment: dict[str, Any],
) -> None:
    root: Path = tiny_augment["root"]
    raw = list(ShardedJsonl(root / "work" / "raw", "instructions").read())
    assert raw and all(r["variant"] == "paper" for r in raw)
    rows = read_records(root / "data" / "harmaug.jsonl.gz")
    prompts = {r.prompt for r in rows}
    assert prompts <= set(HARMFUL) and len(prompts) >= 2
    assert EVAL_PROMPT not in prompts
    extracted = [extract_instruction(r["raw"]) for r in raw]
    eval_hits = extracted.count(EVAL_PROMPT)
    stdout = tiny_augment["stdout"]
    assert "tokens/s" in stdout and "samples/s" in stdout
    sheet = (root / "data" / "DATASHEET.md").read_text()
    assert f"| eval_match | {eval_hits} |" in sheet or eval_hits == 0
    duplicates = len([e for e in extracted if e in HARMFUL]) - len(prompts)
    assert f"| exact_duplicate | {duplicates} |" in sheet or duplicates == 0
    assert f"| paper | {len(rows)} |" in sheet  # rows by prompt variant


def test_rows_carry_teacher_scores_and_pairs(tiny_augment: dict[str, Any]) -> None:
    rows = read_records(tiny_augment["root"] / "data" / "harmaug.jsonl.gz")
    prompt_only = [r for r in rows if r.response is None]
    pairs = [r for r in rows if r.response is not None]
    assert len(prompt_only) == len({r.prompt for r in rows})  # every instruction alone
    assert all(r.teacher_score is not None and 0.0 <= r.teacher_score <= 1.0 for r in rows)
    assert all(r.label is None for r in rows)  # no human label: the teacher's score only
    assert all(r.source == "harmaug" and r.variant == "paper" for r in rows)
    assert pairs and all(r.response for r in pairs)
    eda = read_records(tiny_augment["root"] / "work" / "eda.jsonl.gz")
    assert eda and all(r.source == "eda" and r.teacher_score is not None for r in eda)


def test_distill_takes_the_augmentation(tiny_augment: dict[str, Any], data_dir: Path) -> None:
    root: Path = tiny_augment["root"]
    student = build_tiny_classifier(root / "student", seed=4)
    config = {
        "work_dir": str(root / "pipeline"),
        "data": {"max_rows_per_source": 6},
        "teacher": {"spec": str(tiny_augment["teacher"]), "score_with_onnx": False},
        "student": {"fit": {"base_model": str(student), "batch_size": 8, "epochs": 1}},
    }  # fmt: skip
    config_path = root / "pipeline.yaml"
    config_path.write_text(yaml.safe_dump(config))
    common = ["--config", str(config_path), "--data-dir", str(data_dir)]
    _cli("data", *common)
    _cli("teacher", *common)
    rows = read_records(root / "data" / "harmaug.jsonl.gz")
    done = _cli("distill", *common, "--augment", str(root / "data" / "harmaug.jsonl.gz"))
    assert f"+ {len(rows)} augmentation rows" in done.stdout
    assert (root / "pipeline" / "student" / "best").is_dir()
