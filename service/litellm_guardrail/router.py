"""Route of LiteLLM's Generic Guardrail API (the handler lives in `serving`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from service.deps import get_guardrail_serving
from service.json_route import JsonBodyRoute
from service.litellm_guardrail.protocol import GuardrailRequest, GuardrailResponse
from service.litellm_guardrail.serving import GuardrailServing

router = APIRouter(tags=["gateway"], route_class=JsonBodyRoute)

Serving = Annotated[GuardrailServing, Depends(get_guardrail_serving)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or invalid API key (when MODERATION_API_KEYS is set)"},
    413: {"description": "A text is over MODERATION_MAX_TEXT_CHARS"},
    422: {"description": "A field is missing or of the wrong type"},
    429: {"description": "The queue is full; retry after Retry-After seconds"},
    503: {"description": "The request waited past its deadline, or the server is stopping"},
}


@router.post(
    "/beta/litellm_basic_guardrail_api", response_model=GuardrailResponse, responses=_ERRORS
)
async def litellm_guardrail(body: GuardrailRequest, serving: Serving) -> Response:
    """LiteLLM Generic Guardrail API: `BLOCKED` when any text is harmful, else `NONE`."""
    return await serving.check(body)
