"""Request and response bodies of `/moderate` and `/moderate/batch`.

Size limits depend on settings, so `serving` checks them; the schema checks types and shape.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def unicode_text(text: str) -> str:
    """Reject lone surrogates (legal in JSON escapes, not in UTF-8): the tokenizer cannot."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"not valid Unicode (unpaired surrogate at {exc.start})") from None
    return text


UnicodeText = Annotated[str, AfterValidator(unicode_text)]


class ModerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    prompt: UnicodeText = Field(min_length=1, description="The user's prompt (non-empty).")
    response: UnicodeText | None = Field(
        default=None,
        description="The model's response to the prompt; null or absent to score the prompt alone.",
    )


class ModerateResponse(BaseModel):
    harmful: bool = Field(description="score >= threshold")
    score: float = Field(description="P(harmful) from the model")
    threshold: float
    model: str = Field(description="name@version of the served artifact")
    cached: bool
    truncated: bool = Field(
        description="some text was seen by no window (see MODERATION_LONG_INPUT_POLICY)"
    )
    windows: int = Field(
        description="sequences scored: 1, or more for text longer than the model's window"
    )


class BatchModerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    items: list[ModerateRequest] = Field(
        min_length=1, description="1 to MODERATION_MAX_BATCH_ITEMS pairs, scored in order."
    )


class BatchModerateResponse(BaseModel):
    results: list[ModerateResponse]
