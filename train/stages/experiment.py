"""Stage `experiment`: train each arm with N seeds, score dev and eval sets, compare.

`python -m train experiment --config C --arms A,B --seeds 3` trains every (arm, seed) on the
run's teacher-scored training split (the `data` and `teacher` stages run first), keeps each
run's per-example scores in `<work>/experiment/<arm>/seed-<n>/scores.json.gz`, and skips runs
that already have them, so an interrupted experiment resumes. The seed sets the head's
initialisation and the data order. Every decision input comes from the dev suite:

- the threshold of each run is set on the dev ToxicChat slice at `target_fpr` of its safe
  prompts (real user traffic); rows with a response are judged at the run's response threshold
  instead, the F1 optimum on the labelled dev rows with a response (as export sets it);
- the arms are ranked by their mean dev AUPRC (seed validation split, held-out templates, the
  dev ToxicChat slice, the held-out jailbreak attack);
- an arm beats the baseline when it is higher on at least one dev set or dev hazard and lower
  on none, each judged by a paired bootstrap whose p-values are Holm-adjusted over the arm's
  dev comparisons (`correction: holm`; `none` is the rule the reports before it used);
- `choice: binary-first` decides the binary model on the dev sets, then the category head among
  the heads fitted on it on the dev hazards, each a Holm family of its own; `joint` (the rule
  of the reports before it) takes an arm's binary and head as one (`choose`).

The eval sets are scored once per run and reported beside, never used to choose.
`report.md` / `report.json`: mean and sd over seeds of every metric, and a paired bootstrap of
each arm against the baseline on every set.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from contract import CATEGORY_CODES, Thresholds, has_response
from train.config import PipelineConfig
from train.data.hazards import hazard_matrix
from train.data.loaders import load_evals
from train.data.records import Record, read_records
from train.evaluation.categories import (
    hazard_metrics,
    hazard_thresholds,
    openai_key_metrics,
    parse_oai_flags,
)
from train.evaluation.compare import (
    METRICS,
    SetScores,
    Threshold,
    holm,
    mean_sd,
    paired_bootstrap,
    run_metrics,
    threshold_at_fpr,
)
from train.evaluation.metrics import f1_response_threshold
from train.evaluation.refusal_prefix import refusal_prefix_score
from train.stages.distill import load_augmentation
from train.stages.teacher_categories import soft_targets
from train.trainer import FitConfig, fit
from train.training_summary import SUMMARY_FILE, pair_layout
from train.work_paths import WorkPaths

SCORES_FILE = "scores.json.gz"
# the share of an unlabelled dev set's prompts that the baseline's teacher passes and a run flags
GUARD_METRIC = "flagged_where_teacher_passes"
RESPONSES = "responses"  # per row of a set's saved scores: 1 when the row has a response
REPORTED = ("auprc", "f1", "safe_flagged", "harmful_caught", "spearman", "agreement_at_0.5")


@dataclass
class ArmConfig:
    description: str = ""
    exclude_sources: list[str] = field(default_factory=list)  # substrings of `Record.source`
    augment: list[str] = field(default_factory=list)  # rescored by the run's teacher
    # rows labelled by construction (e.g. data/response_pairs/train.jsonl.gz): hard labels kept;
    # a probe arm fits its category head on them as well
    labelled: list[str] = field(default_factory=list)
    # files of edits that are safe by construction (e.g. data/counterfactuals, whose rows carry
    # no label of their own): every row trains as safe, with no teacher score
    safe_by_construction: list[str] = field(default_factory=list)
    # no training: this arm's runs are another arm's, with a category head fitted on their
    # frozen features (train/category_probe.py); binary scores identical to that arm's
    category_probe_of: str | None = None
    # a probe arm: rows whose source names no hazard learn the teacher's category scores
    # (`python -m train teacher-categories`; train/stages/teacher_categories.py)
    teacher_categories: bool = False
    # a probe arm: settings of its fit (`train.category_probe.fit_probe`: weight_decay, steps, lr)
    probe: dict[str, Any] = field(default_factory=dict)
    # "dataset": Do-Not-Answer rows the policy leaves unlabelled are harmful again (0.2.0)
    donotanswer_labels: str = "policy"
    # The 0.2.0 recipe: unlabelled rows get cross-entropy on teacher score >= 0.5, and the
    # class balancer counts them by that pseudo-label.
    pseudo_labels: bool = False
    # another teacher's scores of this work dir's training split (its `teacher_scores/` folder,
    # relative to this work dir): the arm distils from that teacher, e.g. one retrained in
    # another layout on a copy of this work dir's data (train/configs/teacher-layout.yaml)
    teacher_scores: str | None = None
    fit: dict[str, Any] = field(default_factory=dict)  # FitConfig overrides


@dataclass
class ExperimentConfig:
    seeds: list[int] = field(default_factory=lambda: [1, 2, 3])
    baseline: str = ""
    arms: dict[str, dict[str, Any]] = field(default_factory=dict)
    threshold_set: str = "toxicchat"
    target_fpr: float = 0.05
    eval_sets: list[str] = field(
        default_factory=lambda: ["oai", "toxicchat", "harmbench", "xstest"]
    )
    bootstrap: int = 1000
    correction: str = "holm"  # over an arm's dev comparisons: "holm" or "none"
    # "binary-first": the binary model, then the head fitted on it, each decided on its own dev
    # family; "joint": an arm's binary and head decided together (`choose`)
    choice: str = "binary-first"
    # Rows with a response: "f1" judges them at each run's response threshold (as export sets
    # it), "none" at the run's one threshold, as reports made before response thresholds did.
    response_threshold: str = "f1"
    # dev sets beyond the data stage's (name -> file of labelled rows); every run is scored on
    # them, runs done before a set was added included
    extra_dev: dict[str, str] = field(default_factory=dict)
    score_batch_size: int = 64
    eval_max_rows: int | None = None  # smoke tests only: the first N rows of each eval set
    # A guard on real traffic: on a dev set without human labels (the held-out transfer text),
    # an arm that flags more of the prompts the baseline's teacher passes than the baseline
    # does, beyond the noise, counts as lower there (`GUARD_METRIC`, in the binary family).
    transfer_guard: bool = False

    def arm(self, name: str) -> ArmConfig:
        if name not in self.arms:
            raise KeyError(f"arm {name!r} is not in the config's experiment.arms {list(self.arms)}")
        return ArmConfig(**self.arms[name])


def arm_rows(train: list[Record], arm: ArmConfig) -> list[Record]:
    rows = [r for r in train if not any(key in r.source for key in arm.exclude_sources)]
    if arm.donotanswer_labels == "dataset":
        rows = [replace(r, label=1) if r.source == "donotanswer" else r for r in rows]
    if arm.pseudo_labels:
        rows = [
            replace(r, label=int(r.teacher_score >= 0.5))
            if r.label is None and r.teacher_score is not None
            else r
            for r in rows
        ]
    return rows


def teacher_dir(paths: WorkPaths, arm: ArmConfig) -> Path:
    """The `teacher_scores/` folder of the arm's teacher."""
    own = paths.scored_train.parent
    return own if arm.teacher_scores is None else paths.root / arm.teacher_scores


