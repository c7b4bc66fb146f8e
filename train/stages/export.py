"""Stage `export`: the student to an int8 ONNX artifact, accepted only if parity holds.

Quantisation settings are tried from the smallest model to the most conservative; the first
whose validation AUPRC is within `export.max_auprc_drop` of fp32 PyTorch ships. If none is,
the export fails (the fp32 ONNX is not silently shipped instead).

Thresholds come from the dev suite, never an eval set: the prompt threshold before export
(`export.threshold_set`), the response threshold for pairs with a response after it, from the
shipped int8 model's own scores (`export.response_threshold`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contract import PairLayout, has_response, load_artifact
from train.artifact_export import export_artifact, update_manifest
from train.base_models import describe_model
from train.config import PipelineConfig
from train.data.loaders import SEEDS
from train.data.records import read_records
from train.parity import ParityError, describe_parity, measure_parity
from train.training_summary import SUMMARY_FILE, pair_layout
from train.work_paths import WorkPaths

NON_COMMERCIAL = (
    "CC BY-NC 4.0 (non-commercial): trained on ToxicChat and Alpaca data, which are CC BY-NC "
    "4.0; retrain without them for commercial use. Base model Apache-2.0."
)


def training_data_manifest() -> list[dict[str, Any]]:
    return [{"name": s.name, "hub_id": s.hub_id, "license": s.license} for s in SEEDS.values()]


def strategies(keep_fp32: list[str], embeddings: bool) -> list[dict[str, Any]]:
    smallest = [{"keep_fp32": keep_fp32, "per_channel": False, "quantize_embeddings": True}]
    return (smallest if embeddings else []) + [
        {"keep_fp32": keep_fp32, "per_channel": False},
        {"keep_fp32": keep_fp32, "per_channel": True},
        # ONNX node names use "/": this keeps both the attention and the FFN output
        # projections fp32, then also the FFN input projection.
        {"keep_fp32": [*keep_fp32, "/output/dense"], "per_channel": True},
        {"keep_fp32": [*keep_fp32, "/output/dense", "/intermediate/dense"], "per_channel": True},
    ]


def threshold_rule(cfg: PipelineConfig) -> str:
    if cfg.export.threshold_set is None:
        return "F1-optimal on the seeds' validation split"
    return f"flags {cfg.export.target_fpr:.0%} of the dev {cfg.export.threshold_set} safe rows"


def decision_threshold(
    cfg: PipelineConfig, paths: WorkPaths, model_dir: Path, summary: dict[str, Any],
    max_length: int, layout: PairLayout | None = None,
) -> float:  # fmt: skip
    """From the dev suite when the config names a dev set, else the validation F1 optimum."""
    if cfg.export.threshold_set is None:
        return float(summary["val"]["threshold"])
    from train.evaluation.compare import threshold_at_fpr
    from train.modeling import Classifier

    rows = [r for r in read_records(paths.dev_set(cfg.export.threshold_set)) if r.label == 0]
    model = Classifier.load(model_dir, max_length, layout=layout)
    scores = model.predict([r.pair for r in rows], 64)
    threshold = threshold_at_fpr(scores.tolist(), cfg.export.target_fpr)
    print(f"[export] threshold {threshold:.4f}: flags {cfg.export.target_fpr:.0%} of the "
          f"{len(rows)} safe rows of dev {cfg.export.threshold_set}")  # fmt: skip
    return threshold


def response_threshold(
    paths: WorkPaths, artifact_dir: Path, extra_dev: dict[str, str]
) -> tuple[float | None, str]:
    """(threshold, rule) for pairs with a response: the F1 optimum of the exported model's
    scores on the labelled rows with a response of the experiment's dev suite
    (`experiment.dev_sets`: the rows decide, not the sets' names); None without such rows of
    both classes."""
    from train.evaluation.metrics import f1_response_threshold
    from train.scoring.onnx_artifact import OnnxArtifactScorer
    from train.stages.experiment import dev_sets

    if not paths.scored_val.is_file():  # no dev suite in this work dir (no teacher stage)
        print("[export] no response threshold: the work dir has no dev suite")
        return None, "none: no dev suite"
    groups = {
        name: [(r.pair, r.label) for r in rows if r.label is not None and has_response(r.response)]
        for name, rows in dev_sets(paths, extra_dev).items()
    }
    labelled = [row for group in groups.values() for row in group]
    sets = ", ".join(f"{name} {len(group)}" for name, group in groups.items() if group)
    pairs, labels = [p for p, _ in labelled], [y for _, y in labelled]
    scores = OnnxArtifactScorer(artifact_dir).score(pairs) if pairs else []
    threshold = f1_response_threshold(labels, scores, [True] * len(labels))
    if threshold is None:
        print(f"[export] no response threshold: {len(labels)} labelled dev rows with a "
              "response (both classes needed); pairs take the threshold")  # fmt: skip
        return None, "none: no labelled dev rows with a response of both classes"
    rule = f"F1-optimal on the {len(labels)} labelled dev rows with a response ({sets}), int8"
    print(f"[export] response threshold {threshold:.4f}: {rule}")
    return threshold, rule


def category_thresholds(
    paths: WorkPaths, model_dir: Path, max_length: int, layout: PairLayout | None,
    extra_dev: dict[str, str],
) -> dict[str, float]:  # fmt: skip
    """Per-hazard F1-optimal thresholds on the dev suite's rows whose source names hazards:
    the experiment's dev suite (`experiment.dev_sets`), so the manifest's thresholds are the
    ones its report computed."""
    from train.data.hazards import hazard_matrix
    from train.evaluation.categories import hazard_thresholds
    from train.modeling import Classifier
    from train.stages.experiment import dev_sets

    rows = [r for group in dev_sets(paths, extra_dev).values() for r in group]
    model = Classifier.load(model_dir, max_length, layout=layout)
    _, scores = model.predict_all([r.pair for r in rows], 64)
    assert scores is not None
    thresholds = hazard_thresholds(hazard_matrix(rows), scores)
    print("[export] category thresholds (dev): "
          + ", ".join(f"{c} {t:.3f}" for c, t in thresholds.items()))  # fmt: skip
    return thresholds


def run(
    cfg: PipelineConfig, *, model_dir: Path | None = None, out_dir: Path | None = None,
    teacher: str | None = None,
) -> Path:  # fmt: skip
    from train.stages.experiment import load_experiment_config

    paths = WorkPaths(Path(cfg.work_dir))
    model_dir = Path(model_dir or paths.student_model)
    out_dir = Path(out_dir or cfg.export.out_dir)
    summary = json.loads((model_dir / SUMMARY_FILE).read_text())
    max_length = int(summary["config"]["max_length"])
    layout = pair_layout(summary)
    threshold = decision_threshold(cfg, paths, model_dir, summary, max_length, layout)
    head: dict[str, Any] = {}
    extra_dev = load_experiment_config(cfg.experiment).extra_dev
    if summary["config"].get("categories"):
        head["category_thresholds"] = category_thresholds(
            paths, model_dir, max_length, layout, extra_dev
        )
    val = read_records(paths.scored_val if paths.scored_val.is_file() else paths.val)
    tried = []
    for strategy in strategies(cfg.export.keep_fp32, cfg.export.quantize_embeddings):
        export_artifact(
            model_dir, out_dir, name=cfg.export.name, version=cfg.export.version,
            base_model=describe_model(summary["config"]["base_model"]), max_length=max_length,
            threshold=threshold, teacher=teacher, license=NON_COMMERCIAL,
            training_data=training_data_manifest(),
            metrics={"validation": summary["val"], "epoch": summary["epoch"],
                     "threshold_rule": threshold_rule(cfg), "fit": summary["config"]},
            pair_layout=layout, **head, **strategy,
        )  # fmt: skip
        parity = measure_parity(model_dir, out_dir, val, max_length, threshold, layout)
        print(f"[export] {strategy}: {describe_parity(parity)}")
        tried.append({**strategy, **parity})
        if parity["auprc_drop"] <= cfg.export.max_auprc_drop:
            response, rule = (
                response_threshold(paths, out_dir, extra_dev)
                if cfg.export.response_threshold == "f1"
                else (None, "none (export.response_threshold): pairs take the threshold")
            )
            metrics = {**load_artifact(out_dir).manifest.metrics, "response_threshold_rule": rule}
            update_manifest(out_dir, response_threshold=response, metrics=metrics)
            (out_dir / "parity.json").write_text(
                json.dumps({"accepted": tried[-1], "tried": tried}, indent=2) + "\n"
            )
            size = (out_dir / "model.onnx").stat().st_size / 1e6
            print(f"[export] wrote {out_dir} ({size:.1f} MB model.onnx)")
            return out_dir
    raise ParityError(
        f"every quantisation setting lost more than {cfg.export.max_auprc_drop} AUPRC: {tried}"
    )
