"""Request and response bodies of `/moderate` and `/moderate/batch`.

Size limits depend on settings, so `serving` checks them; the schema checks types and shape,
and list lengths: the configured item limit comes as validation context (`max_items`, see
`json_route.BodyLimits`), so an overlong list is refused before any item is validated.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo
from pydantic_core import PydanticCustomError


def unicode_text(text: str) -> str:
    """Reject lone surrogates (legal in JSON escapes, not in UTF-8): the tokenizer cannot."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"not valid Unicode (unpaired surrogate at {exc.start})") from None
    return text


UnicodeText = Annotated[str, AfterValidator(unicode_text)]


def at_most_max_items(value: object, info: ValidationInfo) -> object:
    """Refuse a list longer than the context's `max_items` before its items are validated
    (validating 2M bad items built 2M errors; the length alone decides)."""
    limit = (info.context or {}).get("max_items")
    if isinstance(value, list) and limit is not None and len(value) > limit:
        raise PydanticCustomError(
            "too_long",
            "{length} items; the limit is {limit} (MODERATION_MAX_BATCH_ITEMS)",
            {"length": len(value), "limit": limit},
        )
    return value


MaxItems = BeforeValidator(at_most_max_items)


class ModerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    prompt: UnicodeText = Field(min_length=1, description="The user's prompt (non-empty).")
    response: UnicodeText | None = Field(
        default=None,
        description="The model's response to the prompt; null or absent to score the prompt alone.",
    )


class CategoryScore(BaseModel):
    name: str = Field(description="the hazard's name in Llama Guard 3's taxonomy")
    score: float = Field(description="P(the text is about this hazard), from the category head")
    flagged: bool = Field(description="score >= the category's threshold; false in shadow mode")


class ModerateResponse(BaseModel):
    harmful: bool = Field(
        description="score >= threshold, or a category named in MODERATION_BLOCK_CATEGORIES is "
        "flagged; always false in shadow mode"
    )
    score: float = Field(description="P(harmful) from the model")
    threshold: float = Field(
        description="the threshold this input was judged at: the response threshold for a pair "
        "with a non-empty response, else the prompt threshold"
    )
    model: str = Field(description="name@version of the served artifact")
    cached: bool
    truncated: bool = Field(
        description="some text was seen by no window (see MODERATION_LONG_INPUT_POLICY)"
    )
    windows: int = Field(
        description="sequences scored: 1, or more for text longer than the model's window"
    )
    categories: dict[str, CategoryScore] | None = Field(
        default=None,
        description="hazard code (S1..S14) -> its score and flag; absent for a model without a "
        "category head",
    )


class BatchModerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    items: Annotated[list[ModerateRequest], MaxItems] = Field(
        min_length=1, description="1 to MODERATION_MAX_BATCH_ITEMS pairs, scored in order."
    )


class BatchModerateResponse(BaseModel):
    results: list[ModerateResponse]
