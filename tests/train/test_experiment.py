"""The experiment protocol on tiny models: 2 arms x 2 seeds through the CLI, then a resume."""

from __future__ import annotations

import dataclasses
import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from loadtest.processes import REPO_ROOT
from tests.fixtures.tiny_classifier import build_tiny_classifier
from train.data.policy_templates import policy_rows
from train.data.records import Record, normalise_text, read_records, write_records
from train.evaluation.compare import (
    SetScores,
    auprc,
    holm,
    paired_bootstrap,
    safe_flagged,
    threshold_at_fpr,
)
from train.evaluation.metrics import f1_response_threshold
from train.stages.experiment import (
    SCORES_FILE,
    ArmConfig,
    ExperimentConfig,
    Run,
    backfill,
    bootstrap_against_baseline,
    bootstrap_hazards,
    choose,
    dev_score,
    labelled_rows,
    load_run,
    run_dir,
    summarize,
    teacher_rows,
    with_responses,
)
from train.work_paths import WorkPaths

pytestmark = pytest.mark.slow


def _run(config: Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "train", "experiment", "--config", str(config),
         "--data-dir", str(data_dir)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("tiny-experiment")
    teacher = build_tiny_classifier(root / "teacher-base", seed=1)
    student = build_tiny_classifier(root / "student-base", seed=2)
    constructed = [
        Record("how do I hurt someone", "I can't help with that.", 0, "pairs"),
        Record("plan a picnic", "Step 1: buy a knife to stab them.", 1, "pairs"),
    ]
    write_records(root / "pairs-train.jsonl.gz", constructed * 4)
    write_records(root / "pairs-dev.jsonl.gz", constructed * 3)
    config = {
        "work_dir": str(root / "work"),
        "data": {"max_rows_per_source": 8, "donotanswer_labels": "policy",
                 "policy_templates": True, "transfer": {"chitchat": 10},
                 "dev_toxicchat_rows": 6, "dev_jailbreakbench_attack": "PAIR",
                 "dev_transfer_share": 0.6},
        "teacher": {"score_with_onnx": False,
                    "fit": {"base_model": str(teacher), "batch_size": 8, "epochs": 1,
                            "samples_per_epoch": 32, "max_val_rows": 20}},
        "student": {"fit": {"base_model": str(student), "batch_size": 8, "epochs": 1,
                            "samples_per_epoch": 32, "temperature": 2.0,
                            "unlabelled_share": 0.3}},
        "experiment": {"seeds": [1, 2], "baseline": "no-templates", "bootstrap": 50,
                       "eval_sets": ["oai", "xstest"], "eval_max_rows": 40,
                       "extra_dev": {"pairs": str(root / "pairs-dev.jsonl.gz")},
                       "arms": {"no-templates": {"exclude_sources": ["policy-templates"]},
                                "all": {"description": "everything, with the category head",
                                        "labelled": [str(root / "pairs-train.jsonl.gz")],
                                        "fit": {"categories": True}},
                                "probe": {"category_probe_of": "no-templates"}}},
    }  # fmt: skip
    path = root / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    first = _run(path, data_dir)
    second = _run(path, data_dir)
    # the dev suite grows: finished runs are scored on the new set, nothing is retrained
    config["experiment"]["extra_dev"]["pairs-more"] = str(root / "pairs-train.jsonl.gz")
    path.write_text(yaml.safe_dump(config))
    third = _run(path, data_dir)
    return {"work": root / "work", "first": first.stdout, "second": second.stdout,
            "third": third.stdout}  # fmt: skip


def test_every_arm_and_seed_keeps_its_per_example_scores(experiment: dict[str, Any]) -> None:
    for arm in ("no-templates", "all"):
        for seed in (1, 2):
            path = experiment["work"] / "experiment" / arm / f"seed-{seed}" / "scores.json.gz"
            with gzip.open(path, "rt") as fh:
                saved = json.load(fh)
            sets = saved["sets"]
            assert {"dev/val", "dev/toxicchat", "dev/policy-templates", "dev/transfer",
                    "dev/pairs", "eval/oai", "eval/xstest"} <= set(sets)  # fmt: skip
            assert len(sets["eval/xstest"]["scores"]) == 40
            assert len(sets["eval/xstest"]["types"]) == 40
            assert all(v is not None for v in sets["dev/transfer"]["teacher"])
            # which rows have a response (judged at the response threshold), row by row
            assert sets["dev/pairs"]["responses"] == [1] * 6
            assert sets["eval/xstest"]["responses"] == [0] * 40
            assert len(sets["dev/val"]["responses"]) == len(sets["dev/val"]["scores"])
            # the category head's scores, its dev targets and OAI's known flags are kept
            if arm == "all":
                assert len(sets["eval/oai"]["categories"][0]) == 14
                assert len(sets["eval/oai"]["oai_flags"]) == 40
                assert len(sets["dev/policy-templates"]["hazards"][0]) == 14
            else:
                assert "categories" not in sets["eval/oai"]


def test_the_report_has_mean_sd_and_a_paired_bootstrap(experiment: dict[str, Any]) -> None:
    report = (experiment["work"] / "experiment" / "report.md").read_text()
    assert "± " in report and "`all`" in report and "`no-templates`" in report
    assert "Paired bootstrap against `no-templates`" in report
    data = json.loads((experiment["work"] / "experiment" / "report.json").read_text())
    assert len(data["runs"]["all"]) == 2
    assert "dev/transfer" in data["table"]["all"] and "spearman" in data["table"]["all"][
        "dev/transfer"]  # fmt: skip
    assert any(key.startswith("eval/xstest") for key in data["bootstrap"]["all"])
    # category runs report per-hazard thresholds chosen on dev and per-key OAI metrics
    run = data["runs"]["all"][0]["categories"]
    assert set(run["thresholds"]) == {f"S{i}" for i in range(1, 15)}
    assert "dev hazards/S1" in data["table"]["all"]
    assert "categories" not in data["runs"]["no-templates"][0]
    # a probe arm: no-templates' runs with a head, the same binary scores
    probe, base = data["runs"]["probe"][0], data["runs"]["no-templates"][0]
    assert "categories" in probe
    assert probe["metrics"]["eval/oai"]["auprc"] == pytest.approx(
        base["metrics"]["eval/oai"]["auprc"], abs=1e-4
    )
    # each run's response threshold, from its dev rows with a response (dev/pairs at least)
    assert all(r["response_rows"] >= 6 for r in data["runs"]["all"])
    assert "| response threshold (dev rows) |" in report
    # what ships is chosen from dev alone, and the report says which and why
    assert data["choice"]["arm"] in ("all", "no-templates") and data["choice"]["seed"] in (1, 2)
    assert "**Choice (dev only):**" in report


def test_a_second_run_resumes_instead_of_retraining(experiment: dict[str, Any]) -> None:
    assert experiment["second"].count("done, skipped") == 6
    assert "samples/epoch" not in experiment["second"]  # nothing was trained again


def test_runs_done_before_a_dev_set_was_added_are_scored_on_it(
    experiment: dict[str, Any],
) -> None:
    assert experiment["third"].count("scoring the new sets ['pairs-more']") == 6
    assert "samples/epoch" not in experiment["third"]
    path = experiment["work"] / "experiment" / "no-templates" / "seed-1" / "scores.json.gz"
    with gzip.open(path, "rt") as fh:
        assert len(json.load(fh)["sets"]["dev/pairs-more"]["scores"]) == 8


def test_held_out_templates_never_reach_training(experiment: dict[str, Any]) -> None:
    work = experiment["work"]
    trained = {normalise_text(r.prompt) for r in read_records(work / "data" / "train.jsonl.gz")}
    trained |= {normalise_text(r.prompt) for r in read_records(work / "data" / "val.jsonl.gz")}
    held = {normalise_text(r.prompt) for r in policy_rows("dev")}
    assert held and not trained & held
    dev = read_records(work / "data" / "dev" / "policy-templates.jsonl.gz")
    assert dev and {normalise_text(r.prompt) for r in dev} <= held


def test_threshold_at_fpr_flags_at_most_the_target_share() -> None:
    safe = list(np.linspace(0, 1, 200))
    thr = threshold_at_fpr(safe, 0.05)
    flagged = sum(s >= thr for s in safe) / len(safe)
    assert flagged <= 0.05 and flagged > 0.04


def test_paired_bootstrap_sees_a_real_difference_and_no_difference_in_noise() -> None:
    rng = np.random.default_rng(0)
    labels = np.array([0.0] * 300)
    good = [(rng.uniform(0, 0.5, 300), 0.45) for _ in range(3)]
    bad = [(rng.uniform(0, 1.0, 300), 0.45) for _ in range(3)]
    same = [(rng.uniform(0, 0.5, 300), 0.45) for _ in range(3)]
    worse = paired_bootstrap(labels, bad, good, safe_flagged, 200)
    assert worse is not None and worse.verdict == "higher"  # more safe prompts flagged
    noise = paired_bootstrap(labels, same, good, safe_flagged, 200)
    assert noise is not None and noise.verdict == "no difference"


@pytest.mark.parametrize("rule", ["binary-first", "joint"])
def test_an_arm_ships_only_if_higher_on_a_dev_set_and_lower_on_none(rule: str) -> None:
    exp = ExperimentConfig(baseline="base", arms={"base": {}, "new": {}}, choice=rule)
    per_run = {
        "base": [{"seed": s, "dev_score": 0.70 + s / 100} for s in (1, 2, 3)],
        "new": [{"seed": s, "dev_score": 0.80 + s / 100} for s in (1, 2, 3)],
    }

    def boot(**verdicts: str) -> dict[str, dict[str, dict[str, Any]]]:
        return {"new": {f"dev/{k} auprc": {"verdict": v} for k, v in verdicts.items()}}

    shipped = choose(exp, per_run, boot(pairs="higher", val="no difference"))
    assert (shipped["arm"], shipped["seed"]) == ("new", 3)
    assert "-inf" not in shipped["why"]  # no arm fits a head: no hazard figure to quote
    held = choose(exp, per_run, boot(pairs="higher", val="lower"))
    assert held["arm"] == "base" and "dev/val" in held["why"]
    noise = choose(exp, per_run, boot(pairs="no difference"))
    assert noise["arm"] == "base" and "any dev set" in noise["why"]


def test_joint_rule_only_arms_with_a_head_compete_and_hazards_count() -> None:
    exp = ExperimentConfig(baseline="base", arms={}, choice="joint")

    def runs(dev: float, hazard: float | None) -> list[dict[str, Any]]:
        extra = {} if hazard is None else {"categories": {"dev hazards": {"S1": {"auprc": hazard}}}}
        return [{"seed": s, "dev_score": dev + s / 100, **extra} for s in (1, 2, 3)]

    per_run = {
        "base": runs(0.70, 0.3),
        "binary-only": runs(0.90, None),  # better binary, but no head: not a candidate
        "same-binary-new-head": runs(0.70, 0.6),  # ties with base on binary, better head
    }

    def boot(arm: str, **verdicts: str) -> dict[str, dict[str, dict[str, Any]]]:
        return {arm: {f"{k.replace('_', '/')} auprc": {"verdict": v}
                      for k, v in verdicts.items()}}  # fmt: skip

    head = "same-binary-new-head"
    shipped = choose(exp, per_run, boot(head, dev_hazards_S1="higher", dev_val="no difference"))
    assert (shipped["arm"], shipped["seed"]) == (head, 3)
    # a better head that costs a binary dev set, or another hazard, stays out
    costly = choose(exp, per_run, boot(head, dev_hazards_S1="higher", dev_val="lower"))
    assert costly["arm"] == "base" and "dev/val" in costly["why"]
    other = choose(exp, per_run, boot(head, dev_hazards_S1="higher", dev_hazards_S2="lower"))
    assert other["arm"] == "base"
    assert choose(exp, per_run, boot(head, dev_hazards_S1="no difference"))["arm"] == "base"


def _heads(**binary_of: str) -> ExperimentConfig:
    """Probe arms named by the binary runs they are fitted on; the baseline's are `b0`."""
    arms = {a: {"category_probe_of": b} for a, b in {"base": "b0", **binary_of}.items()}
    return ExperimentConfig(baseline="base", arms=arms)


def _head_runs(dev: float, hazard: float) -> list[dict[str, Any]]:
    cats = {"dev hazards": {"S1": {"auprc": hazard}}}
    return [{"seed": s, "dev_score": dev + s / 100, "categories": cats} for s in (1, 2, 3)]


def _boot(arm: str, **verdicts: str) -> dict[str, dict[str, dict[str, Any]]]:
    return {arm: {f"{k.replace('_', '/').replace('dev/hazards', 'dev hazards')} auprc":
                  {"verdict": v} for k, v in verdicts.items()}}  # fmt: skip


def test_binary_first_better_binary_ships_with_its_best_head_and_names_its_cost() -> None:
    exp = _heads(**{"e4-h1": "e4", "e4-h2": "e4"})
    per_run = {"base": _head_runs(0.70, 0.40), "e4-h1": _head_runs(0.80, 0.35),
               "e4-h2": _head_runs(0.80, 0.38)}  # fmt: skip
    boot = _boot("e4-h2", dev_val="higher", dev_hazards_S8="lower", dev_hazards_S1="higher")
    chosen = choose(exp, per_run, boot)
    assert (chosen["arm"], chosen["seed"]) == ("e4-h2", 3)
    assert "`e4`" in chosen["why"] and "S8" in chosen["why"]
    # a head on the joint rule's terms would have held the better binary back
    assert choose(dataclasses.replace(exp, choice="joint"), per_run, boot)["arm"] == "base"


def test_binary_first_a_binary_lower_on_a_dev_set_stays_out_whatever_its_heads() -> None:
    exp = _heads(**{"e4-h": "e4"})
    per_run = {"base": _head_runs(0.70, 0.40), "e4-h": _head_runs(0.80, 0.90)}
    lower = choose(exp, per_run, _boot("e4-h", dev_val="lower", dev_pairs="higher",
                                       dev_hazards_S1="higher"))  # fmt: skip
    assert lower["arm"] == "base" and "below the baseline's" in lower["why"]
    noise = choose(exp, per_run, _boot("e4-h", dev_val="no difference", dev_hazards_S1="higher"))
    assert noise["arm"] == "base" and "any dev set" in noise["why"]


def test_binary_first_a_head_on_the_baseline_binary_must_win_on_the_hazards() -> None:
    exp = _heads(**{"wd0": "b0"})
    per_run = {"base": _head_runs(0.70, 0.40), "wd0": _head_runs(0.70, 0.50)}
    shipped = choose(exp, per_run, _boot("wd0", dev_val="no difference", dev_hazards_S1="higher"))
    assert shipped["arm"] == "wd0" and "S1" in shipped["why"]
    other = choose(exp, per_run, _boot("wd0", dev_hazards_S1="higher", dev_hazards_S2="lower"))
    assert other["arm"] == "base" and "S2" in other["why"]
    assert choose(exp, per_run, _boot("wd0", dev_hazards_S1="no difference"))["arm"] == "base"


def test_binary_first_adjusts_dev_sets_and_hazards_as_separate_holm_families() -> None:
    rng = np.random.default_rng(2)
    n = 200
    labels = rng.integers(0, 2, n).astype(float)
    hazards = [[t] + [None] * 13 for t in labels]

    def run(seed: int, signal: float) -> Run:
        scores = signal * labels + rng.random(n)
        raw = {"dev/a": {"hazards": hazards, "categories": [[s] + [0.5] * 13 for s in scores]}}
        return Run("x", seed, 0.5, {"dev/a": SetScores(labels, scores)}, raw)

    # a small difference, so that the p-values are neither 0 nor 1 and adjusting them shows
    runs = {"base": [run(s, 0.2) for s in (1, 2, 3)], "new": [run(s, 0.3) for s in (1, 2, 3)]}
    keys = ("dev/a auprc", "dev hazards/S1 auprc")
    split = bootstrap_against_baseline(runs, ExperimentConfig(baseline="base", bootstrap=200))
    joint = bootstrap_against_baseline(
        runs, ExperimentConfig(baseline="base", bootstrap=200, choice="joint")
    )
    for key in keys:
        p = split["new"][key]["p"]
        assert 0 < p < 0.5 and joint["new"][key]["p"] == p
        assert split["new"][key]["holm_p"] == p  # each family holds one test
        assert joint["new"][key]["holm_p"] == pytest.approx(2 * p)  # one family of two


def test_hazard_auprc_is_bootstrapped_on_the_dev_rows_with_a_hard_target() -> None:
    rng = np.random.default_rng(0)
    n = 200
    target = rng.integers(0, 2, n).astype(float)
    hazards = [[t] + [None] * 13 for t in target]  # S1 known, the other hazards unknown

    def run(seed: int, signal: float) -> Run:
        scores = signal * target + rng.random(n)
        raw = {"dev/x": {"hazards": hazards, "categories": [[s] + [0.5] * 13 for s in scores]},
               "eval/y": {"hazards": hazards, "categories": [[0.0] * 14] * n}}  # fmt: skip
        return Run("arm", seed, 0.5, {}, raw)

    boot = bootstrap_hazards([run(s, 2.0) for s in (1, 2, 3)],
                             [run(s, 0.0) for s in (1, 2, 3)], 200)  # fmt: skip
    assert list(boot) == ["dev hazards/S1 auprc"]
    assert boot["dev hazards/S1 auprc"]["verdict"] == "higher"


def test_runs_are_ranked_on_the_dev_sets_every_run_has() -> None:
    metrics = {"dev/a": {"auprc": 0.9}, "dev/b": {"auprc": 0.5}, "eval/x": {"auprc": 0.1},
               "dev/transfer": {"spearman": 0.8}}  # fmt: skip
    assert dev_score(metrics) == pytest.approx(0.7)
    # a set only some runs were scored on does not move their rank
    assert dev_score(metrics, {"dev/a"}) == pytest.approx(0.9)


def test_holm_adjusts_each_p_value_by_its_rank_and_keeps_the_order() -> None:
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03})
    assert adjusted == pytest.approx({"a": 0.03, "c": 0.06, "b": 0.06})
    assert holm({"only": 0.02}) == {"only": 0.02}


