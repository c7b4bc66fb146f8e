"""Bodies of LiteLLM's Generic Guardrail API (as sent by `litellm` 1.106's GenericGuardrailAPI).

Unknown request fields are ignored, not refused: LiteLLM adds fields from release to release,
and a guardrail that refused them would block all traffic after a LiteLLM upgrade.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.moderate.protocol import MaxItems, UnicodeText


class GuardrailRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    input_type: Literal["request", "response"] = Field(
        description="`request`: texts of the user's call (pre_call); `response`: the LLM's output"
    )
    texts: Annotated[list[UnicodeText], MaxItems] | None = Field(
        default=None, description="The texts to check"
    )
    images: list[str] | None = Field(default=None, description="Not scored (text-only model)")
    structured_messages: list[Any] | None = None
    tools: list[Any] | None = None
    tool_calls: list[Any] | None = None
    request_data: dict[str, Any] | None = Field(default=None, description="Caller metadata")
    request_headers: dict[str, str] | None = None
    additional_provider_specific_params: dict[str, Any] | None = Field(
        default=None,
        description="From the LiteLLM guardrail config; `threshold` (0..1) overrides the "
        "served threshold for this guardrail",
    )
    litellm_call_id: str | None = None
    litellm_trace_id: str | None = None
    litellm_version: str | None = None
    model: str | None = None


class GuardrailResponse(BaseModel):
    action: Literal["BLOCKED", "NONE", "GUARDRAIL_INTERVENED"] = Field(
        description="BLOCKED when any text is harmful, else NONE (texts are never rewritten)"
    )
    blocked_reason: str | None = Field(
        default=None,
        description="why: the highest score, how many texts, the model, and the categories "
        "flagged in the blocking texts (`categories: S9 Indiscriminate Weapons 0.982`)",
    )
