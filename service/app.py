"""The app factory: `create_app(settings)` wires artifact, engine, batcher, cache and routes."""

from __future__ import annotations

import gc
import inspect
import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from tokenizers import Tokenizer

from contract import EncodedPair, Manifest, Thresholds, load_artifact, prepare_tokenizer
from contract.batches import pad_id_of
from service import tracing
from service.admission import Admission
from service.auth import OPS_PATHS, ApiKeyMiddleware, ApiKeys
from service.batcher import BatcherConfig, DynamicBatcher
from service.cache import MemoryCache, NoCache, RedisCache, ScoreCache
from service.category_policy import CategoryPolicy, build_policy
from service.config import Settings, engine_layout
from service.deps import ServiceState
from service.encode_queue import EncodeQueue
from service.encoding import sequence_key
from service.engine import ScoreRow, cuda_available, start_sessions
from service.errors import install_error_handlers
from service.health.router import router as health_router
from service.json_route import BodyLimits
from service.litellm_guardrail.router import router as guardrail_router
from service.litellm_guardrail.serving import GuardrailServing
from service.metrics import Metrics
from service.middleware import RequestAccountingMiddleware
from service.moderate.router import router as moderate_router
from service.moderate.serving import ModerationServing
from service.openai_moderations.router import router as openai_router
from service.openai_moderations.serving import OpenAIModerationServing
from service.scoring import Moderator
from service.verdicts import Verdicts
from service.windows import LongInputPolicy, build_encoder

log = logging.getLogger(__name__)


def build_cache(settings: Settings, metrics: Metrics) -> ScoreCache:
    if settings.redis_url:
        return RedisCache(
            settings.redis_url,
            ttl_seconds=settings.cache_ttl_seconds,
            timeout_seconds=settings.redis_timeout_seconds,
            retry_seconds=settings.redis_retry_seconds,
            metrics=metrics,
        )
    if settings.cache_size > 0:
        return MemoryCache(settings.cache_size, settings.cache_ttl_seconds, metrics)
    return NoCache()


def category_policy(settings: Settings, manifest: Manifest) -> CategoryPolicy:
    """The served category policy; `CategoryPolicyError` when the settings name a category
    the artifact does not score (`python -m service` checks this before it starts)."""
    return build_policy(
        manifest,
        serve=settings.categories,
        thresholds=settings.category_thresholds,
        block=settings.block_categories,
    )


def served_thresholds(settings: Settings, manifest: Manifest) -> Thresholds:
    """The manifest's thresholds under the settings' overrides, each on its own: overriding
    the prompt threshold leaves a manifest's response threshold as it is."""
    return Thresholds(
        manifest.threshold if settings.threshold is None else settings.threshold,
        manifest.response_threshold
        if settings.response_threshold is None
        else settings.response_threshold,
    )


