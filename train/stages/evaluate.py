"""Stage `evaluate`: an artifact or HF model folder on the eval sets (+ latency on this box)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from contract import MANIFEST_FILE
from train.config import PipelineConfig
from train.data.loaders import load_evals
from train.evaluation.latency import measure_latency
from train.evaluation.report import EvalReport, evaluate_scorer, print_report, write_report
from train.scoring import load_scorer
from train.work_paths import WorkPaths

LATENCY_PAIRS = 200


def latency(target: Path, data_dir: Path, max_length: int) -> dict[str, float]:
    """Batch-of-one latency over the first ToxicChat test prompts (real chat prompt lengths)."""
    rows = load_evals(data_dir, ["toxicchat"])["toxicchat"][:LATENCY_PAIRS]
    pairs = [r.pair for r in rows]
    if (target / MANIFEST_FILE).is_file():
        from train.scoring.onnx_artifact import OnnxArtifactScorer

        onnx = OnnxArtifactScorer(target)
        result = measure_latency(onnx.run, pairs)
        result["model_mb"] = (target / "model.onnx").stat().st_size / 1e6
        result["runtime"] = "onnxruntime, 2 threads"  # type: ignore[assignment]
        return result
    from train.modeling import Classifier

    clf = Classifier.load(target, max_length)
    result = measure_latency(lambda p: clf.predict(p, batch_size=1), pairs[:50])
    result["params_m"] = sum(p.numel() for p in clf.model.parameters()) / 1e6
    result["runtime"] = "pytorch fp32, 2 threads"  # type: ignore[assignment]
    return result


def category_results(target: Path, data_dir: Path, max_rows: int | None) -> dict[str, Any]:
    """An artifact with a category head: per OpenAI key, AUPRC and F1 on OAI's own flags."""
    from train.evaluation.categories import openai_key_metrics, parse_oai_flags
    from train.scoring.onnx_artifact import OnnxArtifactScorer

    onnx = OnnxArtifactScorer(target)
    rows = load_evals(data_dir, ["oai"])["oai"][:max_rows]
    scores = onnx.score_categories([r.pair for r in rows])
    if scores is None:
        return {}
    manifest = onnx.artifact.manifest
    flags = [parse_oai_flags(r.variant) for r in rows]
    return {
        "oai_categories": openai_key_metrics(flags, scores, manifest.category_thresholds),
        "category_thresholds": manifest.category_thresholds,
    }


def run(
    cfg: PipelineConfig, data_dir: Path, target: Path, *, name: str | None = None,
    out_dir: Path | None = None, with_latency: bool = True,
) -> EvalReport:  # fmt: skip
    paths = WorkPaths(Path(cfg.work_dir))
    target = Path(target)
    scorer, thresholds = load_scorer(
        target, cache=paths.cache, max_length=cfg.teacher.score_max_length
    )
    label = name or target.name
    report = evaluate_scorer(
        scorer,
        label,
        thresholds.prompt,
        data_dir,
        cfg.evaluate.sets,
        cfg.evaluate.max_rows,
        response_threshold=thresholds.response,
    )
    if (target / MANIFEST_FILE).is_file() and "oai" in cfg.evaluate.sets:
        report.extra.update(category_results(target, data_dir, cfg.evaluate.max_rows))
    if with_latency:
        report.extra["latency"] = latency(target, data_dir, cfg.teacher.score_max_length)
        report.extra["latency"]["cpu_count"] = os.cpu_count() or 0
    out = Path(out_dir or paths.eval_dir(label))
    write_report(report, out)
    print_report(report)
    print(f"[evaluate] mean AUPRC (OAI, ToxicChat, HarmBench) {report.mean_auprc:.4f}; "
          f"latency {json.dumps(report.extra.get('latency', {}))}; wrote {out}")  # fmt: skip
    return report
