"""MODEL_CARD.md from a run's records: each section renders what it is given, in order."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict
from pathlib import Path

from train.artifact_export import update_manifest
from train.card import floors, write_model_card
from train.config import PipelineConfig, StudentConfig
from train.evaluation.report import EvalReport

PARITY = {"rows": 40, "auprc_torch_fp32": 0.9123, "auprc_onnx": 0.9101, "auprc_drop": 0.0022,
          "f1_torch_fp32": 0.8, "f1_onnx": 0.79, "max_abs_score_diff": 0.0456,
          "mean_abs_score_diff": 0.00789, "decision_flips_at_threshold": 3}  # fmt: skip
HEADINGS = ["Model", "Evaluation (teacher vs student)", "Categories",
            "Cost (this machine, 2 CPUs shared with other jobs)", "Training data", "Reproduce",
            "Run notes", "Limitations"]  # fmt: skip


def _result(auprc: float, f1: float, **extra: float) -> dict[str, float]:
    return {"n": 10.0, "f1": f1, "f1_at_0.5": f1 - 0.01, "auprc": auprc, "precision": 0.5,
            "recall": 0.85, "fpr": 0.05, **extra}  # fmt: skip


def _report(name: str, threshold: float, auprc: float, oai_categories: bool = False) -> EvalReport:
    results = {
        "oai": _result(auprc, 0.61),
        "toxicchat": _result(auprc, 0.62),
        "harmbench": _result(0.75, 0.55),
        "xstest": _result(0.8, 0.7, safe_prompt_fpr=0.22, **{"safe_prompt_fpr_at_0.5": 0.3}),
    }
    extra: dict[str, object] = {
        "latency": {
            "runtime": "onnxruntime",
            "p50_ms": 2.5,
            "p95_ms": 4.0,
            "pairs_per_s_batch1": 400.0,
            "cpu_count": 2,
        },
        "xstest_flagged_by_type": {"homonyms": {"label": "safe", "n": 25, "flagged": 0.12}},
    }
    if oai_categories:
        extra["oai_categories"] = {"violence": {"n": 24.0, "positives": 5.0, "auprc": 0.456,
                                                "f1": 0.321}}  # fmt: skip
    return EvalReport(name, threshold, results, {}, extra)


def _card(artifact: Path, tmp_path: Path, **cfg_fields: object) -> str:
    folder = tmp_path / "artifact"
    shutil.copytree(artifact, folder)
    (folder / "parity.json").write_text(json.dumps({"accepted": PARITY}))
    cfg = PipelineConfig(work_dir=str(tmp_path / "work"), **cfg_fields)  # type: ignore[arg-type]
    student = _report("student", 0.5, 0.70, oai_categories=True)
    out = write_model_card(cfg, folder, student, _report("teacher", 0.6, 0.755), {"data": 1.5})
    return out.read_text(encoding="utf-8")


def test_sections_come_in_order_with_the_run_s_numbers(tiny_artifact: Path, tmp_path: Path) -> None:
    card = _card(tiny_artifact, tmp_path, card_notes="Tried a wider head.")
    assert card.startswith("# tiny-random 0.0.0\n")
    # the experiment report the card embeds has headings of its own
    assert [h for h in re.findall(r"^## (.+)$", card, flags=re.M) if h in HEADINGS] == HEADINGS
    assert "Threshold **0.5000**" in card
    assert "AUPRC 0.9123 vs 0.9101, max score\n  difference 0.0456, mean 0.00789" in card
    assert "3 decisions flipped" in card
    assert "| oai | 10 | 0.610 | 0.610 | 0.600 | 0.755 | 0.700 | 0.500 | 0.850 |" in card
    assert "| student | onnxruntime | 2.500 | 4.000 | 400.000 |" in card
    assert "| homonyms | safe | 25 | 12% |" in card
    assert "reused): {'data': 1.5}." in card
    assert "## Run notes\nTried a wider head.\n" in card
    assert f"python -m train evaluate {tmp_path / 'artifact'}" in card
    assert "This artifact has no category head" in card
    assert "Teacher int8 ONNX vs PyTorch" not in card  # no teacher export in this work dir


def test_both_thresholds_are_stated_with_how_each_was_chosen(
    tiny_artifact: Path, tmp_path: Path
) -> None:
    without = _card(tiny_artifact, tmp_path / "without")
    assert "Pairs with a response take the same threshold." in without
    artifact = tmp_path / "with-response-threshold"
    shutil.copytree(tiny_artifact, artifact)
    rule = "F1-optimal on the 12 labelled dev rows with a response (val 12), int8"
    update_manifest(artifact, response_threshold=0.0412, metrics={"response_threshold_rule": rule})
    card = _card(artifact, tmp_path / "with")
    assert "Threshold **0.5000** for prompts alone" in card
    assert f"Pairs with a non-empty response: **0.0412**, {rule}" in card
    assert "(student 0.500, 0.041 for rows with a response (HarmBench, DICES)" in card


def test_a_run_without_its_records_still_gets_a_card(tiny_artifact: Path, tmp_path: Path) -> None:
    card = _card(tiny_artifact, tmp_path)
    assert "Train ? / validation ? rows" in card  # no data/stats.json
    assert "## Run notes\nNone.\n" in card


def test_the_teacher_export_s_parity_is_named_when_there_is_one(
    tiny_artifact: Path, tmp_path: Path
) -> None:
    teacher_onnx = tmp_path / "work" / "teacher" / "onnx"
    teacher_onnx.mkdir(parents=True)
    (teacher_onnx / "parity.json").write_text(json.dumps({"accepted": PARITY}))
    assert "Teacher int8 ONNX vs PyTorch: parity on 40 validation rows" in _card(
        tiny_artifact, tmp_path
    )


def test_the_category_head_section_names_hazards_and_openai_results(
    tiny_category_artifact: Path, tmp_path: Path
) -> None:
    card = _card(tiny_category_artifact, tmp_path)
    assert "a 14-hazard category head (below)" in card
    assert "S1 Violent Crimes" in card and "S1 0.500" in card
    assert "| violence | 24 | 5 | 0.456 | 0.321 |" in card


def test_floors_tick_what_the_student_meets() -> None:
    ticks = floors(_report("student", 0.5, 0.70), _report("teacher", 0.6, 0.755)).splitlines()
    assert "- [x] HarmBench AUPRC >= 0.70" in ticks
    assert "- [ ] OAI AUPRC >= 0.72" in ticks
    assert "- [ ] XSTest safe prompts flagged <= 10%" in ticks
    assert ticks[-1] == "- [x] mean AUPRC within 0.05 of the teacher's (gap +0.037)"


def test_the_recipe_is_the_exported_run_s_own(tiny_artifact: Path, tmp_path: Path) -> None:
    # an experiment arm trains with settings of its own: the card follows the manifest's record
    folder = tmp_path / "recorded"
    shutil.copytree(tiny_artifact, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    fit = {**asdict(StudentConfig().fit), "samples_per_epoch": 9400, "lr": 1e-4}
    manifest["metrics"]["fit"] = fit
    manifest["pair_layout"] = {"max_length": 256, "prompt_tokens": 96, "response_tokens": 156}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    card = _card(folder, tmp_path)
    assert "epochs of 9400 samples" in card and "lr 0.0001" in card
    assert "pairs in a 256-token layout: the prompt's last 96 tokens" in card


def test_the_card_embeds_the_report_of_the_experiment_behind_the_choice(
    tiny_artifact: Path, tmp_path: Path
) -> None:
    report = tmp_path / "experiment-x.md"
    report.write_text("# Experiment report\n\n**Choice (dev only):** `arm-x`, seed 2.\n")
    card = _card(tiny_artifact, tmp_path, card_report=str(report))
    assert f"### The experiment behind this choice ({report}" in card
    assert "**Choice (dev only):** `arm-x`, seed 2." in card
    missing = _card(tiny_artifact, tmp_path / "other", card_report=str(tmp_path / "none.md"))
    assert "The experiment behind this choice" not in missing


def test_rewriting_the_card_puts_the_saved_evaluation_beside_the_artifact(
    tiny_artifact: Path, tmp_path: Path
) -> None:
    from train.evaluation.report import write_report
    from train.pipeline import rewrite_card
    from train.work_paths import WorkPaths

    folder = tmp_path / "artifact"
    shutil.copytree(tiny_artifact, folder)
    (folder / "parity.json").write_text(json.dumps({"accepted": PARITY}))
    (folder / "eval.json").write_text("{}")  # an older evaluation
    paths = WorkPaths(tmp_path / "work")
    student = _report("student", 0.5, 0.70)
    write_report(student, paths.eval_dir("student"))
    write_report(_report("teacher", 0.6, 0.755), paths.eval_dir("teacher"))
    cfg = PipelineConfig(work_dir=str(paths.root))
    cfg.export.out_dir = str(folder)
    rewrite_card(cfg)
    saved = paths.eval_dir("student")
    for name in ("eval.json", "eval.md", "pr_curve.png"):
        assert (folder / name).read_bytes() == (saved / name).read_bytes()
    assert "| oai | 10 | 0.610 |" in (folder / "MODEL_CARD.md").read_text()
