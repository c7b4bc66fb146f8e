"""The Llama Guard 3 protocol: its prompt, and the verdict and P(unsafe) read from a reply.

The prompt is the one Llama Guard 3's chat template renders (hazard categories S1-S14 by name);
a vLLM server of Llama-Guard-3-8B is spoken to the same way. P(unsafe) is read from the top
logprobs the server returns at the first generated position by `contract.llamaguard`'s reader;
when neither word is among them, P(unsafe) is unknown (None).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from contract.llamaguard import CATEGORIES, guard_task, llama3_prompt, p_unsafe_from_top

POLICY_FILE = Path("seeds/taxonomy/llamaguard_3_policy.yaml")

DEFAULT_CATEGORIES = CATEGORIES  # used when no data dir is given


def load_categories(data_dir: Path | None) -> tuple[tuple[str, str], ...]:
    """Categories from the data dir's Llama Guard 3 policy file, else the published ones."""
    path = data_dir / POLICY_FILE if data_dir is not None else None
    if path is None or not path.is_file():
        return DEFAULT_CATEGORIES
    import yaml

    policy = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple((str(c["code"]), str(c["name"])) for c in policy["categories"])


def guard_prompt(
    prompt: str,
    response: str | None = None,
    categories: Sequence[tuple[str, str]] = DEFAULT_CATEGORIES,
) -> str:
    """The full raw prompt (BOS and Llama 3 header tokens included), for `/v1/completions`."""
    return llama3_prompt(guard_task(prompt, response, categories), bos=True)


def first_position_logprobs(choice: Mapping[str, Any]) -> dict[str, float]:
    """{token: logprob} at the first generated position of a chat or completions choice."""
    logprobs = choice.get("logprobs") or {}
    content = logprobs.get("content")
    if content:  # chat/completions: content[0].top_logprobs = [{token, logprob}, ...]
        first = content[0]
        top = {str(t["token"]): float(t["logprob"]) for t in first.get("top_logprobs") or []}
        top.setdefault(str(first["token"]), float(first["logprob"]))
        return top
    tops = logprobs.get("top_logprobs")  # completions: top_logprobs = [{token: logprob}, ...]
    if tops:
        return {str(k): float(v) for k, v in (tops[0] or {}).items()}
    return {}


def verdict_text(choice: Mapping[str, Any]) -> str:
    message = choice.get("message")
    text = message.get("content") if isinstance(message, Mapping) else choice.get("text")
    return str(text or "")


def parse_verdict(choice: Mapping[str, Any]) -> tuple[bool | None, float | None]:
    """(unsafe?, P(unsafe)) of one choice. The verdict is None when the first line is neither
    'safe' nor 'unsafe' (a small stand-in model often answers something else)."""
    first_line = verdict_text(choice).strip().splitlines()[0:1]
    word = first_line[0].strip().lower() if first_line else ""
    unsafe = True if word == "unsafe" else False if word == "safe" else None
    return unsafe, p_unsafe_from_top(first_position_logprobs(choice))
