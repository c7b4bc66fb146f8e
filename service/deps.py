"""What the lifespan builds and the routes receive through `Depends`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from fastapi import Request

from contract import Artifact, EncodedPair
from service.batcher import BatcherClosedError, DynamicBatcher
from service.cache import ScoreCache
from service.config import Settings
from service.encode_queue import EncodeQueue
from service.engine import OnnxEngine, ScoreRow
from service.litellm_guardrail.serving import GuardrailServing
from service.metrics import Metrics
from service.moderate.serving import ModerationServing
from service.openai_moderations.serving import OpenAIModerationServing
from service.scoring import Moderator


@dataclass
class ServiceState:
    settings: Settings
    artifact: Artifact
    engines: list[OnnxEngine]  # one per batcher worker
    batcher: DynamicBatcher[EncodedPair, ScoreRow]
    cache: ScoreCache
    moderator: Moderator
    moderation_serving: ModerationServing
    openai_serving: OpenAIModerationServing
    guardrail_serving: GuardrailServing
    metrics: Metrics
    tokenize_executor: ThreadPoolExecutor
    encode_queue: EncodeQueue  # the moderator's encoder; closed with the executor
    ready: bool = False
    draining: bool = False  # SIGTERM received: still serving, but /readyz answers 503


# Dependencies are `async def` on purpose: FastAPI runs a plain `def` dependency in a thread
# pool, which would cost every request a thread hop.


async def get_state_or_none(request: Request) -> ServiceState | None:
    return getattr(request.app.state, "service", None)


def get_state(request: Request) -> ServiceState:
    """The loaded service (a plain helper for the `async` dependencies below)."""
    state: ServiceState | None = getattr(request.app.state, "service", None)
    if state is None or not state.ready:
        raise BatcherClosedError("the server is not ready")
    return state


async def get_moderation_serving(request: Request) -> ModerationServing:
    return get_state(request).moderation_serving


async def get_openai_serving(request: Request) -> OpenAIModerationServing:
    return get_state(request).openai_serving


async def get_guardrail_serving(request: Request) -> GuardrailServing:
    return get_state(request).guardrail_serving