def teacher_rows(train: list[Record], paths: WorkPaths, arm: ArmConfig) -> list[Record]:
    """The training split as the arm's teacher scored it: the work dir's own teacher, or the
    one whose `teacher_scores/` the arm names (the same rows, in the same order)."""
    if arm.teacher_scores is None:
        return train
    other = read_records(teacher_dir(paths, arm) / "train.jsonl.gz")
    if other != train:  # records compare without their teacher scores
        raise ValueError(f"{arm.teacher_scores}: not a scoring of this work dir's training split")
    return other


def labelled_rows(arm: ArmConfig) -> list[Record]:
    """The arm's rows labelled by construction: hard labels only, never a teacher score."""
    labelled = [r for path in arm.labelled for r in read_records(Path(path))]
    safe = [
        replace(r, label=0) for path in arm.safe_by_construction for r in read_records(Path(path))
    ]
    return [replace(r, teacher_score=None) for r in labelled + safe]


def fit_config(base: FitConfig, arm: ArmConfig, seed: int) -> FitConfig:
    return FitConfig(**{**dataclasses.asdict(base), **arm.fit, "seed": seed})


def _set_scores(
    rows: list[Record], scores: np.ndarray, categories: np.ndarray | None, dev: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "labels": [r.label for r in rows],
        "scores": [round(float(s), 6) for s in scores],
        RESPONSES: responses(rows),
    }
    if dev:
        out["teacher"] = [r.teacher_score for r in rows]
    if rows and rows[0].source == "xstest":
        out["types"] = [r.category for r in rows]
    out.update(refusal_prefix_scores(rows))
    if categories is not None:
        out["categories"] = [[round(float(v), 4) for v in row] for row in categories]
        if dev:
            out["hazards"] = [
                [None if math.isnan(v) else round(float(v), 4) for v in row]
                for row in hazard_matrix(rows)
            ]
        elif rows and rows[0].source == "oai":
            out["oai_flags"] = [r.variant for r in rows]
    return out


def responses(rows: list[Record]) -> list[int]:
    """Which rows have a response (they take the response threshold)."""
    return [int(has_response(r.response)) for r in rows]


def refusal_prefix_scores(rows: list[Record]) -> dict[str, Any]:
    """The refusal-prefix baseline's scores on a set whose rows all carry a response."""
    if not rows or any(not r.response for r in rows):
        return {}
    return {"refusal_prefix": [refusal_prefix_score(r.response) for r in rows]}


def score_run(
    model_dir: Path, dev: dict[str, list[Record]], evals: dict[str, list[Record]],
    batch_size: int,
) -> dict[str, Any]:  # fmt: skip
    """Scores of a trained run, encoded as it was trained (its max length and pair layout)."""
    from train.modeling import Classifier

    summary = json.loads((model_dir / SUMMARY_FILE).read_text())
    max_length = int(summary["config"]["max_length"])
    clf = Classifier.load(model_dir, max_length, layout=pair_layout(summary))
    sets: dict[str, Any] = {}
    for kind, groups in (("dev", dev), ("eval", evals)):
        for name, rows in groups.items():
            scores, cats = clf.predict_all([r.pair for r in rows], batch_size, f"{kind} {name}")
            sets[f"{kind}/{name}"] = _set_scores(rows, scores, cats, kind == "dev")
    return sets


def dev_sets(paths: WorkPaths, extra: dict[str, str]) -> dict[str, list[Record]]:
    """The dev suite: the seeds' validation split and held-out sets (with the teacher's
    scores), and the config's extra dev sets."""
    out = {"val": read_records(paths.scored_val)}
    for name in paths.dev_sets:
        out[name] = read_records(paths.scored_dev(name))
    for name, path in extra.items():
        out[name] = read_records(Path(path))
    return out