def test_a_bootstrap_p_value_is_small_for_a_real_difference_and_one_for_none() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300).astype(float)
    strong = [(labels + rng.random(300), 0.5) for _ in range(3)]
    weak = [(0.2 * labels + rng.random(300), 0.5) for _ in range(3)]
    real = paired_bootstrap(labels, strong, weak, auprc, 200)
    assert real is not None and real.p < 0.001  # below what 200 resamples could count
    alike = [(0.2 * labels + rng.random(300), 0.5) for _ in range(3)]  # weak again, new noise
    noisy = paired_bootstrap(labels, alike, weak, auprc, 200)
    assert noisy is not None and noisy.p > 0.05
    same = paired_bootstrap(labels, weak, weak, auprc, 200)
    assert same is not None and same.p == 1.0


def _run_on(sets: dict[str, tuple[np.ndarray, np.ndarray]], seed: int) -> Run:
    return Run("x", seed, 0.5, {n: SetScores(y, s) for n, (y, s) in sets.items()}, {})


def test_the_choice_rests_on_holm_adjusted_dev_auprc_only() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 200).astype(float)

    def runs(signal: float) -> list[Run]:
        return [
            _run_on({name: (labels, signal * labels + rng.random(200))
                     for name in ("dev/a", "dev/b", "eval/x")}, seed)
            for seed in (1, 2, 3)
        ]  # fmt: skip

    exp = ExperimentConfig(baseline="base", bootstrap=200)
    boot = bootstrap_against_baseline({"base": runs(0.3), "new": runs(3.0)}, exp)["new"]
    for key in ("dev/a auprc", "dev/b auprc"):
        assert boot[key]["decision"] == "higher" and boot[key]["holm_p"] >= boot[key]["p"]
    assert "decision" not in boot["eval/x auprc"] and "decision" not in boot["dev/a safe_flagged"]
    uncorrected = dataclasses.replace(exp, correction="none")
    assert (
        "decision"
        not in bootstrap_against_baseline({"base": runs(0.3), "new": runs(3.0)}, uncorrected)[
            "new"
        ]["dev/a auprc"]
    )


