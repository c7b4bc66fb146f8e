"""The OpenAI mapping's rules, shared by the service's replies and the evaluation's scores."""

from __future__ import annotations

from contract import OPENAI_CATEGORIES, OPENAI_CATEGORY_MAP, openai_flags, openai_scores


def test_a_key_takes_the_highest_score_of_its_hazards() -> None:
    scores = {"S1": 0.2, "S9": 0.7, "S10": 0.4}
    by_key = openai_scores(scores)
    assert list(by_key) == list(OPENAI_CATEGORIES)
    assert by_key["violence"] == 0.7  # S1 and S9 feed it
    assert by_key["violence/graphic"] == 0.2  # S1 alone
    assert by_key["hate"] == 0.4
    assert by_key["sexual"] == 0.0  # no scored hazard feeds it


def test_a_key_is_flagged_when_one_of_its_hazards_is() -> None:
    flags = openai_flags({"S9": True, "S1": False, "S10": False})
    assert flags["violence"] is True
    assert flags["illicit/violent"] is True
    assert flags["violence/graphic"] is False
    assert flags["hate"] is False
    assert not any(flags[k] for k in OPENAI_CATEGORIES if "S9" not in OPENAI_CATEGORY_MAP[k])


def test_a_manifest_map_replaces_the_default() -> None:
    mapping = {"harassment": ["S5"]}
    assert openai_scores({"S5": 0.9, "S10": 0.8}, mapping)["harassment"] == 0.9
    assert openai_scores({"S5": 0.9, "S10": 0.8}, mapping)["hate"] == 0.0
    assert openai_flags({"S5": True}, mapping)["harassment"] is True
