"""`MODEL_CARD.md` beside the artifact, written from the run's own outputs.

Every number in the card comes from files the pipeline wrote (manifest, parity.json, the eval
reports); the card names the commands that reproduce them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from contract import load_artifact
from train.augment.ablation import COST_TITLE, report_body
from train.config import PipelineConfig
from train.data.loaders import EVALS, SEEDS
from train.evaluation.report import ANCHORS, MEAN_SETS, EvalReport
from train.parity import describe_parity
from train.stages.paths import WorkPaths

FLOORS = (
    ("HarmBench F1 > 0.48 (Llama Guard's)", lambda s, t: s["harmbench"]["f1"] > 0.48),
    ("HarmBench AUPRC >= 0.75", lambda s, t: s["harmbench"]["auprc"] >= 0.75),
    ("OAI AUPRC >= 0.60", lambda s, t: s["oai"]["auprc"] >= 0.60),
    ("XSTest safe-prompt FPR <= 15%", lambda s, t: s["xstest"]["safe_prompt_fpr"] <= 0.15),
)


def _f(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _latency_row(name: str, lat: dict[str, Any]) -> str:
    return (
        f"| {name} | {lat.get('runtime', '–')} | {_f(lat.get('p50_ms'))} | "
        f"{_f(lat.get('p95_ms'))} | {_f(lat.get('pairs_per_s_batch1'))} |"
    )


def side_by_side(student: EvalReport, teacher: EvalReport) -> str:
    lines = [
        "| eval set | n | teacher F1@thr | student F1@thr | student F1@0.5 | teacher AUPRC | "
        "student AUPRC | student precision | student recall |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in student.results.items():
        t = teacher.results.get(name, {})
        lines.append(
            f"| {name} | {int(s['n'])} | {_f(t.get('f1'))} | {_f(s['f1'])} | "
            f"{_f(s['f1_at_0.5'])} | {_f(t.get('auprc'))} | {_f(s['auprc'])} | "
            f"{_f(s['precision'])} | {_f(s['recall'])} |"
        )
    lines.append(
        f"| **mean AUPRC ({', '.join(MEAN_SETS)})** | | | | | **{_f(teacher.mean_auprc)}** | "
        f"**{_f(student.mean_auprc)}** | | |"
    )
    xs, xt = student.results.get("xstest", {}), teacher.results.get("xstest", {})
    lines.append(
        f"| XSTest safe prompts flagged (at each model's threshold) | 250 | "
        f"{_f(xt.get('safe_prompt_fpr'))} | {_f(xs.get('safe_prompt_fpr'))} | "
        f"{_f(xs.get('safe_prompt_fpr_at_0.5'))} | | | | |"
    )
    return "\n".join(lines)


def floors(student: EvalReport, teacher: EvalReport) -> str:
    s = student.results
    rows = []
    for text, check in FLOORS:
        try:
            ok = bool(check(s, teacher.results))
        except KeyError:
            ok = False
        rows.append(f"- [{'x' if ok else ' '}] {text}")
    gap = teacher.mean_auprc - student.mean_auprc
    rows.append(f"- [{'x' if gap <= 0.05 else ' '}] mean AUPRC within 0.05 of the teacher's "
                f"(gap {gap:+.3f})")  # fmt: skip
    return "\n".join(rows)


ABLATION_REPORT = Path("train/reports/ablation.json")  # beside ablation.md, same run


def augmentation_section(cfg: PipelineConfig, report: Path = ABLATION_REPORT) -> str:
    """What the student was distilled on beyond the seeds, and the ablation's tables."""
    if not cfg.student.augment:
        return "Seeds only: no augmentation rows."
    files = "\n".join(
        f"- `{pattern}` (how it was made: `{Path(pattern).parent / 'DATASHEET.md'}`)"
        for pattern in cfg.student.augment
    )
    text = (
        "Seeds plus generated rows (the HarmAug recipe), each with the teacher's soft score:\n"
        f"{files}"
    )
    if report.is_file():
        saved = json.loads(report.read_text(encoding="utf-8"))
        body = report_body(saved["reports"], saved["costs"], cost_heading=COST_TITLE)
        text += (
            f"\n\nThe ablation ({report.with_suffix('.md')}, `python -m train augment --steps "
            f"ablation`):\n\n{body}"
        )
    return text