def test_a_lower_verdict_that_holm_finds_in_the_noise_does_not_hold_an_arm_back() -> None:
    exp = ExperimentConfig(baseline="base", arms={}, choice="joint")
    per_run = {
        "base": [{"seed": s, "dev_score": 0.70} for s in (1, 2, 3)],
        "new": [{"seed": s, "dev_score": 0.80} for s in (1, 2, 3)],
    }
    boot = {"new": {
        "dev/a auprc": {"verdict": "higher", "decision": "higher"},
        "dev/b auprc": {"verdict": "lower", "decision": "no difference"},
    }}  # fmt: skip
    chosen = choose(exp, per_run, boot)
    assert chosen["arm"] == "new" and "Holm, 2 tests" in chosen["why"]
    boot["new"]["dev/b auprc"]["decision"] = "lower"
    assert choose(exp, per_run, boot)["arm"] == "base"


def test_the_transfer_guard_holds_back_an_arm_that_flags_more_of_what_the_teacher_passes() -> None:
    rng = np.random.default_rng(4)
    n = 300
    labels = rng.integers(0, 2, n).astype(float)
    toxicchat = np.array([0.0] * 100 + [1.0] * 100)  # the teacher passes safe prompts under 0.5
    teacher_tc = np.concatenate([rng.random(100) * 0.5, 0.5 + rng.random(100) * 0.5])
    teacher = rng.random(n)  # unlabelled transfer prompts: the teacher passes about half

    def runs(signal: float, transfer_shift: float) -> list[Run]:
        return [
            Run("x", seed, 0.5, {
                "dev/toxicchat": SetScores(toxicchat, teacher_tc, teacher_tc),
                "dev/a": SetScores(labels, signal * labels + rng.random(n)),
                "dev/transfer": SetScores(
                    np.full(n, np.nan), teacher + transfer_shift + 0.01 * rng.random(n), teacher
                ),
            }, {})
            for seed in (1, 2, 3)
        ]  # fmt: skip

    per_run = {"base": [{"seed": s, "dev_score": 0.70} for s in (1, 2, 3)],
               "new": [{"seed": s, "dev_score": 0.80} for s in (1, 2, 3)]}  # fmt: skip
    arms = {"base": runs(0.3, 0.0), "new": runs(3.0, 0.3)}  # new: better on dev/a, flags more
    guarded = ExperimentConfig(baseline="base", bootstrap=200, transfer_guard=True)
    boot = bootstrap_against_baseline(arms, guarded)
    row = boot["new"]["dev/transfer flagged_where_teacher_passes"]
    assert row["diff"] > 0.2 and row["decision"] == "higher"
    chosen = choose(guarded, per_run, boot)
    assert chosen["arm"] == "base"
    assert "dev/transfer (more flagged where the teacher passes)" in chosen["why"]
    assert "Holm, 3 tests" in chosen["why"]  # dev/a, dev/toxicchat and the guard: one family
    unguarded = ExperimentConfig(baseline="base", bootstrap=200)
    boot = bootstrap_against_baseline(arms, unguarded)
    assert not any(key.endswith("flagged_where_teacher_passes") for key in boot["new"])
    assert choose(unguarded, per_run, boot)["arm"] == "new"


