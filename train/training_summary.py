"""`training_summary.json`, beside every model the trainer keeps: how to read what it records.

The trainer writes it (epoch, validation metrics and threshold, the fit config); the scorers,
the export and the experiment read the threshold and the pair layout from it.
"""

from __future__ import annotations

from typing import Any

from contract import PairLayout

SUMMARY_FILE = "training_summary.json"


def pair_layout(summary: dict[str, Any]) -> PairLayout | None:
    """The pair layout the model was trained with (the training summary's config), if any."""
    layout = summary["config"].get("pair_layout")
    return None if layout is None else PairLayout.model_validate(layout)
