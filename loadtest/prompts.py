"""The prompt mix every target is loaded with: real chat prompts, or a synthetic stand-in.

Prompts come from ToxicChat (train seeds) and the OpenAI moderation samples in the data dir.
They are load inputs only: nothing is trained, tuned or scored against them here. Without a data
dir a synthetic mix with ToxicChat's length distribution (median ~13 words, p90 ~95) is used.
A configurable share of requests repeats a small "hot" set of prompts, so that cache hits can be
studied; the rest walk through the mix in order.
"""

from __future__ import annotations

import gzip
import json
import math
import random
from pathlib import Path

TOXICCHAT_FILE = Path("seeds/toxicchat/toxic_chat_train.json")
TOXICCHAT_TEST_FILE = Path("eval/toxicchat/toxic_chat_test.json")  # the benchmark's inputs
OAI_FILE = Path("eval/oai_moderation/samples-1680.jsonl.gz")

# A log-normal fitted to ToxicChat's prompt lengths in words: median ~13, p90 ~95.
_SYNTH_MU = math.log(13.0)
_SYNTH_SIGMA = math.log(95.0 / 13.0) / 1.2816
_SYNTH_TEXT = (
    "please write a short story about the history of my neighbour and how to cook dinner "
    "tonight with friends explain why the weather changes quickly when people travel abroad "
    "can you help me understand this code error in python what is the best way to learn "
    "music theory tell me a joke about computers and cats"
)
_SYNTH_WORDS = _SYNTH_TEXT.split()


def toxicchat_prompts(path: Path) -> list[str]:
    """The non-empty prompts of a ToxicChat file (its inputs only, never its labels)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    prompts = [str(row["instance"]) for row in data["instances"]]
    return [p for p in prompts if p.strip()]


def load_real_prompts(data_dir: Path) -> list[str]:
    """ToxicChat train prompts followed by OAI moderation prompts; empty if neither exists."""
    prompts: list[str] = []
    toxicchat = data_dir / TOXICCHAT_FILE
    if toxicchat.is_file():
        prompts += toxicchat_prompts(toxicchat)
    oai = data_dir / OAI_FILE
    if oai.is_file():
        with gzip.open(oai, "rt", encoding="utf-8") as fh:
            prompts += [str(json.loads(line)["prompt"]) for line in fh if line.strip()]
    return [p for p in prompts if p.strip()]


def synthetic_prompts(n: int, *, seed: int = 0) -> list[str]:
    """`n` prompts of plain words whose lengths follow ToxicChat's distribution."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = max(1, min(400, round(rng.lognormvariate(_SYNTH_MU, _SYNTH_SIGMA))))
        out.append(" ".join(rng.choice(_SYNTH_WORDS) for _ in range(words)))
    return out


def cap_tokens(prompts: list[str], tokenizer_file: Path, max_tokens: int) -> list[str]:
    """Cut each prompt to at most `max_tokens` tokens of the student's tokenizer.

    Every target gets the same capped text; infinity-emb does not truncate and hangs on an
    input over 512 tokens, so the cap must be applied client-side.
    """
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    out = []
    for prompt, enc in zip(prompts, tokenizer.encode_batch(prompts), strict=True):
        # Special tokens ([CLS], [SEP]) have no character span (offset (0, 0)).
        spans = [span for span in enc.offsets if span != (0, 0)]
        out.append(prompt[: spans[max_tokens - 1][1]] if len(spans) > max_tokens else prompt)
    return out


def build_prompt_mix(
    data_dir: Path | None, *, n: int = 2000, seed: int = 0
) -> tuple[list[str], str]:
    """`n` shuffled prompts and a description of where they came from."""
    real = load_real_prompts(data_dir) if data_dir is not None else []
    if real:
        rng = random.Random(seed)
        rng.shuffle(real)
        return real[:n], f"ToxicChat train + OAI moderation prompts from {data_dir}"
    return synthetic_prompts(n, seed=seed), "synthetic prompts (ToxicChat length distribution)"


def save_prompts(path: Path, prompts: list[str], source: str) -> None:
    path.write_text(json.dumps({"source": source, "prompts": prompts}), encoding="utf-8")


def load_prompts(path: Path) -> tuple[list[str], str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [str(p) for p in data["prompts"]], str(data["source"])


class PromptStream:
    """Endless prompts: with probability `repeat_share` one of the `hot` first prompts, else
    the next fresh prompt in order; a fresh prompt never repeats (each pass after the first
    appends its number; `first_pass` skips passes). Deterministic for a given seed."""

    def __init__(
        self,
        prompts: list[str],
        *,
        repeat_share: float = 0.0,
        hot: int = 32,
        seed: int = 0,
        first_pass: int = 0,
    ) -> None:
        if not prompts:
            raise ValueError("the prompt mix is empty")
        if not 0.0 <= repeat_share <= 1.0:
            raise ValueError(f"repeat_share must be within [0, 1], got {repeat_share}")
        self._hot = prompts[: max(1, min(hot, len(prompts)))]
        self._fresh = prompts[len(self._hot) :] or prompts
        self._repeat_share = repeat_share
        self._rng = random.Random(seed)
        # Runs against one server process use distinct first passes, so that a later run does
        # not replay (and hit the cache with) the fresh prompts of an earlier one.
        self._next = first_pass * len(self._fresh)

    def __iter__(self) -> PromptStream:
        return self

    def __next__(self) -> str:
        if self._repeat_share and self._rng.random() < self._repeat_share:
            return self._rng.choice(self._hot)
        passes, index = divmod(self._next, len(self._fresh))
        self._next += 1
        prompt = self._fresh[index]
        # A fast target walks the whole mix many times in one run: later passes get a suffix
        # so that fresh prompts stay fresh and only the hot share can hit a cache.
        return f"{prompt} ({passes})" if passes else prompt
