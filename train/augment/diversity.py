"""How varied a set of instructions is, compared on equal-size samples.

Distinct-n (unique n-grams / all n-grams) depends on the sample size, so every set is measured
on the same number of randomly drawn texts; the mean pairwise cosine similarity of sentence
embeddings (mean-pooled all-MiniLM-L6-v2) says how close the texts sit in meaning.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence

_WORD = re.compile(r"\w+")


def sample(texts: Sequence[str], size: int, seed: int = 0) -> list[str]:
    texts = list(texts)
    return random.Random(seed).sample(texts, size) if len(texts) > size else texts


def distinct_n(texts: Sequence[str], n: int) -> float:
    grams: list[tuple[str, ...]] = []
    for text in texts:
        words = _WORD.findall(text.casefold())
        grams += [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return len(set(grams)) / max(len(grams), 1)


def mean_pairwise_cosine(texts: Sequence[str], encoder: str | None = None) -> float:
    """Mean cosine similarity over all pairs of distinct texts (lower = more diverse)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from train.base_models import minilm_path

    source = encoder or str(minilm_path())
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModel.from_pretrained(source).eval()
    vectors = []
    with torch.inference_mode():
        for start in range(0, len(texts), 64):
            enc = tokenizer(
                list(texts[start : start + 64]), padding=True, truncation=True,
                max_length=64, return_tensors="pt",
            )  # fmt: skip
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1)
            vectors.append(torch.nn.functional.normalize(pooled, dim=-1))
    emb = torch.cat(vectors)
    sims = emb @ emb.T
    n = emb.shape[0]
    return float((sims.sum() - sims.diagonal().sum()) / max(n * (n - 1), 1))


def diversity_report(
    sets: Mapping[str, Sequence[str]], size: int = 500, seed: int = 0, embed: bool = True
) -> dict[str, dict[str, float]]:
    report: dict[str, dict[str, float]] = {}
    for name, texts in sets.items():
        chosen = sample(texts, size, seed)
        row = {"texts": float(len(chosen))}
        for n in (1, 2, 3):
            row[f"distinct_{n}"] = distinct_n(chosen, n)
        if embed:
            row["mean_pairwise_cosine"] = mean_pairwise_cosine(chosen)
        report[name] = row
    return report
