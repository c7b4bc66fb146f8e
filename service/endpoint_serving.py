"""What every endpoint's handlers share: `/moderate` and `/moderate/batch`, OpenAI's
`/v1/moderations` and LiteLLM's guardrail call."""

from __future__ import annotations

from service.scoring import Moderator
from service.verdicts import Verdicts


class EndpointServing:
    """The moderator, the verdict log and the request limits (items per call, characters per
    text) of one endpoint."""

    def __init__(
        self,
        moderator: Moderator,
        *,
        max_text_chars: int,
        max_items: int,
        verdicts: Verdicts | None = None,
    ) -> None:
        self.moderator = moderator
        self.verdicts = verdicts or Verdicts(
            moderator.model_id, None, shadow=False, log_texts=False
        )
        self.max_text_chars = max_text_chars
        self.max_items = max_items
