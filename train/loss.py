"""The HarmAug distillation loss.

Per row: 0.5 x (cross-entropy on the hard label + KL(teacher || student)) where the teacher's
soft label [1-p, p] exists; plain cross-entropy where it does not; and, for augmented rows with
no hard label, the KL term alone (the teacher is the only supervision, so it gets full weight
rather than half). Rows with neither are rejected before training.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

NO_LABEL = -1
_EPS = 1e-6


def distillation_loss(
    logits: torch.Tensor, labels: torch.Tensor, teacher_p: torch.Tensor
) -> torch.Tensor:
    """Mean loss over the batch.

    logits: (B, 2); labels: (B,) long with NO_LABEL where unknown; teacher_p: (B,) float
    P(harmful) with NaN where the teacher did not score the row.
    """
    log_probs = F.log_softmax(logits.float(), dim=-1)
    has_label = labels != NO_LABEL
    has_teacher = ~torch.isnan(teacher_p)
    if bool((~has_label & ~has_teacher).any()):
        raise ValueError("a row has neither a hard label nor a teacher score")
    ce = F.nll_loss(log_probs, labels.clamp(min=0), reduction="none")
    p = teacher_p.nan_to_num(0.5).clamp(_EPS, 1 - _EPS)
    target = torch.stack([1 - p, p], dim=-1)
    kl = (target * (target.log() - log_probs)).sum(dim=-1)
    per_row = torch.where(
        has_label & has_teacher,
        0.5 * (ce + kl),
        torch.where(has_label, ce, kl),
    )
    return per_row.mean()