def write_model_card(
    cfg: PipelineConfig, artifact_dir: Path, student: EvalReport, teacher: EvalReport,
    timings: dict[str, float],
) -> Path:  # fmt: skip
    artifact = load_artifact(artifact_dir)
    m = artifact.manifest
    paths = WorkPaths(Path(cfg.work_dir))
    parity = json.loads((artifact_dir / "parity.json").read_text())["accepted"]
    stats = json.loads(paths.data_stats.read_text()) if paths.data_stats.is_file() else {}
    teacher_parity_file = paths.teacher_artifact / "parity.json"
    teacher_parity = (
        "Teacher int8 ONNX vs PyTorch: "
        + describe_parity(json.loads(teacher_parity_file.read_text())["accepted"])
        if teacher_parity_file.is_file()
        else ""
    )
    lat_s = student.extra.get("latency", {})
    lat_t = teacher.extra.get("latency", {})
    size_mb = artifact.model_path.stat().st_size / 1e6
    sfit, tfit = cfg.student.fit, cfg.teacher.fit
    data_rows = "\n".join(
        f"| {s.name} | `{s.relpath}` | {s.hub_id} | {s.license} |" for s in SEEDS.values()
    )
    eval_rows = "\n".join(f"| {e.name} | {e.hub_id} | {e.license} |" for e in EVALS.values())
    anchors = "\n".join(f"- {k}: {v}" for k, v in ANCHORS.items())
    by_source = stats.get("by_source", {})
    mix_rows = "\n".join(
        f"| {src} | {c.get('rows', 0)} | {c.get('harmful', 0)} | {c.get('safe', 0)} | "
        f"{c.get('with_response', 0)} |"
        for src, c in by_source.items()
    )
    text = f"""# {m.name} {m.version}

A prompt/response harmfulness classifier for the moderation service: **P(harmful)** for a user
prompt, or for a (prompt, response) pair. int8 ONNX, {size_mb:.1f} MB, served by `make serve`.

**License: non-commercial.** {m.license}

## Model
- Base: {m.base_model}, with a new 2-class head.
- Teacher: {m.teacher}.
- Distillation as in HarmAug: loss 0.5 x (cross-entropy on the hard label + KL to the
  teacher's [1-p, p]); {sfit.epochs} epochs, batch {sfit.batch_size}, lr {sfit.lr}, max length
  {m.max_length} tokens (prompt and response share it, longest-first truncation),
  class-balanced sampling (harmful share {sfit.harmful_share}), source weights
  {sfit.source_weights}, seed {sfit.seed}.
- Teacher training: {tfit.base_model}, {tfit.epochs} epoch(s) of
  {tfit.samples_per_epoch or "all"} samples drawn from {cfg.teacher.train_rows or "all"} rows
  of the training split, embeddings and the first {tfit.freeze_layers} layers frozen, lr
  {tfit.lr}, max length {tfit.max_length}, cross-entropy on the hard labels. The teacher scored
  {cfg.teacher.score_train_rows or "all"} training rows (the others train on their hard label
  alone){" through its int8 ONNX export" if cfg.teacher.score_with_onnx else ""}.
- Threshold **{m.threshold:.4f}**: the F1-optimal threshold on the validation split of the
  seeds (never on an eval set). Checkpoint: best validation AUPRC (epoch
  {m.metrics.get("epoch")}).
- Quantisation: {m.quantization}. Parity on {parity["rows"]} validation rows (fp32 PyTorch vs
  this ONNX): AUPRC {parity["auprc_torch_fp32"]:.4f} vs {parity["auprc_onnx"]:.4f}, max score
  difference {parity["max_abs_score_diff"]:.4f}, mean {parity["mean_abs_score_diff"]:.5f},
  {parity["decision_flips_at_threshold"]} decisions flipped (see `parity.json`).
  {teacher_parity}

## Evaluation (teacher vs student)
Positive class = harmful. F1, precision and recall at each model's own validation threshold
(student {m.threshold:.3f}, teacher {teacher.threshold:.3f}); AUPRC = average precision. The
student's full table is `eval.md` (also `eval.json`, `pr_curve.png`).

{side_by_side(student, teacher)}

Anchors (not measured here):
{anchors}

Floors of the train-core issue:
{floors(student, teacher)}

## Cost (this machine, {lat_s.get("cpu_count", "?")} CPUs shared with other jobs)
| model | runtime | p50 ms / prompt | p95 ms | prompts/s (batch 1) |
|---|---|---|---|---|
{_latency_row("student", lat_s)}
{_latency_row("teacher", lat_t)}

Latency: batch of one over the first 200 ToxicChat test prompts (50 for a PyTorch folder),
after warm-up, measured by `python -m train evaluate <folder>` (`latency` in its eval.json).
Wall clock per stage of the last `python -m train all` invocation (s; stages already done are
reused): {timings}.

## Training data
{augmentation_section(cfg)}

The eval sets are never used for training, thresholds or checkpoints: rows whose prompt equals
an eval prompt after normalisation are removed (augmentation rows too), and a leakage check
fails the run otherwise. Removed as eval prompts: {stats.get("dropped_as_eval_prompts", {})}.
Train {stats.get("train", "?")} / validation {stats.get("val", "?")} rows.

| source | rows | harmful | safe | with response |
|---|---|---|---|---|
{mix_rows}

`+refusal`: a harmful prompt paired with a refusal, labelled safe. `:alarming-words`: benign
prompts using alarming words in harmless senses, up-weighted in sampling.

| dataset | path | public id | license |
|---|---|---|---|
{data_rows}

Eval sets:

| dataset | public id | license |
|---|---|---|
{eval_rows}

## Reproduce
```
make artifact                         # = python -m train all --config train/configs/reference.yaml
python -m train evaluate {artifact_dir}   # metrics + latency of this artifact
```

## Run notes
{cfg.card_notes.strip() or "None."}

## Limitations
English-centric data; short context ({m.max_length} tokens: long responses are truncated); the
teacher is an MPNet classifier fine-tuned here on the seeds, not a released guard, so the student
inherits its errors; see the floors above for where the model falls short.
"""
    out = artifact_dir / "MODEL_CARD.md"
    out.write_text(text, encoding="utf-8")
    return out
