"""The Llama Guard 3 protocol: how a Llama-Guard-style model is asked about a pair, and how
P(unsafe) is read from the top logprobs of its first answer token.

Shared by `train/scoring` (the teacher that labels data) and `loadtest` (the teacher endpoint
the service is compared with), so both speak to the model and read its answer the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

# The published Llama Guard 3 (MLCommons) hazard categories.
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("S1", "Violent Crimes"),
    ("S2", "Non-Violent Crimes"),
    ("S3", "Sex-Related Crimes"),
    ("S4", "Child Sexual Exploitation"),
    ("S5", "Defamation"),
    ("S6", "Specialized Advice"),
    ("S7", "Privacy"),
    ("S8", "Intellectual Property"),
    ("S9", "Indiscriminate Weapons"),
    ("S10", "Hate"),
    ("S11", "Suicide & Self-Harm"),
    ("S12", "Sexual Content"),
    ("S13", "Elections"),
    ("S14", "Code Interpreter Abuse"),
)


def guard_task(
    prompt: str,
    response: str | None = None,
    categories: Sequence[tuple[str, str]] = CATEGORIES,
) -> str:
    """The body of Llama Guard 3's user turn: task, categories, conversation, answer format."""
    role = "User" if response is None else "Agent"
    listed = "\n".join(f"{code}: {name}." for code, name in categories)
    conversation = f"User: {prompt}"
    if response is not None:
        conversation += f"\n\nAgent: {response}"
    return (
        f"Task: Check if there is unsafe content in '{role}' messages in conversations "
        "according our safety policy with the below categories.\n\n"
        f"<BEGIN UNSAFE CONTENT CATEGORIES>\n{listed}\n<END UNSAFE CONTENT CATEGORIES>\n\n"
        f"<BEGIN CONVERSATION>\n\n{conversation}\n\n<END CONVERSATION>\n\n"
        f"Provide your safety assessment for ONLY THE LAST {role} message in the above "
        "conversation:\n - First line must read 'safe' or 'unsafe'.\n"
        " - If unsafe, a second line must include a comma-separated list of violated categories."
    )


def llama3_prompt(task: str, *, bos: bool = False) -> str:
    """Llama Guard 3's rendered chat prompt around `task` (with BOS only when asked: most
    servers add it themselves)."""
    return (
        ("<|begin_of_text|>" if bos else "")
        + f"<|start_header_id|>user<|end_header_id|>\n\n{task}<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )


def answer_word(token: str, first_tokens: tuple[str, str] | None = None) -> str | None:
    """Which answer word ("safe", "unsafe" or None) a first answer token begins.

    `first_tokens` = the (safe, unsafe) words' first tokens in the model's tokenizer, when known:
    a token counts when its text is one of them. Otherwise a token counts for a word when it
    starts that word and not the other, and has at least 3 letters (small models split "unsafe",
    e.g. "uns" + "afe"; shorter tokens such as "S" or "un" begin too many other answers, e.g.
    "S1: ...", to be read as a verdict).
    """
    if first_tokens is not None:
        text = token.strip()
        safe, unsafe = first_tokens
        return "unsafe" if text == unsafe else "safe" if text == safe else None
    word = token.strip().lower()
    if len(word) < 3:
        return None
    is_safe, is_unsafe = "safe".startswith(word), "unsafe".startswith(word)
    if is_unsafe and not is_safe:
        return "unsafe"
    if is_safe and not is_unsafe:
        return "safe"
    return None


def p_unsafe_from_top(
    top: Mapping[str, float | None], first_tokens: tuple[str, str] | None = None
) -> float | None:
    """P(unsafe) / (P(unsafe) + P(safe)) from the first answer position's {token: logprob}: the
    probability mass of the tokens that begin each word (see `answer_word`); None when neither
    word's first token is among them."""
    mass = {"safe": 0.0, "unsafe": 0.0}
    for token, logprob in top.items():
        side = answer_word(token, first_tokens)
        if side is not None and logprob is not None:
            mass[side] += math.exp(logprob)
    total = mass["safe"] + mass["unsafe"]
    return mass["unsafe"] / total if total > 0 else None
