"""Route of `POST /v1/moderations` (the handler lives in `serving`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from service.deps import get_openai_serving
from service.errors import validation_error_response
from service.json_route import JsonBodyRoute
from service.openai_moderations.protocol import ModerationRequest, ModerationResponse
from service.openai_moderations.serving import OpenAIModerationServing


class OpenAIRoute(JsonBodyRoute):
    """OpenAI answers a malformed request with 400, not FastAPI's 422; the SDK raises
    `BadRequestError` for it. Other errors keep the service's (OpenAI-shaped) handlers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return validation_error_response(exc, status=400)

        return handle


router = APIRouter(tags=["gateway"], route_class=OpenAIRoute)

Serving = Annotated[OpenAIModerationServing, Depends(get_openai_serving)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed body, unknown field, empty or oversized input, an image"},
    401: {"description": "Missing or invalid API key (when MODERATION_API_KEYS is set)"},
    429: {"description": "The queue is full; retry after Retry-After seconds"},
    503: {"description": "The request waited past its deadline, or the server is stopping"},
}


@router.post("/v1/moderations", response_model=ModerationResponse, responses=_ERRORS)
async def create_moderation(body: ModerationRequest, serving: Serving) -> Response:
    """OpenAI-compatible moderation: one result per input text, OpenAI's 13 categories and
    `harmful`."""
    return await serving.create(body)