def backfill(
    out: Path, dev: dict[str, list[Record]], evals: dict[str, list[Record]],
    batch_size: int,
) -> None:  # fmt: skip
    """Score a finished run on the sets it has no scores for (a dev suite that grew)."""
    with gzip.open(out / SCORES_FILE, "rt", encoding="utf-8") as fh:
        saved = json.load(fh)
    changed = False
    for kind, groups in (("dev", dev), ("eval", evals)):
        for name, rows in groups.items():
            found = saved["sets"].get(f"{kind}/{name}")
            if found is not None and "refusal_prefix" not in found:
                baseline = refusal_prefix_scores(rows)
                found.update(baseline)
                changed = changed or bool(baseline)
            if found is not None and RESPONSES not in found and len(rows) == len(found["labels"]):
                found[RESPONSES] = responses(rows)
                changed = True
    if changed:
        _write_scores(out, saved)
    missing_dev = {n: r for n, r in dev.items() if f"dev/{n}" not in saved["sets"]}
    missing_eval = {n: r for n, r in evals.items() if f"eval/{n}" not in saved["sets"]}
    if not missing_dev and not missing_eval:
        return
    print(f"[experiment] {out}: scoring the new sets {sorted(missing_dev) + sorted(missing_eval)}")
    saved["sets"].update(score_run(out / "best", missing_dev, missing_eval, batch_size))
    _write_scores(out, saved)


def _write_scores(out: Path, saved: dict[str, Any]) -> None:
    tmp = out / (SCORES_FILE + ".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8") as fh:
        json.dump(saved, fh)
    tmp.replace(out / SCORES_FILE)


def run_dir(paths: WorkPaths, arm: str, seed: int) -> Path:
    return paths.root / "experiment" / arm / f"seed-{seed}"


def run_experiment(
    cfg: PipelineConfig, exp: ExperimentConfig, data_dir: Path, arms: list[str],
    seeds: list[int],
) -> None:  # fmt: skip
    paths = WorkPaths(Path(cfg.work_dir))
    train, val = read_records(paths.scored_train), read_records(paths.scored_val)
    dev = dev_sets(paths, exp.extra_dev)
    evals = {k: v[: exp.eval_max_rows] for k, v in load_evals(data_dir, exp.eval_sets).items()}
    # seed-major: an interrupted experiment still has paired runs of every arm
    todo = [(a, s) for s in seeds for a in arms]
    for k, (arm_name, seed) in enumerate(todo, 1):
        out = run_dir(paths, arm_name, seed)
        arm = exp.arm(arm_name)
        fit_cfg = fit_config(cfg.student.fit, arm, seed)
        if (out / SCORES_FILE).is_file():
            print(f"[experiment] {k}/{len(todo)} {arm_name} seed {seed}: done, skipped")
            backfill(out, dev, evals, exp.score_batch_size)
            continue
        if arm.category_probe_of is not None:
            base = run_dir(paths, arm.category_probe_of, seed)
            if not (base / "DONE").is_file():
                raise RuntimeError(f"{arm_name} needs {base} trained first (list it before)")
            from train.category_probe import add_category_head

            probe_rows = arm_rows(teacher_rows(train, paths, arm), arm) + labelled_rows(arm)
            soft = None
            if arm.teacher_categories:
                soft = soft_targets(probe_rows, teacher_dir(paths, arm))
            best = add_category_head(base / "best", probe_rows, out / "best", seed=seed, soft=soft,
                                     probe=arm.probe)  # fmt: skip
            sets = score_run(best, dev, evals, exp.score_batch_size)
            epoch = json.loads((best / SUMMARY_FILE).read_text())["epoch"]
            _write_scores(out, {"arm": arm_name, "seed": seed, "epoch": epoch, "sets": sets})
            continue
        rows = arm_rows(teacher_rows(train, paths, arm), arm)
        if arm.augment:
            rows += arm_rows(load_augmentation(arm.augment, data_dir, cfg), arm)
        rows += labelled_rows(arm)
        print(f"[experiment] {k}/{len(todo)} {arm_name} seed {seed}: {len(rows)} rows "
              f"({sum(r.label is None for r in rows)} unlabelled)")  # fmt: skip
        result = fit(rows, val, out, fit_cfg, use_teacher_scores=True)
        sets = score_run(result.best_dir, dev, evals, exp.score_batch_size)
        _write_scores(out, {"arm": arm_name, "seed": seed, "epoch": result.epoch, "sets": sets})
    summarize(paths, exp, arms, seeds)


# --- the report -------------------------------------------------------------------------------


def _as_set(raw: dict[str, Any]) -> SetScores:
    labels = np.array([math.nan if v is None else v for v in raw["labels"]], dtype=np.float64)
    teacher = raw.get("teacher")
    t = None
    if teacher is not None and all(v is not None for v in teacher):
        t = np.asarray(teacher, dtype=np.float64)
    return SetScores(labels, np.asarray(raw["scores"], dtype=np.float64), t)


@dataclass
class Run:
    arm: str
    seed: int
    threshold: float
    sets: dict[str, SetScores]
    raw: dict[str, Any]
    response_threshold: float | None = None  # None: rows with a response take `threshold`
    responses: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)  # per set

    def thresholds(self, name: str) -> Threshold:
        """The threshold of each row of a set: the response threshold where the row has a
        response (`contract.Thresholds`, as the service judges it), else the run's."""
        flags = self.responses.get(name)
        if flags is None or not flags.any():
            return self.threshold
        judged = Thresholds(self.threshold, self.response_threshold)
        return np.where(flags, judged.for_input(True), judged.for_input(False))


