"""A tiny causal LM with SmolLM2's real tokenizer and chat template, for tests and smoke runs.

Random weights would only emit token soup, which the clean-up rightly drops; so the tiny model
is briefly fitted to continue the real generation prompt with a few given instructions and to
answer any user turn with a given reply. It then exercises the real prompt, prefix, sampling,
clean-up and dedup code in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from train.augment.generators import SMOLLM2_ALIAS, load_tokenizer
from train.augment.prompts import PromptVariant, render_chat


def build_tiny_causal_lm(
    out_dir: Path,
    instructions: Sequence[str],
    reply: str = "Sure, here is how.",
    *,
    steps: int = 80,  # the loss flattens near 0.1 by then (the prompt has several answers)
    seed: int = 0,
) -> Path:
    torch.manual_seed(seed)
    tokenizer = load_tokenizer(SMOLLM2_ALIAS)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    eos = tokenizer.eos_token
    prompt = render_chat(tokenizer, PromptVariant().instruction, PromptVariant().prefix)
    examples = [(prompt, f' "{text}"\n{eos}') for text in instructions]
    examples += [(render_chat(tokenizer, text), f"{reply}{eos}") for text in instructions]
    batch = [tokenizer(p + t, add_special_tokens=False)["input_ids"] for p, t in examples]
    starts = [len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p, _ in examples]
    width = max(len(ids) for ids in batch)
    input_ids = torch.full((len(batch), width), tokenizer.pad_token_id)
    labels = torch.full((len(batch), width), -100)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, (ids, start) in enumerate(zip(batch, starts, strict=True)):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        mask[i, : len(ids)] = 1
        labels[i, start : len(ids)] = torch.tensor(ids[start:])
    # Logits only where there is a target: the 49k-word output layer dominates the cost.
    targets = labels[:, 1:]
    where = targets != -100
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        hidden = model.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
        logits = model.lm_head(hidden[:, :-1][where])
        loss = torch.nn.functional.cross_entropy(logits, targets[where])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
