"""Text rules that turn a raw continuation into one candidate instruction, or reject it.

`extract_instruction` keeps the first quoted span, else the first sentence of the first line;
`reject_reason` names why an extracted instruction is unusable (empty, refusal, an echo of the
request, non-English or garbled text). Stateless: duplicates are `dedup.py`'s job.
"""

from __future__ import annotations

import re

QUOTES = {'"': '"', "“": "”", "'": "'", "‘": "’", "«": "»", "„": "“", "`": "`"}
_LEAD_LABEL = re.compile(
    r"^(?:[-*#>\s]+|\d+[.)]\s*|(?:prompt|instruction|request|question|task)\s*\d*\s*[:\-]\s*)+",
    re.IGNORECASE,
)
# 'This could be: "..."' or 'Sentence: "...' : a short label, a colon, then the quoted prompt.
_LABELLED_QUOTE = re.compile(r"^[^\n\"“:]{1,40}:\s*(?=[\"“])")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_REFUSAL = re.compile(
    r"\b(i'?m sorry|i am sorry|i apologi[sz]e|i can ?not|i can'?t|i won'?t|i will not|"
    r"as an ai\b|as a language model|i'?m (?:not able|unable)|i am (?:not able|unable)|"
    r"not (?:appropriate|ethical) (?:to|for)|against (?:my|our) (?:guidelines|polic))",
    re.IGNORECASE,
)
# The model sometimes restates the request instead of answering it.
_ECHO = re.compile(
    r"\b(harmful instruction prompt|elicit offensive content|instruction prompt that)\b",
    re.IGNORECASE,
)
_FUNCTION_WORDS_TEXT = (
    "a an the to of in on for with and or but is are was be how what why who where when which "
    "that this these those you your i my me we our they their it its can do does should would "
    "could will from by about as at if not no all any some make write give tell create"
)
_ENGLISH_FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split(" "))
_REPEATED_WORD = re.compile(r"\b(\w+)(?:\W+\1\b){3,}", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z']+")

MIN_WORDS = 3
MAX_WORDS = 60


def _strip_quotes(text: str) -> str:
    text = text.strip().strip("*_ ").strip()
    while len(text) >= 2 and text[0] in QUOTES and text[-1] == QUOTES[text[0]]:
        text = text[1:-1].strip()
    return text.strip(" \"'“”‘’«»`")


def _candidate(continuation: str) -> str:
    text = _LEAD_LABEL.sub("", continuation.lstrip())
    return _LABELLED_QUOTE.sub("", text, count=1)


def is_complete(continuation: str) -> bool:
    """True once the continuation holds a whole candidate (closed quote, line or sentence)."""
    text = _candidate(continuation)
    if not text:
        return False
    if text[0] in QUOTES:
        return QUOTES[text[0]] in text[1:] or "\n" in text
    return "\n" in text or _SENTENCE_END.search(text) is not None


def extract_instruction(continuation: str) -> str | None:
    """The first quoted span, else the first sentence of the first line; None if unfinished."""
    text = _candidate(continuation)
    if not text:
        return ""
    opener = text[0]
    if opener in QUOTES:
        end = text.find(QUOTES[opener], 1)
        if end == -1:
            line = text[1:].split("\n", 1)
            # An unclosed quote is usable only if its line ended; else the cap cut it off.
            return _strip_quotes(line[0]) if len(line) > 1 else None
        return _strip_quotes(text[1:end])
    first_line = text.split("\n", 1)[0]
    return _strip_quotes(_SENTENCE_END.split(first_line, 1)[0])


def reject_reason(instruction: str | None) -> str | None:
    """Why this instruction is dropped, or None to keep it."""
    if instruction is None:
        return "unfinished"
    words = _WORD.findall(instruction)
    if not instruction.strip() or not words:
        return "empty"
    if len(words) < MIN_WORDS:
        return "too_short"
    if len(words) > MAX_WORDS:
        return "too_long"
    if _REFUSAL.search(instruction):
        return "refusal"
    if _ECHO.search(instruction):
        return "echo"
    letters = [c for c in instruction if c.isalpha()]
    ascii_share = sum(c.isascii() for c in letters) / max(len(letters), 1)
    symbol_share = sum(not (c.isalnum() or c.isspace()) for c in instruction) / len(instruction)
    has_function_word = any(w.lower() in _ENGLISH_FUNCTION_WORDS for w in words)
    if ascii_share < 0.95 or symbol_share > 0.2 or not has_function_word:
        return "non_english"
    if _REPEATED_WORD.search(instruction):
        return "garbled"
    return None