def load_run(path: Path, exp: ExperimentConfig) -> Run:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        raw = json.load(fh)
    sets = {name: _as_set(s) for name, s in raw["sets"].items()}
    dev = sets[f"dev/{exp.threshold_set}"]
    threshold = threshold_at_fpr(dev.scores[dev.labels == 0].tolist(), exp.target_fpr)
    return Run(raw["arm"], int(raw["seed"]), threshold, sets, raw["sets"])


def teacher_threshold(run: Run, exp: ExperimentConfig) -> float | None:
    """The run's teacher's threshold by the experiment's rule (None: no teacher scores)."""
    dev = run.sets[f"dev/{exp.threshold_set}"]
    if dev.teacher is None:
        return None
    return threshold_at_fpr(dev.teacher[dev.labels == 0].tolist(), exp.target_fpr)


def teacher_verdicts(run: Run, name: str, exp: ExperimentConfig) -> npt.NDArray[np.float64] | None:
    """An unlabelled set's prompts as the run's teacher judges them (1 flagged, 0 passed, NaN
    for rows with a response); None for a labelled set or one without teacher scores."""
    s = run.sets[name]
    if s.teacher is None or not np.isnan(s.labels).all():
        return None
    threshold = teacher_threshold(run, exp)
    if threshold is None:
        return None
    verdicts = (s.teacher >= threshold).astype(np.float64)
    flags = recorded_responses(run.raw.get(name, {}))
    return verdicts if flags is None else np.where(flags, math.nan, verdicts)


def recorded_responses(raw: dict[str, Any]) -> npt.NDArray[np.bool_] | None:
    """Which rows of a saved set have a response, where its scores say: per row since response
    thresholds; before them, only for sets whose rows all have one (they carry the
    refusal-prefix baseline); None when they do not say."""
    if RESPONSES in raw:
        return np.asarray(raw[RESPONSES], dtype=bool)
    if "refusal_prefix" in raw:
        return np.ones(len(raw["labels"]), dtype=bool)
    return None


def with_responses(runs: dict[str, list[Run]], rule: str = "f1") -> dict[str, list[Run]]:
    """Each arm's runs with their rows' responses and their response threshold: the F1
    optimum on the run's labelled dev rows with a response.

    A set is the same rows in every run of a report (the paired bootstrap rests on it too), so a
    set whose scores do not say which rows have a response (scored before the refusal-prefix
    baseline) takes what another run's say; rows nothing says anything about count as prompts
    alone: the seeds' validation split in reports decided before response thresholds."""
    known: dict[str, npt.NDArray[np.bool_]] = {}
    for run in (r for rs in runs.values() for r in rs):
        for name, raw in run.raw.items():
            recorded = recorded_responses(raw)
            if recorded is not None and (name not in known or RESPONSES in raw):
                known[name] = recorded

    if rule not in ("f1", "none"):
        raise ValueError(f"experiment.response_threshold: {rule!r} is not 'f1' or 'none'")

    def judged(run: Run) -> Run:
        per_set: dict[str, npt.NDArray[np.bool_]] = {}
        for name, s in run.sets.items():
            found = recorded_responses(run.raw[name])
            if found is None:
                shared = known.get(name)
                found = shared if shared is not None and len(shared) == len(s.labels) else None
            per_set[name] = np.zeros(len(s.labels), dtype=bool) if found is None else found
        if rule == "none":
            return replace(run, responses=per_set)
        dev = sorted(n for n in run.sets if n.startswith("dev/"))
        threshold = (
            f1_response_threshold(
                np.concatenate([run.sets[n].labels for n in dev]),
                np.concatenate([run.sets[n].scores for n in dev]),
                np.concatenate([per_set[n] for n in dev]),
            )
            if dev
            else None
        )
        return replace(run, response_threshold=threshold, responses=per_set)

    return {arm: [judged(r) for r in rs] for arm, rs in runs.items()}


def response_rows(run: Run) -> int:
    """The labelled dev rows a run's response threshold was chosen on."""
    return sum(
        int((flags & ~np.isnan(run.sets[name].labels)).sum())
        for name, flags in run.responses.items()
        if name.startswith("dev/")
    )


def dev_hazards(
    raw_sets: dict[str, Any],
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]] | None:
    """(targets, category scores) over a run's dev sets with a category head's scores, in name
    order (so that two runs' rows line up)."""
    names = sorted(n for n, s in raw_sets.items() if n.startswith("dev/") and "categories" in s)
    if not names:
        return None
    targets = [[math.nan if v is None else v for v in row]
               for n in names for row in raw_sets[n]["hazards"]]  # fmt: skip
    scores = [row for n in names for row in raw_sets[n]["categories"]]
    return np.array(targets, dtype=np.float32), np.array(scores, dtype=np.float32)


def category_metrics(raw_sets: dict[str, Any]) -> dict[str, Any] | None:
    """A category run's hazard thresholds (dev), dev hazard metrics and OAI key metrics."""
    dev = dev_hazards(raw_sets)
    if dev is None:
        return None
    targets, scores = dev
    thresholds = hazard_thresholds(targets, scores)
    out: dict[str, Any] = {
        "thresholds": thresholds,
        "dev hazards": hazard_metrics(targets, scores, thresholds),
        "oai categories": {},
    }
    oai = raw_sets.get("eval/oai")
    if oai is not None and "categories" in oai:
        flags = [parse_oai_flags(v) for v in oai["oai_flags"]]
        cats = np.array(oai["categories"], dtype=np.float32)
        out["oai categories"] = openai_key_metrics(flags, cats, thresholds)
    return out


