"""Handler of `POST /v1/moderations`: OpenAI's request in, the scoring core, OpenAI's reply out."""

from __future__ import annotations

import uuid

import orjson
from starlette.responses import Response

from service.endpoint_serving import EndpointServing
from service.errors import InvalidInputError
from service.openai_moderations.protocol import (
    HARMFUL_CATEGORY,
    ImageUrlInput,
    ModerationRequest,
    TextInput,
)


class OpenAIModerationServing(EndpointServing):
    def _texts(self, request: ModerationRequest) -> list[str]:
        raw = [request.input] if isinstance(request.input, str) else request.input
        if not raw:
            raise InvalidInputError("input", "the list is empty", status=400, code="empty_input")
        if len(raw) > self.max_items:
            raise InvalidInputError(
                "input",
                f"{len(raw)} items; the limit is {self.max_items}",
                status=400,
                code="too_many_items",
            )
        texts: list[str] = []
        for n, item in enumerate(raw):
            if isinstance(item, ImageUrlInput):
                raise InvalidInputError(
                    f"input.{n}", "image inputs are not supported", status=400, code="unsupported"
                )
            text = item.text if isinstance(item, TextInput) else item
            if len(text) > self.max_text_chars:
                raise InvalidInputError(
                    "input" if isinstance(request.input, str) else f"input.{n}",
                    f"{len(text)} characters; the limit is {self.max_text_chars}",
                    status=400,
                    code="string_above_max_length",
                )
            texts.append(text)
        return texts

    async def create(self, request: ModerationRequest) -> Response:
        texts = self._texts(request)
        # Empty text has nothing to judge; it is not sent to the model.
        to_score = [t for t in texts if t.strip()]
        scored_results = await self.moderator.moderate([(t, None) for t in to_score])
        verdicts = self.verdicts.judge(scored_results, to_score)
        scored = zip(scored_results, verdicts, strict=True)
        policy = self.verdicts.policy
        nothing = tuple(0.0 for _ in policy.codes)
        applied = {**policy.openai_applied(), HARMFUL_CATEGORY: ["text"]}
        results = []
        for text in texts:
            if text.strip():
                result, verdict = next(scored)
                score, category_scores = result.score, result.categories
                flagged, category_flags = verdict.blocked, verdict.categories
            else:
                score, category_scores = 0.0, nothing
                flagged, category_flags = False, tuple(False for _ in nothing)
            results.append(
                {
                    "flagged": flagged,
                    "categories": {
                        **policy.openai_flags(category_flags),
                        HARMFUL_CATEGORY: flagged,
                    },
                    "category_scores": {
                        **policy.openai_scores(category_scores),
                        HARMFUL_CATEGORY: score,
                    },
                    "category_applied_input_types": applied,
                }
            )
        body = {
            "id": f"modr-{uuid.uuid4().hex}",
            "model": self.moderator.model_id,
            "results": results,
        }
        return Response(orjson.dumps(body), media_type="application/json")
