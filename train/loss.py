"""The HarmAug distillation loss.

Per row, with a human (or judge) label: 0.5 x (cross-entropy on the label + the distillation
term) where the teacher scored the row, plain cross-entropy where it did not. Without a human
label the distillation term alone: such a row never receives cross-entropy, so a teacher's
thresholded guess never becomes a hard target. The distillation term is Hinton's: KL(teacher ||
student) between both distributions softened by `temperature`, times temperature^2 so that its
gradients keep their scale. Rows with neither a label nor a score are rejected.

The category head (when a model has one) adds `category_loss`: per-hazard binary cross-entropy
on the targets of `train.data.hazards`, skipping unknown ones.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

NO_LABEL = -1
_EPS = 1e-6


def soften(p: torch.Tensor, temperature: float) -> torch.Tensor:
    """P(harmful) with its logit divided by `temperature`."""
    p = p.clamp(_EPS, 1 - _EPS)
    return torch.sigmoid(torch.log(p / (1 - p)) / temperature)


def distillation_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    teacher_p: torch.Tensor,
    temperature: float = 1.0,
) -> torch.Tensor:
    """Mean loss over the batch.

    logits: (B, 2); labels: (B,) long with NO_LABEL where unknown; teacher_p: (B,) float
    P(harmful) with NaN where the teacher did not score the row.
    """
    logits = logits.float()
    log_probs = F.log_softmax(logits, dim=-1)
    has_label = labels != NO_LABEL
    has_teacher = ~torch.isnan(teacher_p)
    if bool((~has_label & ~has_teacher).any()):
        raise ValueError("a row has neither a hard label nor a teacher score")
    ce = F.nll_loss(log_probs, labels.clamp(min=0), reduction="none")
    p = soften(teacher_p.nan_to_num(0.5), temperature)
    target = torch.stack([1 - p, p], dim=-1)
    soft_log_probs = F.log_softmax(logits / temperature, dim=-1)
    kl = (target * (target.log() - soft_log_probs)).sum(dim=-1) * temperature**2
    per_row = torch.where(
        has_label & has_teacher,
        0.5 * (ce + kl),
        torch.where(has_label, ce, kl),
    )
    return per_row.mean()


def category_loss(
    logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Binary cross-entropy per hazard, averaged over the known (non-NaN) targets.

    logits and targets: (B, n_hazards); a target is 1, 0, a teacher's soft score, or NaN
    (unknown: no loss). `weights` (B,): each row's weight in the average (default 1). With a
    soft target the cross-entropy is the KL to it plus a constant. A batch with no known target
    contributes 0.
    """
    known = ~torch.isnan(targets)
    if not bool(known.any()):
        return logits.sum() * 0.0
    bce = F.binary_cross_entropy_with_logits(
        logits.float(), targets.nan_to_num(0.0), reduction="none"
    )
    if weights is None:
        return bce[known].mean()
    w = weights.float().unsqueeze(1).expand_as(bce)
    return (bce * w)[known].sum() / w[known].sum().clamp_min(1e-12)
