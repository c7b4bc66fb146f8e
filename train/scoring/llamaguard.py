"""Backends for Llama-Guard-style causal LMs: P(unsafe) from the first answer token.

The prompt is Llama Guard 3's: the S1-S14 categories, the conversation, and the instruction to
answer 'safe' or 'unsafe'. The score compares "unsafe" vs "safe" by the FIRST token of each word
(some tokenizers split "unsafe", e.g. SmolLM2's "uns"+"afe"). Two ways to run the model: locally
through transformers (`LocalLlamaGuard`: the two-way softmax of those tokens' logits), or
through an OpenAI-compatible `/v1/completions` endpoint that returns top logprobs
(`EndpointLlamaGuard`: vLLM or llama.cpp's server; read by `contract.llamaguard`'s reader), with
many requests in flight so that the server can batch them, each retried with back-off
(`train/endpoint_client.py`).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from tqdm import tqdm

from contract import Pair
from contract.llamaguard import guard_task, llama3_prompt, p_unsafe_from_top
from train.endpoint_client import (
    EndpointError,
    RetryPolicy,
    http_client,
    map_concurrent,
    post_json,
)


def two_way_unsafe(logit_safe: float, logit_unsafe: float) -> float:
    top = max(logit_safe, logit_unsafe)
    a, b = math.exp(logit_safe - top), math.exp(logit_unsafe - top)
    return b / (a + b)


class LocalLlamaGuard:
    """A causal LM via transformers (hub id, folder, or `folder::file.gguf`)."""

    def __init__(self, spec: str, batch_size: int = 4, max_length: int = 2048) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path, _, gguf = spec.partition("::")
        kwargs: dict[str, Any] = {"gguf_file": gguf} if gguf else {}
        self.tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
        self.model = AutoModelForCausalLM.from_pretrained(path, **kwargs).eval()
        self.tokenizer.padding_side = "left"  # the next-token logits are at the last position
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.safe_id = self.tokenizer.encode("safe", add_special_tokens=False)[0]
        self.unsafe_id = self.tokenizer.encode("unsafe", add_special_tokens=False)[0]
        if self.safe_id == self.unsafe_id:
            raise ValueError(f"{spec}: 'safe' and 'unsafe' start with the same token")
        self.batch_size, self.max_length, self.spec = batch_size, max_length, spec
        template = str(getattr(self.tokenizer, "chat_template", "") or "")
        # A real Llama Guard template builds the task from the conversation itself.
        self.native_guard_template = "unsafe content categories" in template.lower()

    @property
    def scorer_id(self) -> str:
        return f"llamaguard:{self.spec}"

    def render(self, pair: Pair) -> str:
        prompt, response = pair
        if self.native_guard_template:
            messages = [{"role": "user", "content": prompt}]
            if response is not None:
                messages.append({"role": "assistant", "content": response})
        else:
            messages = [{"role": "user", "content": guard_task(prompt, response)}]
        if getattr(self.tokenizer, "chat_template", None):
            text = self.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
            return str(text)
        return llama3_prompt(guard_task(prompt, response))

    @torch.inference_mode()
    def score(self, pairs: list[Pair]) -> list[float]:
        out: list[float] = []
        starts = range(0, len(pairs), self.batch_size)
        for start in tqdm(starts, desc=f"llamaguard {self.spec}", unit="batch"):
            texts = [self.render(p) for p in pairs[start : start + self.batch_size]]
            batch = self.tokenizer(
                texts, return_tensors="pt", padding=True, truncation=True,
                max_length=self.max_length, add_special_tokens=False,
            )  # fmt: skip
            logits = self.model(**batch).logits[:, -1, :].float()
            for row in logits:
                out.append(two_way_unsafe(float(row[self.safe_id]), float(row[self.unsafe_id])))
        return out


class EndpointLlamaGuard:
    """An OpenAI-compatible `/v1/completions` server that returns top logprobs.

    `concurrency` requests are in flight at once (vLLM batches them; 32 keeps an 8B guard on one
    GPU busy without queueing minutes of work in its scheduler); `retry` says how failures are
    retried.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        top_logprobs: int = 20,
        timeout: float = 120.0,
        *,
        concurrency: int = 32,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/").removesuffix("/v1")
        self.model, self.top_logprobs, self.timeout = model, top_logprobs, timeout
        self.concurrency = concurrency
        self.retry = retry or RetryPolicy()
        self._client = http_client(concurrency, timeout)
        self.safe_token = self._first_token("safe")
        self.unsafe_token = self._first_token("unsafe")

    @property
    def scorer_id(self) -> str:
        return f"llamaguard-endpoint:{self.base_url}|{self.model}"

    def _first_token(self, word: str) -> str:
        """The text of the first token of `word`, via the server's (de)tokenize routes."""
        try:
            ids = post_json(self._client, f"{self.base_url}/tokenize",
                            {"model": self.model, "content": word, "prompt": word,
                             "add_special": False, "add_special_tokens": False},
                            self.retry)["tokens"]  # fmt: skip
            reply = post_json(
                self._client,
                f"{self.base_url}/detokenize",
                {"model": self.model, "tokens": ids[:1]},
                self.retry,
            )
            return str(reply.get("content", reply.get("prompt", word))).strip() or word
        except EndpointError as exc:
            if exc.status is None:
                raise  # the server is down, not missing a route: labelling would fail too
            return word  # servers without tokenize routes: assume one token per word
        except (KeyError, ValueError):
            return word

    def score_one(self, pair: Pair) -> float:
        reply = post_json(
            self._client,
            f"{self.base_url}/v1/completions",
            {"model": self.model, "prompt": llama3_prompt(guard_task(*pair)),
             "max_tokens": 1, "temperature": 0.0, "logprobs": self.top_logprobs},
            self.retry,
        )  # fmt: skip
        top = reply["choices"][0]["logprobs"]["top_logprobs"][0]
        p_unsafe = p_unsafe_from_top(top, (self.safe_token, self.unsafe_token))
        return 0.5 if p_unsafe is None else p_unsafe  # neither word in the top k: no opinion

    def score(self, pairs: list[Pair]) -> list[float]:
        return map_concurrent(
            self.score_one, pairs, concurrency=self.concurrency, desc="llamaguard endpoint"
        )