def ranked_sets(metrics: dict[str, dict[str, float]]) -> set[str]:
    """The dev sets with both classes (an AUPRC) in one run's metrics."""
    return {name for name, m in metrics.items() if name.startswith("dev/") and "auprc" in m}


def dev_score(metrics: dict[str, dict[str, float]], sets: set[str] | None = None) -> float:
    """The ranking figure: mean AUPRC over the dev sets that have both classes; only over
    `sets` when given, the sets every run of a report was scored on, so that a run scored on a
    dev set added later is not ranked on more sets than the others."""
    names = ranked_sets(metrics) if sets is None else ranked_sets(metrics) & sets
    values = [metrics[name]["auprc"] for name in sorted(names)]
    return float(np.mean(values)) if values else math.nan


def load_runs(paths: WorkPaths, exp: ExperimentConfig, arm: str, seeds: list[int]) -> list[Run]:
    """The arm's finished runs among these seeds."""
    found = [run_dir(paths, arm, s) / SCORES_FILE for s in seeds]
    return [load_run(p, exp) for p in found if p.is_file()]


def summarize(paths: WorkPaths, exp: ExperimentConfig, arms: list[str], seeds: list[int]) -> None:
    loaded = {arm: load_runs(paths, exp, arm, seeds) for arm in arms}
    runs = with_responses(loaded, exp.response_threshold)
    per_run: dict[str, list[dict[str, Any]]] = {
        arm: [
            {
                "seed": r.seed,
                "threshold": r.threshold,
                "response_threshold": r.response_threshold,
                "response_rows": response_rows(r),
                "metrics": {n: run_metrics(s, r.thresholds(n)) for n, s in r.sets.items()},
            }
            for r in rs
        ]
        for arm, rs in runs.items()
    }
    every_run = [r for arm_runs in per_run.values() for r in arm_runs]
    shared = (
        set.intersection(*(ranked_sets(r["metrics"]) for r in every_run)) if every_run else set()
    )
    for arm, arm_runs in per_run.items():
        for r, run in zip(arm_runs, runs[arm], strict=True):
            r["dev_score"] = dev_score(r["metrics"], shared)
            if (cats := category_metrics(run.raw)) is not None:
                r["categories"] = cats
    table: dict[str, dict[str, dict[str, tuple[float, float]]]] = {}
    for arm, arm_runs in per_run.items():
        table[arm] = {}
        names = sorted({n for r in arm_runs for n in r["metrics"]})
        for name in names:
            table[arm][name] = {
                m: mean_sd([r["metrics"].get(name, {}).get(m, math.nan) for r in arm_runs])
                for m in REPORTED
                if any(m in r["metrics"].get(name, {}) for r in arm_runs)
            }
        table[arm]["dev score"] = {"mean dev AUPRC": mean_sd([r["dev_score"] for r in arm_runs])}
        for group in ("dev hazards", "oai categories"):
            rows = [r["categories"][group] for r in arm_runs if "categories" in r]
            for name in sorted({k for row in rows for k in row}):
                table[arm][f"{group}/{name}"] = {
                    m: mean_sd([row.get(name, {}).get(m, math.nan) for row in rows])
                    for m in ("auprc", "f1")
                }
    prefix = refusal_prefix_table(runs)
    if prefix:
        table["refusal-prefix"] = prefix
    boot = bootstrap_against_baseline(runs, exp)
    choice = choose(exp, per_run, boot)
    report = {"config": dataclasses.asdict(exp), "runs": per_run,
              "table": table, "bootstrap": boot, "choice": choice}  # fmt: skip
    out = paths.root / "experiment"
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "report.md").write_text(markdown(exp, table, boot, per_run, choice))
    print((out / "report.md").read_text())


def refusal_prefix_table(runs: dict[str, list[Run]]) -> dict[str, dict[str, tuple[float, float]]]:
    """The refusal-prefix baseline (no seeds: sd 0) on every set with responses."""
    first = next((rs[0] for rs in runs.values() if rs), None)
    if first is None:
        return {}
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for name, raw in first.raw.items():
        if "refusal_prefix" not in raw:
            continue
        labels = first.sets[name].labels
        scores = np.asarray(raw["refusal_prefix"], dtype=np.float64)
        metrics = run_metrics(SetScores(labels, scores), 0.5)
        out[name] = {m: (metrics[m], 0.0) for m in ("auprc", "f1") if m in metrics}
    return out


def _mean_hazard_auprc(run: dict[str, Any]) -> float:
    hazards = run.get("categories", {}).get("dev hazards", {})
    return float(np.mean([m["auprc"] for m in hazards.values()])) if hazards else -math.inf


