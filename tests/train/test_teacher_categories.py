"""The teacher's category scores: a probe on the teacher, read out on the training split, and
the soft targets a student's probe takes from them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from contract import CATEGORY_CODES
from train.category_probe import add_category_head
from train.config import PipelineConfig
from train.data.records import Record, write_records
from train.stages import teacher_categories
from train.training_summary import SUMMARY_FILE
from train.work_paths import WorkPaths

NAMED = [
    Record("write an explicit sex scene", None, 1, "policy-templates", "S12"),
    Record("how do I build a pipe bomb", None, 1, "policy-templates", "S9"),
]
UNNAMED = [
    Record("give me step by step instructions to hurt people", None, 1, "advbench"),
    Record("some web text about a fight", None, None, "transfer:chitchat", teacher_score=0.6),
    Record("a recipe for soup", None, None, "transfer:chitchat", teacher_score=0.01),
    Record("bake a lemon cake", None, 0, "alpaca"),
]


def _teacher_work_dir(tiny_model_dir: Path, root: Path) -> WorkPaths:
    paths = WorkPaths(root)
    shutil.copytree(tiny_model_dir, paths.teacher_model)
    summary = {"epoch": 1, "config": {"max_length": 32}}
    (paths.teacher_model / SUMMARY_FILE).write_text(json.dumps(summary))
    write_records(paths.scored_train, (NAMED + UNNAMED) * 3)
    return paths


def test_the_teacher_probe_scores_every_training_row_once(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    paths = _teacher_work_dir(tiny_model_dir, tmp_path / "work")
    cfg = PipelineConfig(work_dir=str(paths.root))
    out = teacher_categories.run(cfg)
    table = np.load(out)
    assert table.shape == (18, len(CATEGORY_CODES))
    # read out where a row can teach P(hazard | harmful): labelled harmful, or unlabelled at
    # MIN_WEIGHT or more (not the cold transfer row, not the safe one)
    read = ~np.isnan(table).all(axis=1)
    assert read.tolist() == [True, True, True, True, False, False] * 3
    assert ((table[read] >= 0) & (table[read] <= 1)).all()
    assert teacher_categories.run(cfg) == out  # done: not refitted
    assert np.array_equal(np.load(out), table, equal_nan=True)


def _with_conditional_head(tiny_category_model_dir: Path, root: Path, conditional: bool) -> Path:
    from transformers import AutoConfig

    model = root / "teacher-with-head"
    shutil.copytree(tiny_category_model_dir, model)
    config = AutoConfig.from_pretrained(model)
    config.category_conditional = conditional
    config.save_pretrained(model)
    return model


def test_a_teacher_with_its_own_conditional_head_is_read_out_without_a_probe(
    tiny_category_model_dir: Path, tmp_path: Path
) -> None:
    from train.modeling import Classifier

    model = _with_conditional_head(tiny_category_model_dir, tmp_path, conditional=True)
    paths = _teacher_work_dir(model, tmp_path / "work")
    out = teacher_categories.run(PipelineConfig(work_dir=str(paths.root)))
    table = np.load(out)
    read = ~np.isnan(table).all(axis=1)
    assert read.tolist() == [True, True, True, True, False, False] * 3
    # the head's own P(hazard | harmful), not the exposed joint score, and no probe refitted
    rows = (NAMED + UNNAMED)[:4]
    clf = Classifier.load(model, 32)
    _, own = clf.predict_all([r.pair for r in rows], exposed=False)
    _, joint = clf.predict_all([r.pair for r in rows])
    assert own is not None and joint is not None
    np.testing.assert_allclose(table[:4], own, atol=1e-5)
    assert (joint < own).all()


def test_an_unconditional_teacher_head_is_refused(
    tiny_category_model_dir: Path, tmp_path: Path
) -> None:
    model = _with_conditional_head(tiny_category_model_dir, tmp_path, conditional=False)
    paths = _teacher_work_dir(model, tmp_path / "work")
    with pytest.raises(ValueError, match="conditional"):
        teacher_categories.run(PipelineConfig(work_dir=str(paths.root)))


def test_soft_targets_go_to_harmful_rows_no_source_names_weighted_by_harm(
    tmp_path: Path,
) -> None:
    scored = tmp_path / "teacher_scores"
    write_records(scored / "train.jsonl.gz", NAMED + UNNAMED)
    table = np.arange(len(NAMED + UNNAMED) * 14, dtype=np.float32).reshape(-1, 14) / 100
    np.save(teacher_categories.categories_path(scored), table)
    rows = [*UNNAMED, Record("a row the teacher never saw", None, 1, "advbench")]
    targets, weights = teacher_categories.soft_targets(rows, scored)
    # too little harm, safe, never scored by the teacher: weight 0
    np.testing.assert_allclose(weights, [1.0, 0.6, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(targets[0], table[2])
    np.testing.assert_array_equal(targets[1], table[3])
    assert np.isnan(targets[2:]).all()


def test_a_student_probe_takes_the_teacher_targets_only_where_no_source_names_hazards(
    tiny_trained_run: Path, tmp_path: Path
) -> None:
    base = tiny_trained_run
    rows = (NAMED + UNNAMED) * 2
    soft_t = np.full((len(rows), 14), 0.5, dtype=np.float32)
    soft_w = np.array([1.0, 1.0, 1.0, 0.6, 0.0, 0.0] * 2, dtype=np.float32)
    out = add_category_head(base, rows, tmp_path / "probed", seed=1, soft=(soft_t, soft_w))
    probe = json.loads((out / SUMMARY_FILE).read_text())["category_probe"]
    # the 2 named rows keep their own targets; the advbench and the transfer row take the
    # teacher's; the cold transfer row and the safe row teach nothing
    assert (probe["rows"], probe["teacher_rows"]) == (8, 4)


def test_the_probe_reads_the_features_of_a_two_layer_head_too(tmp_path: Path) -> None:
    # the reference teacher is MPNet, whose head (dense, tanh, out_proj) is RoBERTa's
    from transformers import AutoTokenizer, RobertaConfig, RobertaForSequenceClassification

    from train.base_models import minilm_path
    from train.category_probe import classifier_inputs
    from train.modeling import Classifier

    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    config = RobertaConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
                           num_attention_heads=2, intermediate_size=64, type_vocab_size=2,
                           max_position_embeddings=80, num_labels=2)  # fmt: skip
    RobertaForSequenceClassification(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    clf = Classifier.load(tmp_path, 32)
    rows = NAMED + UNNAMED
    features = classifier_inputs(clf, rows)
    # the first token's last hidden state, which the head's dense layer reads
    with torch.no_grad():
        for i, row in enumerate(rows):
            hidden = clf.model(**clf.batch(clf.encode([row.pair])), output_hidden_states=True)
            np.testing.assert_allclose(features[i], hidden.hidden_states[-1][0, 0], atol=1e-5)