def test_an_arm_distils_from_another_teacher_only_if_it_scored_the_same_rows(
    tmp_path: Path,
) -> None:
    train = [Record("a", None, None, "s", teacher_score=0.1), Record("b", None, 1, "s")]
    other = tmp_path / "other" / "teacher_scores"
    write_records(
        other / "train.jsonl.gz",
        [Record("a", None, None, "s", teacher_score=0.9), Record("b", None, 1, "s")],
    )
    paths = WorkPaths(tmp_path / "work")
    paths.root.mkdir()
    arm = ArmConfig(teacher_scores="../other/teacher_scores")
    assert [r.teacher_score for r in teacher_rows(train, paths, arm)] == [0.9, None]
    assert teacher_rows(train, paths, ArmConfig()) is train
    with pytest.raises(ValueError, match="not a scoring"):
        teacher_rows(train[:1], paths, arm)


def test_rows_safe_by_construction_train_as_safe_and_no_row_keeps_a_teacher_score(
    tmp_path: Path,
) -> None:
    pairs, edits = tmp_path / "pairs.jsonl.gz", tmp_path / "edits.jsonl.gz"
    write_records(pairs, [Record("p", "r", 1, "response-pairs", teacher_score=0.2)])
    write_records(edits, [Record("make a bath bomb", None, None, "counterfactual:benign-sense",
                                 teacher_score=0.7)])  # fmt: skip
    rows = labelled_rows(ArmConfig(labelled=[str(pairs)], safe_by_construction=[str(edits)]))
    assert [(r.prompt, r.label, r.teacher_score) for r in rows] == [
        ("p", 1, None), ("make a bath bomb", 0, None)
    ]  # fmt: skip


