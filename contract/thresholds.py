"""Which decision threshold judges an input: a prompt alone, or a (prompt, response) pair.

Prompt and response classification are separate tasks (as in Llama Guard), and the same scores
want different thresholds for them, so an artifact may carry a second threshold for inputs with
a response (manifest `response_threshold`, chosen on dev). `train/` (export, evaluation,
experiment reports) and `service/` both pick it through `Thresholds.for_input`, so that no
figure is computed at a threshold the service would not apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.pairs import has_response


@dataclass(frozen=True, slots=True)
class Thresholds:
    """`prompt` judges a prompt alone; `response` a pair with a response (None: `prompt`,
    as for every artifact before response thresholds existed)."""

    prompt: float
    response: float | None = None

    def for_input(self, with_response: bool) -> float:
        """The threshold for an input that has a response (`with_response`) or not."""
        return self.response if with_response and self.response is not None else self.prompt

    def for_pair(self, response: str | None) -> float:
        """The threshold for a pair with this response (None or empty: the prompt's)."""
        return self.for_input(has_response(response))
