"""The HarmAug ablation: teacher vs students distilled without / with HarmAug / with EDA.

`python -m train augment --steps ablation`. Every row is measured by the same
`train.stages.evaluate` on the same eval sets; costs (parameters, int8 size, batch-1 latency,
batched throughput with ONNX Runtime) are measured for all models in one process, one after
another, so they share the machine's load.
Every student (no augmentation, HarmAug, EDA) is distilled with the reference config's student
settings into the reference work dir (`ablation-<name>/`) and exported next to it; the shipped
student is the reference run's own (`make artifact`), trained on what `student.augment` names.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from train.augment.config import AugmentConfig
from train.augment.pipeline import eda_path
from train.config import PipelineConfig, load_config
from train.data.loaders import load_evals
from train.data.records import read_records
from train.evaluation.latency import measure_latency
from train.scoring.onnx_artifact import OnnxArtifactScorer
from train.stages import distill, evaluate, export
from train.training_summary import SUMMARY_FILE
from train.work_paths import WorkPaths

ABLATION_DIR = "ablation"
COST_PROMPTS = 200
THROUGHPUT_BATCH = 32
COST_TITLE = (
    f"Cost on this machine (ONNX Runtime, 2 threads, {COST_PROMPTS} ToxicChat test prompts)"
)


@dataclass(frozen=True)
class Row:
    name: str
    model_dir: Path  # HF folder (parameter count)
    artifact: Path  # int8 ONNX artifact (size, latency, throughput)
    eval_json: Path


def _param_count(model_dir: Path) -> float:
    from safetensors import safe_open

    total = 0
    for file in model_dir.glob("*.safetensors"):
        with safe_open(str(file), framework="np") as fh:
            for key in fh.keys():  # noqa: SIM118 (safe_open has no __iter__)
                shape = fh.get_slice(key).get_shape()
                count = 1
                for dim in shape:
                    count *= int(dim)
                total += count
    return total / 1e6


def _student_row(
    pcfg: PipelineConfig, data_dir: Path, name: str, slug: str, augment: list[str], teacher: str
) -> Row:
    """Distil (unless done), export (unless done) and evaluate (unless done) one student."""
    paths = WorkPaths(Path(pcfg.work_dir))
    run_name = f"{ABLATION_DIR}-{slug}"
    model_dir = paths.root / run_name / "best"
    if not (model_dir / SUMMARY_FILE).is_file():
        distill.run(pcfg, data_dir, augment=augment, run_name=run_name)
    artifact = paths.root / run_name / "artifact"
    if not (artifact / "parity.json").is_file():
        export.run(pcfg, model_dir=model_dir, out_dir=artifact, teacher=teacher)
    out = paths.eval_dir(run_name)
    if not (out / "eval.json").is_file():
        evaluate.run(pcfg, data_dir, artifact, name=name, out_dir=out, with_latency=False)
    return Row(name, model_dir, artifact, out / "eval.json")


def measure_costs(rows: list[Row], data_dir: Path) -> dict[str, dict[str, float]]:
    prompts = [r.pair for r in load_evals(data_dir, ["toxicchat"])["toxicchat"][:COST_PROMPTS]]
    costs: dict[str, dict[str, float]] = {}
    for row in rows:
        scorer = OnnxArtifactScorer(row.artifact, threads=2, batch_size=THROUGHPUT_BATCH)
        latency = measure_latency(scorer.run, prompts)
        began = time.perf_counter()
        scorer.score(prompts)  # length-sorted batches of THROUGHPUT_BATCH, as a batcher serves
        elapsed = time.perf_counter() - began
        costs[row.name] = {
            "params_m": _param_count(row.model_dir),
            "int8_mb": (row.artifact / "model.onnx").stat().st_size / 1e6,
            "p50_ms": latency["p50_ms"],
            "mean_ms": latency["mean_ms"],
            "batch1_per_s": latency["pairs_per_s_batch1"],
            f"batch{THROUGHPUT_BATCH}_per_s": len(prompts) / elapsed,
        }
        print(f"[ablation] cost {row.name}: {json.dumps(costs[row.name])}")
    return costs


def _f(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}"


def quality_table(reports: dict[str, dict[str, Any]]) -> str:
    """F1 and AUPRC per set, mean AUPRC and XSTest per model."""
    sets = ("oai", "toxicchat", "harmbench")
    head = "| model | " + " | ".join(f"{s} F1 | {s} AUPRC" for s in sets)
    head += " | mean AUPRC | XSTest AUPRC | XSTest safe-prompt FPR |"
    lines = [head, "|---" * (len(sets) * 2 + 4) + "|"]
    for name, rep in reports.items():
        res = rep["results"]
        cells = [f"{_f(res[s]['f1'])} | {_f(res[s]['auprc'])}" for s in sets]
        xs = res.get("xstest", {})
        lines.append(
            f"| {name} | " + " | ".join(cells)
            + f" | **{_f(rep['mean_auprc_oai_toxicchat_harmbench'])}** | "
            f"{_f(xs.get('auprc'))} | {_f(xs.get('safe_prompt_fpr'))} |"
        )  # fmt: skip
    return "\n".join(lines)


def cost_table(costs: dict[str, dict[str, float]]) -> str:
    """Size, latency and throughput per model, latency also as a ratio to the first (teacher)."""
    teacher_ms = next(iter(costs.values()))["p50_ms"] if costs else None
    cost_lines = [
        "| model | params (M) | int8 ONNX (MB) | p50 latency, batch 1 (ms) | vs teacher | "
        f"pairs/s, batch 1 | pairs/s, batch {THROUGHPUT_BATCH} |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, c in costs.items():
        ratio = c["p50_ms"] / teacher_ms if teacher_ms else float("nan")
        cost_lines.append(
            f"| {name} | {c['params_m']:.1f} | {c['int8_mb']:.1f} | {c['p50_ms']:.1f} | "
            f"{ratio:.2f} | {c['batch1_per_s']:.0f} | {c[f'batch{THROUGHPUT_BATCH}_per_s']:.0f} |"
        )
    return "\n".join(cost_lines)


def report_body(
    reports: dict[str, dict[str, Any]],
    costs: dict[str, dict[str, float]],
    cost_heading: str = f"## {COST_TITLE}",
) -> str:
    """The report without its title and notes: legend, quality and cost tables, other sets.

    The model card embeds it under its own heading, with `cost_heading` a plain line.
    """
    other = {
        name: {s: _f(r["results"][s]["auprc"]) for s in ("dices990", "dices350")
               if s in r["results"]}
        for name, r in reports.items()
    }  # fmt: skip
    return (
        "Written by `python -m train augment --steps ablation` (see train/stages/ablation.py). "
        "F1 at each model's own threshold (chosen on the seeds' validation split); AUPRC = "
        "average precision; mean AUPRC over OAI, ToxicChat and HarmBench; XSTest safe-prompt "
        "FPR = share of XSTest's 250 safe prompts flagged.\n\n"
        + quality_table(reports)
        + f"\n\n{cost_heading}\n\n"
        + cost_table(costs)
        + "\n\nOther eval sets (AUPRC): "
        + json.dumps(other)
    )


def render(
    reports: dict[str, dict[str, Any]], costs: dict[str, dict[str, float]], notes: list[str]
) -> str:
    return (
        "# HarmAug ablation\n\n"
        + report_body(reports, costs)
        + "\n\n## Notes\n\n"
        + "\n".join(f"- {n}" for n in notes)
        + "\n"
    )


def _describe(path: Path) -> str:
    rows = read_records(path)
    pairs = sum(1 for r in rows if r.response is not None)
    return f"`{path}`: {len(rows)} rows ({len(rows) - pairs} instructions alone, {pairs} pairs)"


def run_ablation(
    cfg: AugmentConfig,
    pipeline_config: Path | None,
    work_dir: Path | None,
    data_dir: Path,
    report_path: Path,
    harmaug_files: list[Path] | None = None,
) -> Path:
    pcfg = load_config(pipeline_config)
    if work_dir is not None:
        pcfg.work_dir = str(work_dir)
    paths = WorkPaths(Path(pcfg.work_dir))
    teacher_eval = paths.eval_dir("teacher") / "eval.json"
    for needed in (teacher_eval, paths.teacher_artifact):
        if not needed.exists():
            raise FileNotFoundError(
                f"{needed} is missing: run the reference pipeline first (`make artifact`)"
            )
    # Every student row is its own run with the reference student settings; the augmentation
    # the reference config ships with (`student.augment`) must not leak into the other rows.
    pcfg.student.augment = []
    harmaug = harmaug_files or [cfg.data_file]
    teacher_name = f"reference teacher ({paths.teacher_artifact})"
    rows = [
        Row("teacher (MPNet)", paths.teacher_model, paths.teacher_artifact, teacher_eval),
        _student_row(pcfg, data_dir, "student, no augmentation", "none", [], teacher_name),
    ]
    for i, path in enumerate(harmaug):
        slug = "harmaug" if i == 0 else f"harmaug-{i + 1}"
        name = f"student + HarmAug ({len(read_records(path))} rows)"
        rows.append(_student_row(pcfg, data_dir, name, slug, [str(path)], teacher_name))
    rows.append(
        _student_row(pcfg, data_dir, "student + EDA baseline", "eda", [str(eda_path(cfg))],
                     teacher_name)
    )  # fmt: skip
    reports = {r.name: json.loads(r.eval_json.read_text()) for r in rows}
    costs = measure_costs(rows, data_dir)
    mean = {n: r["mean_auprc_oai_toxicchat_harmbench"] for n, r in reports.items()}
    teacher, base = rows[0].name, rows[1].name
    notes = []
    for row in rows[2:-1]:
        aug = mean[row.name]
        ratio = costs[row.name]["p50_ms"] / costs[teacher]["p50_ms"]
        notes += [
            f"{row.name} vs no augmentation, mean AUPRC: {aug:.4f} vs {mean[base]:.4f} "
            f"({'beats' if aug > mean[base] else 'does not beat'} it; floor: >=).",
            f"{row.name} vs teacher: {aug - mean[teacher]:+.4f} mean AUPRC (floor: within "
            f"0.03); p50 latency / teacher's: {ratio:.2f} (floor: <= 0.25).",
        ]
    notes += [f"HarmAug file {_describe(p)}" for p in harmaug]
    notes.append(
        f"EDA file {_describe(eda_path(cfg))}. Every student uses the reference config's "
        "student settings (same steps, same seed) on top of the same teacher-scored seed mix."
    )
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(render(reports, costs, notes), encoding="utf-8")
    report_path.with_suffix(".json").write_text(
        json.dumps({"reports": reports, "costs": costs, "notes": notes}, indent=2) + "\n"
    )
    print(f"[ablation] wrote {report_path}")
    return report_path