def build_state(settings: Settings, metrics: Metrics) -> ServiceState:
    """Load and warm up everything; the batcher is started by the caller inside the loop."""
    artifact = load_artifact(settings.artifact_dir)
    manifest = artifact.manifest
    tokenizer = Tokenizer.from_file(str(artifact.tokenizer_path))
    pad_id = pad_id_of(tokenizer)
    prepare_tokenizer(tokenizer, manifest.max_length, manifest.pair_layout)
    workers, threads = engine_layout(settings, gpu=cuda_available())
    policy = category_policy(settings, manifest)
    engines = start_sessions(
        artifact, count=workers, threads=threads, pad_id=pad_id, categories=bool(policy.codes)
    )
    log.info("loaded %s from %s (%d x %s session, %d threads each)", manifest.model_id,
             artifact.path, workers, engines[0].provider, threads)  # fmt: skip
    # The longest sequence the model sees: a pair layout may give pairs a wider window.
    window = max(manifest.max_length, getattr(manifest.pair_layout, "max_length", 0))
    encoder = build_encoder(
        tokenizer,
        manifest.max_length,
        policy=LongInputPolicy(settings.long_input_policy),
        stride=settings.window_stride,
        max_windows=settings.max_windows,
        layout=manifest.pair_layout,
    )
    encoder(
        [("warm up", None), ("warm up", "the tokenizer"), ("warm up " * manifest.max_length, None)]
    )
    forwards: list[Callable[[Sequence[EncodedPair]], Any]] = [e.score_rows for e in engines]
    if tracing.enabled():
        forwards = [tracing.timed_forward(forward) for forward in forwards]
    batcher: DynamicBatcher[EncodedPair, ScoreRow] = DynamicBatcher(
        forwards,
        BatcherConfig(
            max_batch_size=settings.max_batch_size,
            max_batch_tokens=settings.max_batch_tokens,
            max_padding_ratio=settings.max_padding_ratio,
            max_wait_s=settings.max_wait_ms / 1000.0,
            max_queue=settings.max_queue,
            strategy=settings.batching,
            # Heavy: a request of 4 full windows or more (a long text, a large batch); one
            # prompt, however long, is light, so uniform traffic is never held back.
            heavy_tokens=4 * manifest.max_length,
            # A few round trips of a client sending short prompts one after another: while
            # such traffic lasts, a worker stays free for it and long texts' windows get half
            # of the others (service/fair_share.py; `make reliability`'s fairness case).
            light_hold_s=0.1,
            heavy_share=0.5,
        ),
        key=sequence_key,
        observer=metrics,
        default_timeout_s=settings.request_timeout_ms / 1000.0,
    )
    thresholds = served_thresholds(settings, manifest)
    metrics.set_model(manifest.name, manifest.version, thresholds)
    cache = build_cache(settings, metrics)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokenize")
    verdicts = Verdicts(
        manifest.model_id,
        metrics,
        shadow=settings.shadow_mode,
        log_texts=settings.log_texts,
        policy=policy,
    )
    if settings.shadow_mode:
        log.warning("shadow mode: verdicts are logged and counted, but nothing is blocked")
    # A call longer than this needs windows: it is tokenised apart (encode_queue.py).
    encode_queue = EncodeQueue(encoder, executor, metrics, long_chars=16 * window)
    moderator = Moderator(
        model_id=manifest.model_id,
        thresholds=thresholds,
        encoder=encode_queue,
        batcher=batcher,
        cache=cache,
        timeout_s=settings.request_timeout_ms / 1000.0,
        metrics=metrics,
        categories=len(policy.codes),
        admission=Admission(
            batcher,
            max_length=manifest.max_length,
            max_windows_per_text=settings.max_windows,
            max_request_windows=max(settings.max_request_windows, settings.max_batch_items),
            max_queue=settings.max_queue,
            metrics=metrics,
        ),
    )
    return ServiceState(
        settings=settings,
        artifact=artifact,
        engines=engines,
        batcher=batcher,
        cache=cache,
        moderator=moderator,
        moderation_serving=ModerationServing(
            moderator,
            max_text_chars=settings.max_text_chars,
            max_items=settings.max_batch_items,
            verdicts=verdicts,
        ),
        openai_serving=OpenAIModerationServing(
            moderator,
            max_text_chars=settings.max_text_chars,
            max_items=settings.max_batch_items,
            verdicts=verdicts,
        ),
        guardrail_serving=GuardrailServing(
            moderator,
            max_text_chars=settings.max_text_chars,
            max_items=settings.max_batch_items,
            verdicts=verdicts,
        ),
        metrics=metrics,
        tokenize_executor=executor,
        encode_queue=encode_queue,
    )


def freeze_startup_objects() -> None:
    """Keep the garbage collector off what lives as long as the process (model, tokenizer, app).

    Profiled at saturation, collections re-scanning these objects took ~10% of the event loop's
    CPU; frozen, they are skipped, and a larger young generation collects less often.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def _no_native_telemetry() -> dict[str, Any]:
    """FastAPI 0.16x's own OpenTelemetry off: `service.tracing` makes the spans (the same on
    every FastAPI), and FastAPI's would duplicate the request span, record validation errors,
    whose messages can quote the prompt, and cost CPU on every request even when unexported."""
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    off = dict.fromkeys(("tracing", "metrics", "logs", "operation_spans", "auto_configure"), False)
    return {"telemetry": off}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics()
    if settings.tracing and not tracing.enabled():
        tracing.setup(os.environ.get("OTEL_SERVICE_NAME", "harmaug-moderation"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = build_state(settings, metrics)
        freeze_startup_objects()
        state.batcher.start()
        app.state.service = state
        state.ready = True
        log.info("ready: %s, cache %s, batching %s", state.moderator.model_id,
                 state.cache.backend, settings.batching)  # fmt: skip
        try:
            yield
        finally:
            state.ready = False
            state.batcher.close()
            await state.cache.close()
            state.tokenize_executor.shutdown(wait=False)
            state.encode_queue.close()

    app = FastAPI(
        title="HarmAug moderation service",
        summary="Scores LLM prompts and responses for harm with a distilled student model.",
        version="0.1.0",
        lifespan=lifespan,
        **_no_native_telemetry(),
    )
    app.state.metrics = metrics
    app.state.settings = settings
    app.state.body_limits = BodyLimits(
        max_items=settings.max_batch_items, max_json_values=settings.max_json_values
    )
    install_error_handlers(app)
    app.include_router(moderate_router)
    app.include_router(openai_router)
    app.include_router(guardrail_router)
    app.include_router(health_router)
    # Added before the accounting middleware, so it runs inside it and 401s are counted.
    app.add_middleware(
        ApiKeyMiddleware,
        keys=ApiKeys(settings.api_keys),
        open_paths=frozenset() if settings.auth_protect_ops else OPS_PATHS,
    )
    app.add_middleware(
        RequestAccountingMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        # Documented paths are the metric's endpoint labels; anything else counts as "other".
        endpoints=lambda: set(app.openapi()["paths"]),
        quiet_paths=frozenset({"/healthz", "/readyz", "/metrics"}),
        log_texts=settings.log_texts,
    )
    return app
