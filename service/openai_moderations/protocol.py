"""Bodies of `POST /v1/moderations`, shaped like OpenAI's moderation API.

Every result has OpenAI's 13 categories and `harmful` (`HARMFUL_CATEGORY`). An OpenAI key's
score is the highest score of the Llama Guard 3 hazards that feed it (the manifest's
`category_map`; service/category_policy.py), and it is flagged when one of them is; a key no
served hazard feeds (any key, for a model without a category head) is false and 0, with no
applied input types. `harmful` is the binary score, and `flagged` = `categories.harmful` is the
verdict: score >= the served threshold, or a blocking category flagged
(`MODERATION_BLOCK_CATEGORIES`). The SDK's typed objects keep `harmful` as an extra attribute
(`result.categories.harmful`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
)

from service.moderate.protocol import MaxItems, UnicodeText

HARMFUL_CATEGORY = "harmful"


class TextInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["text"]
    text: UnicodeText


class ImageUrlInput(BaseModel):
    """Accepted by the schema so that the error can say images are not supported."""

    model_config = ConfigDict(extra="allow")

    type: Literal["image_url"]


class ModerationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: UnicodeText | Annotated[list[UnicodeText | TextInput | ImageUrlInput], MaxItems] = Field(
        description="A text, or a list of texts (or OpenAI's `{type: text}` objects) to classify."
    )
    model: str | None = Field(
        default=None,
        description="Accepted and ignored: the served artifact answers (see `model` in the reply).",
    )

    @field_validator("input", mode="wrap")
    @classmethod
    def _one_error_for_input(cls, value: object, handler: ValidatorFunctionWrapHandler) -> object:
        # One error naming `input` (OpenAI's `param`) instead of one per member of the union.
        try:
            return handler(value)
        except ValidationError as exc:
            specific = [e["msg"] for e in exc.errors() if e["type"] in ("value_error", "too_long")]
            raise ValueError(
                specific[0].removeprefix("Value error, ")
                if specific
                else "must be a string, or a list of strings or {type: text} objects"
            ) from None


class ModerationResult(BaseModel):
    flagged: bool
    categories: dict[str, bool]
    category_scores: dict[str, float]
    category_applied_input_types: dict[str, list[Literal["text"]]]


class ModerationResponse(BaseModel):
    id: str
    model: str = Field(description="name@version of the served artifact")
    results: list[ModerationResult]
