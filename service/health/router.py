"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import JSONResponse, Response

from service.deps import ServiceState, get_state_or_none
from service.metrics import Metrics

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(state: Annotated[ServiceState | None, Depends(get_state_or_none)]) -> Response:
    """200 once the artifact is loaded and warmed up; 503 before that and while stopping
    (from SIGTERM on: requests are still served while load balancers take the hint)."""
    if state is None or not state.ready:
        return JSONResponse({"status": "not ready"}, status_code=503)
    if state.draining:
        return JSONResponse({"status": "draining"}, status_code=503)
    return JSONResponse({"status": "ready", "model": state.moderator.model_id})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    registry: Metrics = request.app.state.metrics
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