def _save_run(work: Path, arm: str, sets: dict[str, dict[str, Any]]) -> Path:
    out = run_dir(WorkPaths(work), arm, 1)
    out.mkdir(parents=True)
    with gzip.open(out / SCORES_FILE, "wt", encoding="utf-8") as fh:
        json.dump({"arm": arm, "seed": 1, "epoch": 1, "sets": sets}, fh)
    return out / SCORES_FILE


# Prompt threshold: dev/toxicchat's safe prompts at 5% flagged, just above 0.9. Responses: the
# seeds' split has two rows with one (recorded per row), the constructed pairs all (an older
# run's record: its refusal-prefix baseline); HarmBench's older run records nothing.
TOXICCHAT = {"labels": [0] * 19 + [1], "scores": [0.9] + [0.05] * 18 + [0.95]}
VAL = {"labels": [0, 1, 0, 1], "scores": [0.1, 0.95, 0.02, 0.3], "responses": [0, 0, 1, 1]}
PAIRS = {"labels": [0, 1, 0, 1], "scores": [0.05, 0.2, 0.01, 0.4], "refusal_prefix": [1.0] * 4}
HARMBENCH = {"labels": [1, 0], "scores": [0.25, 0.03]}


def _report_runs(work: Path) -> dict[str, list[Run]]:
    exp = ExperimentConfig()
    common = {"dev/toxicchat": TOXICCHAT, "dev/val": VAL, "dev/pairs": PAIRS}
    new = _save_run(
        work, "new", {**common, "eval/harmbench": {**HARMBENCH, "refusal_prefix": [0.0, 1.0]}}
    )
    old = _save_run(work, "old", {**common, "eval/harmbench": HARMBENCH})
    return {"new": [load_run(new, exp)], "old": [load_run(old, exp)]}


