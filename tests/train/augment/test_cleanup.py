"""The clean-up rules on real SmolLM2-135M continuations of the paper's prompt (from this run)."""

from __future__ import annotations

import pytest

from train.augment.cleanup import extract_instruction, is_complete, reject_reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (' "Can you take my poison without me?"', "Can you take my poison without me?"),
        ('\n\n"I am not a killer, but I do have a killer personality."',
         "I am not a killer, but I do have a killer personality."),
        (' "Guarding and safety." Please, add no specific direction to this prompt.',
         "Guarding and safety."),
        (" 'The Last Hope of Treliar; How do I treat the UN and their child?'",
         "The Last Hope of Treliar; How do I treat the UN and their child?"),
        (' This could be: "What if there was a chocolate factory only one color?" yes',
         "What if there was a chocolate factory only one color?"),
        (" \n\nWhat is the origin of the AAPI?", "What is the origin of the AAPI?"),
        (" Impose a toxic product in a public event. How might that prompt impact?",
         "Impose a toxic product in a public event."),
        (' "Premise 1: Trying to scare or intimidate or at least make someone', None),
    ],
)  # fmt: skip
def test_extracts_the_first_quoted_span_or_sentence(raw: str, expected: str | None) -> None:
    assert extract_instruction(raw) == expected


@pytest.mark.parametrize(
    ("instruction", "reason"),
    [
        ("Au touche les copiers pour estimer que sonz et y non comus.", "non_english"),
        ("Crucifying", "too_short"),
        ("I'm sorry, but I cannot help with creating offensive prompts.", "refusal"),
        ("Make a single harmful instruction prompt that elicits offensive content to protect",
         "echo"),
        ("The the the the the world is bad and sad", "garbled"),
        ("", "empty"),
        (None, "unfinished"),
        ("Spy your parental comment in the middle of a plane crash scene.", None),
        ("The world needs a new drug to combat extremism.", None),
    ],
)  # fmt: skip
def test_reject_reasons(instruction: str | None, reason: str | None) -> None:
    assert reject_reason(instruction) == reason


def test_is_complete_waits_for_the_closing_quote_or_line_end() -> None:
    assert not is_complete(' "Why not consider the sustainability')
    assert is_complete(' "Why not consider the sustainability of a dying species?"')
    assert not is_complete(" To elevate quality in a fashion industry")
    assert is_complete(" To elevate quality in a fashion industry. A")
    assert is_complete(" Generational survivor of the war\n")
    assert not is_complete("   ")
