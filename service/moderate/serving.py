"""Handlers of `/moderate` and `/moderate/batch`: limits, the scoring core, the JSON reply."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from starlette.responses import Response

from service.errors import InvalidInputError
from service.moderate.protocol import BatchModerateRequest, ModerateRequest
from service.scoring import ModerationResult, Moderator


class ModerationServing:
    def __init__(self, moderator: Moderator, *, max_text_chars: int, max_batch_items: int) -> None:
        self.moderator = moderator
        self.max_text_chars = max_text_chars
        self.max_batch_items = max_batch_items

    def _check_size(self, item: ModerateRequest, prefix: str) -> None:
        for name, text in (("prompt", item.prompt), ("response", item.response)):
            if text is not None and len(text) > self.max_text_chars:
                raise InvalidInputError(
                    prefix + name,
                    f"{len(text)} characters; the limit is {self.max_text_chars}",
                    status=413,
                    code="too_large",
                )

    def _body(self, result: ModerationResult) -> dict[str, object]:
        return {
            "harmful": result.harmful,
            "score": result.score,
            "threshold": self.moderator.threshold,
            "model": self.moderator.model_id,
            "cached": result.cached,
            "truncated": result.truncated,
            "windows": result.windows,
        }

    async def moderate(self, request: ModerateRequest) -> Response:
        self._check_size(request, "")
        (result,) = await self.moderator.moderate([(request.prompt, request.response)])
        return _json(self._body(result))

    async def moderate_batch(self, request: BatchModerateRequest) -> Response:
        items: Sequence[ModerateRequest] = request.items
        if len(items) > self.max_batch_items:
            raise InvalidInputError(
                "items",
                f"{len(items)} items; the limit is {self.max_batch_items}",
                code="too_many_items",
            )
        for n, item in enumerate(items):
            self._check_size(item, f"items.{n}.")
        results = await self.moderator.moderate([(i.prompt, i.response) for i in items])
        return _json({"results": [self._body(r) for r in results]})


def _json(body: object) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")
