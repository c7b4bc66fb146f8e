"""Handlers of `/moderate` and `/moderate/batch`: limits, the scoring core, the JSON reply."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from starlette.responses import Response

from service.endpoint_serving import EndpointServing
from service.errors import InvalidInputError
from service.moderate.protocol import BatchModerateRequest, ModerateRequest
from service.scoring import ModerationResult
from service.verdicts import Verdict


class ModerationServing(EndpointServing):
    def _check_size(self, item: ModerateRequest, prefix: str) -> None:
        for name, text in (("prompt", item.prompt), ("response", item.response)):
            if text is not None and len(text) > self.max_text_chars:
                raise InvalidInputError(
                    prefix + name,
                    f"{len(text)} characters; the limit is {self.max_text_chars}",
                    status=413,
                    code="too_large",
                )

    def _bodies(
        self, results: list[ModerationResult], items: Sequence[ModerateRequest]
    ) -> list[dict[str, object]]:
        texts = (
            [t for i in items for t in (i.prompt, i.response) if t is not None]
            if self.verdicts.log_texts
            else []
        )
        verdicts = self.verdicts.judge(results, texts)
        return [self._body(r, v) for r, v in zip(results, verdicts, strict=True)]

    def _body(self, result: ModerationResult, verdict: Verdict) -> dict[str, object]:
        body: dict[str, object] = {
            "harmful": verdict.blocked,
            "score": result.score,
            "threshold": result.threshold,
            "model": self.moderator.model_id,
            "cached": result.cached,
            "truncated": result.truncated,
            "windows": result.windows,
        }
        policy = self.verdicts.policy
        if policy.codes:  # a binary-only model's reply stays as it was
            body["categories"] = {
                code: {"name": name, "score": score, "flagged": flagged}
                for code, name, score, flagged in zip(
                    policy.codes, policy.names, result.categories, verdict.categories, strict=True
                )
            }
        return body

    async def moderate(self, request: ModerateRequest) -> Response:
        self._check_size(request, "")
        (result,) = await self.moderator.moderate([(request.prompt, request.response)])
        return _json(self._bodies([result], [request])[0])

    async def moderate_batch(self, request: BatchModerateRequest) -> Response:
        items: Sequence[ModerateRequest] = request.items
        if len(items) > self.max_items:
            raise InvalidInputError(
                "items",
                f"{len(items)} items; the limit is {self.max_items}",
                code="too_many_items",
            )
        for n, item in enumerate(items):
            self._check_size(item, f"items.{n}.")
        results = await self.moderator.moderate([(i.prompt, i.response) for i in items])
        return _json({"results": self._bodies(results, items)})


def _json(body: object) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")