def choose(
    exp: ExperimentConfig,
    per_run: dict[str, list[dict[str, Any]]],
    boot: dict[str, dict[str, dict[str, Any]]],
) -> dict[str, Any]:
    """What ships, from the dev suite alone (`exp.choice` names the rule).

    Only arms with every seed run are candidates: no decision rests on fewer seeds; and when
    the baseline has a category head, only arms with one (the head is a feature). A new choice
    must be higher than the baseline on at least one comparison of its family and lower on
    none (Holm-adjusted unless `correction: none`); otherwise the baseline stays (the simpler
    recipe: a difference inside the noise is no difference). Its seed with the best dev score.

    `binary-first`: the binary model is decided first, on the dev sets alone: the binary runs
    with the highest mean dev AUPRC (a probe arm's are those of `category_probe_of`). Then the
    head, among the heads fitted on those runs: the highest mean dev hazard AUPRC. On the
    baseline's binary runs a head must win on the dev hazards as above. On new binary runs the
    best of their heads ships, and the hazards on which it is below the baseline's head are
    named: the binary score alone decides `flagged` by default (service/category_policy.py),
    and a head is a probe fitted after its binary model, so a head setting never vetoes a
    binary model the dev sets found better.

    `joint`: the arm with the highest mean dev AUPRC (ties, such as category heads fitted on
    the same binary runs, broken by mean dev hazard AUPRC), judged on the dev sets and the dev
    hazards together.
    """
    complete = max((len(rs) for rs in per_run.values()), default=0)
    with_head = all("categories" in r for r in per_run.get(exp.baseline, []))
    candidates = {
        a: rs
        for a, rs in per_run.items()
        if rs and len(rs) == complete and (not with_head or all("categories" in r for r in rs))
    }
    if not candidates:
        return {}
    means = {a: float(np.mean([r["dev_score"] for r in rs])) for a, rs in candidates.items()}
    hazards = {
        a: float(np.mean([_mean_hazard_auprc(r) for r in rs])) for a, rs in candidates.items()
    }
    noise = "the noise" if exp.correction == "none" else "the noise (Holm, {} tests)"
    if exp.choice == "joint":
        arm, why = _choose_joint(exp, means, hazards, boot, noise)
    elif exp.choice == "binary-first":
        arm, why = _choose_binary_first(exp, means, hazards, boot, noise)
    else:
        raise ValueError(f"experiment.choice: 'binary-first' or 'joint', got {exp.choice!r}")
    seed = max(per_run[arm], key=lambda r: r["dev_score"])["seed"]
    out: dict[str, Any] = {"arm": arm, "seed": seed, "mean_dev_auprc": means, "why": why}
    if with_head:
        out["mean_dev_hazard_auprc"] = hazards
    return out


def _verdicts(
    boot: dict[str, dict[str, dict[str, Any]]], arm: str, hazards: bool | None = None
) -> tuple[list[str], list[str], int]:
    """The dev comparisons an arm is higher and lower on beyond the noise (the Holm decision
    where there is one), and how many were tested: all of them, or only the hazards' (True)
    or only the dev sets' (False)."""
    higher, lower, tests = [], [], 0
    for key, b in boot.get(arm, {}).items():
        if not _in_family(key) or (hazards is not None and _is_hazard(key) != hazards):
            continue
        tests += 1
        verdict = b.get("decision", b["verdict"])
        name = key.removesuffix(" auprc")
        if key.endswith(GUARD_METRIC):  # flagging more where the teacher passes is worse;
            verdict = "lower" if verdict == "higher" else "no difference"  # less is no win
            name = key.removesuffix(f" {GUARD_METRIC}") + " (more flagged where the teacher passes)"
        if verdict == "higher":
            higher.append(name)
        elif verdict == "lower":
            lower.append(name)
    return higher, lower, tests


def _choose_joint(
    exp: ExperimentConfig,
    means: dict[str, float],
    hazards: dict[str, float],
    boot: dict[str, dict[str, dict[str, Any]]],
    noise: str,
) -> tuple[str, str]:
    best = max(means, key=lambda a: (means[a], hazards[a]))
    higher, lower, tests = _verdicts(boot, best)
    wins = best == exp.baseline or (bool(higher) and not lower)
    arm = best if wins or exp.baseline not in means else exp.baseline
    noise = noise.format(tests)
    why = f"`{best}` has the highest mean dev AUPRC ({means[best]:.4f})"
    if arm != best:
        why += (
            f" but its AUPRC is below `{exp.baseline}`'s beyond {noise} on {', '.join(lower)}"
            if lower
            else f" but is not above `{exp.baseline}` beyond {noise} on any dev set or hazard"
        )
    elif best != exp.baseline and exp.correction != "none":
        why += f", higher beyond {noise} on {', '.join(higher)} and lower on none"
    return arm, why


def _judged(
    boot: dict[str, dict[str, dict[str, Any]]], arm: str, hazards: bool, noise: str
) -> tuple[bool, str]:
    """Whether an arm beats the baseline on one family (the dev sets or the dev hazards), and
    why in words."""
    higher, lower, n = _verdicts(boot, arm, hazards)
    tests = noise.format(n)
    if lower:
        return False, f"below the baseline's beyond {tests} on {', '.join(lower)}"
    if not higher:
        what = "hazard" if hazards else "dev set"
        return False, f"not above the baseline's beyond {tests} on any {what}"
    return True, f"higher beyond {tests} on {', '.join(higher)} and lower on none"