def test_rows_with_a_response_are_judged_at_the_f1_optimum_of_the_dev_rows_with_one(
    tmp_path: Path,
) -> None:
    runs = with_responses(_report_runs(tmp_path))
    expected = f1_response_threshold(
        [0, 1, 0, 1, 0, 1], [0.02, 0.3, 0.05, 0.2, 0.01, 0.4], [True] * 6
    )
    assert expected == pytest.approx(0.2)
    for run in (runs["new"][0], runs["old"][0]):
        assert run.threshold > 0.9 and run.response_threshold == expected
        assert run.thresholds("dev/toxicchat") == run.threshold  # prompts alone
        val = run.thresholds("dev/val")
        assert isinstance(val, np.ndarray)
        assert list(val) == [run.threshold] * 2 + [expected] * 2
        # HarmBench is the same rows in both runs: the older run takes the newer one's record
        assert list(np.broadcast_to(run.thresholds("eval/harmbench"), 2)) == [expected] * 2


@pytest.mark.filterwarnings("ignore:Mean of empty slice")
def test_the_report_applies_and_shows_each_runs_response_threshold(tmp_path: Path) -> None:
    _report_runs(tmp_path)
    exp = ExperimentConfig(seeds=[1], baseline="old", bootstrap=20, arms={"new": {}, "old": {}})
    summarize(WorkPaths(tmp_path), exp, ["new", "old"], [1])
    data = json.loads((tmp_path / "experiment" / "report.json").read_text())
    run = data["runs"]["new"][0]
    assert run["response_threshold"] == pytest.approx(0.2) and run["response_rows"] == 6
    # at the prompt threshold HarmBench's harmful answer (0.25) would be missed
    assert run["metrics"]["eval/harmbench"]["f1"] == 1.0
    assert run["metrics"]["dev/val"]["harmful_caught"] == 1.0  # 0.95 as a prompt, 0.3 as a pair
    report = (tmp_path / "experiment" / "report.md").read_text()
    assert "Rows with a response are judged at a response threshold per run" in report
    assert "| `new` | 1 | 0.9000 | 0.2000 (6) |" in report


