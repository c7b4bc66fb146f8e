"""Handler of LiteLLM's guardrail call: every text is scored; one harmful text blocks the call.

LiteLLM sends a response check (post_call) without the prompt that produced it, so each text is
scored on its own, as a prompt-only input, and judged at the prompt threshold (the response
threshold is for a response beside its prompt, which LiteLLM does not send); long texts go
through the long-input policy like any other. A block's reason names the flagged categories of
the texts that block (code, name and the highest score), whether they blocked
(MODERATION_BLOCK_CATEGORIES) or only describe a text the binary score blocked.
"""

from __future__ import annotations

import orjson
from starlette.responses import Response

from service.endpoint_serving import EndpointServing
from service.errors import InvalidInputError
from service.litellm_guardrail.protocol import GuardrailRequest
from service.logs import current_request
from service.scoring import ModerationResult
from service.verdicts import Verdict


class GuardrailServing(EndpointServing):
    def _threshold(self, request: GuardrailRequest) -> float | None:
        """The guardrail config's own threshold; None: each text's served one."""
        params = request.additional_provider_specific_params or {}
        value = params.get("threshold")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise InvalidInputError(
                "additional_provider_specific_params.threshold", "must be a number in [0, 1]"
            )
        return float(value)

    def _texts(self, request: GuardrailRequest) -> list[str]:
        texts = request.texts or []
        if len(texts) > self.max_items:
            raise InvalidInputError(
                "texts", f"{len(texts)} texts; the limit is {self.max_items}", code="too_many_items"
            )
        for n, text in enumerate(texts):
            if len(text) > self.max_text_chars:
                raise InvalidInputError(
                    f"texts.{n}",
                    f"{len(text)} characters; the limit is {self.max_text_chars}",
                    status=413,
                    code="too_large",
                )
        # Empty texts (e.g. an assistant turn holding only tool calls) have nothing to judge.
        return [t for t in texts if t.strip()]

    async def check(self, request: GuardrailRequest) -> Response:
        record = current_request.get()
        if record is not None:  # LiteLLM's ids join its logs to ours
            record.litellm_call_id = request.litellm_call_id
            record.litellm_trace_id = request.litellm_trace_id
        threshold = self._threshold(request)
        texts = self._texts(request)
        results = await self.moderator.moderate([(t, None) for t in texts])
        verdicts = self.verdicts.judge(results, texts, threshold=threshold)
        blocking = [(r, v) for r, v in zip(results, verdicts, strict=True) if v.blocked]
        if not blocking:
            body: dict[str, object] = {"action": "NONE"}
        else:
            top = max((r for r, _ in blocking), key=lambda r: r.score)
            score, applied = top.score, top.threshold if threshold is None else threshold
            reason = (
                f"harmful {request.input_type} (score {score:.3f} "
                f"{'>=' if score >= applied else '<'} threshold {applied:.3f}, "
                f"{len(blocking)} of {len(texts)} texts, model {self.moderator.model_id})"
            )
            categories = self._flagged_categories(blocking)
            body = {
                "action": "BLOCKED",
                "blocked_reason": f"{reason}; categories: {categories}" if categories else reason,
            }
        return Response(orjson.dumps(body), media_type="application/json")

    def _flagged_categories(self, blocking: list[tuple[ModerationResult, Verdict]]) -> str:
        """`S9 Indiscriminate Weapons 0.982, ...`: each category flagged in a blocking text,
        with its highest score among them."""
        policy = self.verdicts.policy
        parts = []
        for n, (code, name) in enumerate(zip(policy.codes, policy.names, strict=True)):
            scores = [r.categories[n] for r, v in blocking if v.categories[n]]
            if scores:
                parts.append(f"{code} {name} {max(scores):.3f}")
        return ", ".join(parts)