def _choose_binary_first(
    exp: ExperimentConfig,
    means: dict[str, float],
    hazards: dict[str, float],
    boot: dict[str, dict[str, dict[str, Any]]],
    noise: str,
) -> tuple[str, str]:
    def binary_of(arm: str) -> str:
        return str(exp.arms.get(arm, {}).get("category_probe_of") or arm)

    def best_head(binary: str) -> str:
        heads = [a for a in means if binary_of(a) == binary]
        return max(heads, key=lambda a: (hazards[a], means[a]))

    base = binary_of(exp.baseline)
    binary = max({binary_of(a) for a in means}, key=lambda b: means[best_head(b)])
    why = f"the binary runs of `{binary}` have the highest mean dev AUPRC"
    why += f" ({means[best_head(binary)]:.4f})"
    if binary != base and exp.baseline in means:
        wins, reason = _judged(boot, best_head(binary), False, noise)
        why += (", " if wins else " but are ") + reason
        binary = binary if wins else base
    head = best_head(binary)
    if math.isinf(hazards[head]):  # no run of these arms has a category head
        return head, why + "; no arm here fits a category head"
    why += f"; of the heads on `{binary}`, `{head}` has the highest mean dev hazard AUPRC"
    why += f" ({hazards[head]:.4f})"
    if head == exp.baseline or exp.baseline not in means:
        return head, why
    if binary != base:  # new binary runs ship with their best head; what it costs is named
        _, lower, n = _verdicts(boot, head, hazards=True)
        tests = noise.format(n)
        return head, why + f", below the baseline's head beyond {tests} on " + (
            ", ".join(lower) or "no hazard"
        )
    wins, reason = _judged(boot, head, True, noise)
    return (head if wins else exp.baseline), why + (", " if wins else " but is ") + reason


def bootstrap_against_baseline(
    runs: dict[str, list[Run]], exp: ExperimentConfig
) -> dict[str, dict[str, dict[str, Any]]]:
    base = runs.get(exp.baseline) or []
    if not base:
        return {}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for arm, arm_runs in runs.items():
        if arm == exp.baseline or not arm_runs:
            continue
        out[arm] = {}
        for name in base[0].sets:
            if any(name not in r.sets for r in [*arm_runs, *base]):
                continue  # a set some run was never scored on: no paired comparison
            labels = base[0].sets[name].labels
            # (row name, truth, metric): the human labels, then the guard's teacher verdicts
            compared = [(m, labels, m) for m in ("auprc", "safe_flagged", "harmful_caught")]
            guarded = exp.transfer_guard and name.startswith("dev/")
            verdicts = teacher_verdicts(base[0], name, exp) if guarded else None
            if verdicts is not None:
                compared.append((GUARD_METRIC, verdicts, "safe_flagged"))
            arm_scores = [(r.sets[name].scores, r.thresholds(name)) for r in arm_runs]
            base_scores = [(r.sets[name].scores, r.thresholds(name)) for r in base]
            for suffix, truth, metric in compared:
                b = paired_bootstrap(truth, arm_scores, base_scores, METRICS[metric], exp.bootstrap)
                if b is not None:
                    out[arm][f"{name} {suffix}"] = {**dataclasses.asdict(b), "verdict": b.verdict}
        out[arm].update(bootstrap_hazards(arm_runs, base, exp.bootstrap))
        if exp.correction == "holm":
            for family in _families(exp, out[arm]):
                for key, adjusted in holm(family).items():
                    row = out[arm][key]
                    row["holm_p"] = adjusted
                    row["decision"] = (
                        "no difference"
                        if adjusted >= 0.05
                        else "higher"
                        if row["diff"] > 0
                        else "lower"
                    )
    return out


def _families(exp: ExperimentConfig, rows: dict[str, dict[str, Any]]) -> list[dict[str, float]]:
    """The p-values Holm adjusts together: one family per decision the rule makes."""
    tested = {k: b["p"] for k, b in rows.items() if _in_family(k)}
    if exp.choice == "joint":
        return [tested]
    hazards = {k: p for k, p in tested.items() if _is_hazard(k)}
    return [{k: p for k, p in tested.items() if k not in hazards}, hazards]


def _is_hazard(key: str) -> bool:
    return key.startswith("dev hazards/")


def _in_family(key: str) -> bool:
    """A bootstrap row the choice rests on: a dev set's or a dev hazard's AUPRC, or the guard."""
    return key.startswith("dev") and key.endswith((" auprc", f" {GUARD_METRIC}"))


def bootstrap_hazards(
    arm_runs: list[Run], base: list[Run], resamples: int
) -> dict[str, dict[str, Any]]:
    """Paired bootstrap of each hazard's dev AUPRC (rows with a hard target), when both arms
    have a category head and were scored on the same dev sets."""
    arm_dev = [dev_hazards(r.raw) for r in arm_runs]
    base_dev = [dev_hazards(r.raw) for r in base]
    both = [*arm_dev, *base_dev]
    if any(d is None for d in both) or len({d[0].shape for d in both if d is not None}) != 1:
        return {}
    targets = base_dev[0][0]  # type: ignore[index]
    out: dict[str, dict[str, Any]] = {}
    for j, code in enumerate(CATEGORY_CODES):
        known = np.isin(targets[:, j], (0.0, 1.0))
        labels = targets[known, j].astype(np.float64)
        if not 0 < labels.sum() < len(labels):
            continue
        b = paired_bootstrap(
            labels,
            [(d[1][known, j].astype(np.float64), 0.5) for d in arm_dev if d is not None],
            [(d[1][known, j].astype(np.float64), 0.5) for d in base_dev if d is not None],
            METRICS["auprc"],
            resamples,
        )
        if b is not None:
            out[f"dev hazards/{code} auprc"] = {**dataclasses.asdict(b), "verdict": b.verdict}
    return out


