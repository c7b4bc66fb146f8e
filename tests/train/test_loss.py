"""The distillation loss for each kind of row."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from train.loss import NO_LABEL, category_loss, distillation_loss

LOGITS = torch.tensor([[0.2, 1.3], [1.0, -0.5], [0.0, 0.0]])


def _kl(p: float, logits: torch.Tensor) -> torch.Tensor:
    target = torch.tensor([1 - p, p])
    return (target * (target.log() - F.log_softmax(logits, -1))).sum()


def test_without_teacher_scores_it_is_cross_entropy() -> None:
    labels = torch.tensor([1, 0, 1])
    nan = torch.full((3,), math.nan)
    got = distillation_loss(LOGITS, labels, nan)
    assert torch.allclose(got, F.cross_entropy(LOGITS, labels))


def test_with_both_it_is_half_ce_plus_half_kl() -> None:
    labels = torch.tensor([1, 0, 1])
    teacher = torch.tensor([0.9, 0.2, 0.6])
    got = distillation_loss(LOGITS, labels, teacher)
    want = torch.stack([
        0.5 * (F.cross_entropy(LOGITS[i : i + 1], labels[i : i + 1]) + _kl(float(p), LOGITS[i]))
        for i, p in enumerate(teacher)
    ]).mean()  # fmt: skip
    assert torch.allclose(got, want, atol=1e-6)


def test_rows_without_a_label_learn_from_the_teacher_alone() -> None:
    labels = torch.tensor([NO_LABEL])
    got = distillation_loss(LOGITS[:1], labels, torch.tensor([0.8]))
    assert torch.allclose(got, _kl(0.8, LOGITS[0]), atol=1e-6)
    # matching the teacher exactly costs nothing
    matched = torch.tensor([[0.0, math.log(0.8 / 0.2)]])
    assert distillation_loss(matched, labels, torch.tensor([0.8])).item() == pytest.approx(
        0, abs=1e-6
    )


def test_a_row_with_no_supervision_is_an_error() -> None:
    with pytest.raises(ValueError, match="neither"):
        distillation_loss(LOGITS[:1], torch.tensor([NO_LABEL]), torch.tensor([math.nan]))


def test_gradients_flow() -> None:
    logits = LOGITS.clone().requires_grad_(True)
    distillation_loss(
        logits, torch.tensor([1, NO_LABEL, 0]), torch.tensor([0.7, 0.1, math.nan])
    ).backward()
    assert logits.grad is not None and bool(logits.grad.abs().sum() > 0)


def test_temperature_softens_both_sides_and_scales_by_its_square() -> None:
    t = 2.0
    p = 0.9
    got = distillation_loss(LOGITS[:1], torch.tensor([NO_LABEL]), torch.tensor([p]), t)
    logit = math.log(p / (1 - p)) / t
    soft_p = 1 / (1 + math.exp(-logit))
    assert torch.allclose(got, _kl(soft_p, LOGITS[0] / t) * t**2, atol=1e-6)


def test_an_unlabelled_row_never_receives_cross_entropy() -> None:
    # Whatever the teacher says, a student that matches it exactly has zero loss on an
    # unlabelled row: any cross-entropy on a thresholded pseudo-label would make it positive.
    for p in (0.05, 0.45, 0.55, 0.97):
        matched = torch.tensor([[0.0, math.log(p / (1 - p))]], requires_grad=True)
        loss = distillation_loss(matched, torch.tensor([NO_LABEL]), torch.tensor([p]), 2.0)
        loss.backward()
        assert loss.item() == pytest.approx(0, abs=1e-5)
        assert matched.grad is not None and float(matched.grad.abs().max()) < 1e-4


def test_category_loss_skips_unknown_targets() -> None:
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    targets = torch.tensor([[1.0, math.nan, 0.0], [math.nan, math.nan, 0.3]])
    known = ~torch.isnan(targets)
    expected = F.binary_cross_entropy_with_logits(logits[known], targets[known])
    assert torch.allclose(category_loss(logits, targets), expected)


def test_category_loss_is_zero_with_a_gradient_when_nothing_is_known() -> None:
    logits = torch.zeros((2, 3), requires_grad=True)
    loss = category_loss(logits, torch.full((2, 3), math.nan))
    loss.backward()
    assert float(loss.detach()) == 0.0 and logits.grad is not None


def test_category_loss_weighs_rows_and_a_weight_of_one_changes_nothing() -> None:
    logits = torch.tensor([[2.0, -1.0], [0.0, 3.0]])
    targets = torch.tensor([[1.0, 0.2], [math.nan, 0.0]])
    assert torch.allclose(category_loss(logits, targets, torch.ones(2)),
                          category_loss(logits, targets))  # fmt: skip
    only_first = category_loss(logits, targets, torch.tensor([1.0, 0.0]))
    assert torch.allclose(only_first, category_loss(logits[:1], targets[:1]))
