"""Do-Not-Answer by construct: policy labels from intents."""

from __future__ import annotations

from pathlib import Path

import pytest

from train.data.donotanswer import POLICY_HARMFUL_INTENTS, POLICY_NEUTRAL_INTENTS, policy_label
from train.data.loaders import load_seeds
from train.data.mix import MixConfig, build_seed_mix


def test_every_intent_in_the_data_has_a_mapping_and_the_loader_keeps_intents(
    data_dir: Path,
) -> None:
    rows = load_seeds(data_dir)["donotanswer"]
    intents = {i for r in rows for i in (r.variant or "").split(",") if i}
    assert intents, "the loader must keep the intents"
    assert intents <= set(POLICY_HARMFUL_INTENTS) | set(POLICY_NEUTRAL_INTENTS)
    assert not set(POLICY_HARMFUL_INTENTS) & set(POLICY_NEUTRAL_INTENTS)


@pytest.mark.parametrize(
    ("area", "intents", "label"),
    [
        ("malicious_uses", ["S003instructions"], 1),
        ("malicious_uses", ["S008code", "S009private"], 1),
        ("discrimination_exclusion_toxicity_hateful_offensive", ["S004lewd"], 1),
        ("information_hazard", ["S009private"], None),
        ("information_hazard", ["S009personal"], None),
        ("misinformation_harms", ["S002med"], None),
        ("misinformation_harms", ["S001fab", "C009"], None),
        ("discrimination_exclusion_toxicity_hateful_offensive", ["S007"], 1),
        ("human_chatbox", ["S006sh", "S002med"], None),  # asking for help is not harmful
    ],
)
def test_policy_label(area: str, intents: list[str], label: int | None) -> None:
    assert policy_label(area, intents) == label


def test_an_unknown_intent_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="S099"):
        policy_label("malicious_uses", ["S099"])


def test_the_policy_mix_leaves_about_half_of_do_not_answer_unlabelled(data_dir: Path) -> None:
    mix = build_seed_mix(data_dir, MixConfig(donotanswer_labels="policy"))
    dna = [r for r in mix if r.source == "donotanswer"]
    unlabelled = [r for r in dna if r.label is None]
    assert 0.35 < len(unlabelled) / len(dna) < 0.75
    assert {r.label for r in dna} == {1, None}
    # refusal pairs are built only from prompts known to be harmful
    refusals = {r.prompt for r in mix if r.source == "donotanswer+refusal"}
    assert refusals and not refusals & {r.prompt for r in unlabelled}