def _ms(value: tuple[float, float]) -> str:
    mean, sd = value
    return "–" if math.isnan(mean) else f"{mean:.3f} ± {sd:.3f}"


_RESPONSE_RULE = (
    "Rows with a response are judged at a response threshold per run, the F1 optimum on its "
    "labelled dev rows with a response (F1, flagged and caught rates; AUPRC and the choice do "
    "not depend on either threshold). "
)


def markdown(
    exp: ExperimentConfig,
    table: dict[str, dict[str, dict[str, tuple[float, float]]]],
    boot: dict[str, dict[str, dict[str, Any]]],
    per_run: dict[str, list[dict[str, Any]]],
    choice: dict[str, Any] | None = None,
) -> str:
    split = exp.response_threshold != "none"
    lines = [
        "# Experiment report",
        "",
        f"Seeds {exp.seeds}; baseline `{exp.baseline}`. Threshold per run: {exp.target_fpr:.0%} "
        f"of the dev `{exp.threshold_set}` safe prompts flagged. "
        + (_RESPONSE_RULE if split else "")
        + "Arms are ranked on the dev sets only; eval sets are reported beside and never used "
        "to choose.",
        "",
    ]
    for arm in table:
        if arm not in per_run:  # the refusal-prefix baseline: a rule, no seeds
            lines.append(f"- `{arm}`: GCG's refusal prefixes, harmful = no prefix in the answer")
            continue
        desc = exp.arms.get(arm, {}).get("description", "")
        lines.append(f"- `{arm}` ({len(per_run[arm])} seeds): {desc}")
    lines += ["", "## Mean ± sd over seeds", ""]
    lines.append("| set | metric | " + " | ".join(f"`{a}`" for a in table) + " |")
    lines.append("|---|---|" + "---|" * len(table))
    names = sorted(
        {n for t in table.values() for n in t}, key=lambda n: (not n.startswith("dev"), n)
    )
    for name in names:
        metrics = sorted({m for t in table.values() for m in t.get(name, {})}, key=str)
        for m in metrics:
            cells = [_ms(table[a].get(name, {}).get(m, (math.nan, math.nan))) for a in table]
            lines.append(f"| {name} | {m} | " + " | ".join(cells) + " |")
    if boot:
        holm = exp.correction != "none"  # two more columns: the decision the choice rests on
        lines += ["", f"## Paired bootstrap against `{exp.baseline}` ({exp.bootstrap} resamples)",
                  ""]  # fmt: skip
        if holm:
            over = ("the arm's dev comparisons" if exp.choice == "joint" else
                    "the arm's dev sets, and apart over its dev hazards")  # fmt: skip
            guard = (
                f" and the `{GUARD_METRIC}` rows (more is lower: flags on real prompts "
                "that the baseline's teacher passes)"
                if exp.transfer_guard
                else ""
            )
            lines += ["The decision column: the dev AUPRC rows the choice rests on" + guard
                      + f", with their p-values Holm-adjusted over {over}; the others are "
                      "reported at 95% each.", ""]  # fmt: skip
        extra = (" Holm p | decision |", "---|---|") if holm else ("", "")
        lines += ["| arm | set and metric | difference | 95% interval | verdict |" + extra[0],
                  "|---|---|---|---|---|" + extra[1]]  # fmt: skip
        for arm, rows in boot.items():
            for key, b in rows.items():
                row = (f"| `{arm}` | {key} | {b['diff']:+.3f} | "
                       f"[{b['low']:+.3f}, {b['high']:+.3f}] | {b['verdict']} |")  # fmt: skip
                if holm:
                    holm_p = f"{b['holm_p']:.3f}" if "holm_p" in b else ""
                    row += f" {holm_p} | {b.get('decision', '')} |"
                lines.append(row)
    lines += [
        "",
        "## Per run",
        "",
        "| arm | seed | threshold | response threshold (dev rows) | mean dev AUPRC |"
        if split
        else "| arm | seed | threshold | mean dev AUPRC |",
        "|---|---|---|---|---|" if split else "|---|---|---|---|",
    ]
    for arm, arm_runs in per_run.items():
        for r in arm_runs:
            response = r["response_threshold"]
            shown = "–" if response is None else f"{response:.4f} ({r['response_rows']})"
            cells = [f"`{arm}`", str(r["seed"]), f"{r['threshold']:.4f}"]
            cells += [shown] if split else []
            lines.append("| " + " | ".join([*cells, f"{r['dev_score']:.4f}"]) + " |")
    if choice:
        lines += ["", f"**Choice (dev only):** `{choice['arm']}`, seed {choice['seed']}: "
                  f"{choice['why']}."]  # fmt: skip
    return "\n".join(lines) + "\n"


def load_experiment_config(raw: dict[str, Any] | None) -> ExperimentConfig:
    raw = dict(raw or {})
    unknown = set(raw) - {f.name for f in dataclasses.fields(ExperimentConfig)}
    if unknown:
        raise ValueError(f"experiment: unknown keys {sorted(unknown)}")
    exp = ExperimentConfig(**raw)
    if exp.correction not in ("holm", "none"):
        raise ValueError(f"experiment.correction: 'holm' or 'none', got {exp.correction!r}")
    if exp.choice not in ("binary-first", "joint"):
        raise ValueError(f"experiment.choice: 'binary-first' or 'joint', got {exp.choice!r}")
    for name in exp.arms:
        exp.arm(name)  # unknown arm keys fail here, before any training
    return exp