def test_finished_runs_learn_which_rows_have_a_response(tmp_path: Path) -> None:
    rows = [Record("a prompt", None, 0, "s"), Record("a prompt", "an answer", 1, "s")]
    saved = _save_run(tmp_path, "older", {"dev/x": {"labels": [0, 1], "scores": [0.1, 0.2]}})
    backfill(saved.parent, {"x": rows}, {}, batch_size=8)
    with gzip.open(saved, "rt", encoding="utf-8") as fh:
        assert json.load(fh)["sets"]["dev/x"]["responses"] == [0, 1]


@pytest.mark.filterwarnings("ignore:Mean of empty slice")
def test_reports_made_before_response_thresholds_rebuild_with_one_threshold(
    tmp_path: Path,
) -> None:
    runs = with_responses(_report_runs(tmp_path), "none")
    run = runs["new"][0]
    assert run.response_threshold is None
    assert list(np.broadcast_to(run.thresholds("dev/val"), 4)) == [run.threshold] * 4
    exp = ExperimentConfig(seeds=[1], baseline="old", bootstrap=20, arms={"new": {}, "old": {}},
                           response_threshold="none")  # fmt: skip
    summarize(WorkPaths(tmp_path), exp, ["new", "old"], [1])
    data = json.loads((tmp_path / "experiment" / "report.json").read_text())
    assert data["runs"]["new"][0]["metrics"]["eval/harmbench"]["f1"] == 0.0  # 0.25 < 0.9
    report = (tmp_path / "experiment" / "report.md").read_text()
    assert "response threshold" not in report
    assert "| `new` | 1 | 0.9000 | " in report
    with pytest.raises(ValueError, match="not 'f1' or 'none'"):
        with_responses(_report_runs(tmp_path / "again"), "youden")
