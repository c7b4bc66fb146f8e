"""Routes of `/moderate` and `/moderate/batch` (handlers live in `serving`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from service.deps import get_moderation_serving
from service.json_route import JsonBodyRoute
from service.moderate.protocol import (
    BatchModerateRequest,
    BatchModerateResponse,
    ModerateRequest,
    ModerateResponse,
)
from service.moderate.serving import ModerationServing

router = APIRouter(tags=["moderation"], route_class=JsonBodyRoute)

Serving = Annotated[ModerationServing, Depends(get_moderation_serving)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body is not JSON"},
    413: {"description": "A text is over MODERATION_MAX_TEXT_CHARS"},
    422: {"description": "A field is missing, of the wrong type, unknown, or out of range"},
    429: {"description": "The queue is full; retry after Retry-After seconds"},
    503: {"description": "The request waited past its deadline, or the server is stopping"},
}


@router.post("/moderate", response_model=ModerateResponse, responses=_ERRORS)
async def moderate(body: ModerateRequest, serving: Serving) -> Response:
    """Score one (prompt, response) pair."""
    return await serving.moderate(body)


@router.post("/moderate/batch", response_model=BatchModerateResponse, responses=_ERRORS)
async def moderate_batch(body: BatchModerateRequest, serving: Serving) -> Response:
    """Score up to MODERATION_MAX_BATCH_ITEMS pairs; results come back in order."""
    return await serving.moderate_batch(body)
