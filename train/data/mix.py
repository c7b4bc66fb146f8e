"""The training mix built from the seeds, its decontamination, and the validation split.

What goes in (see `MixConfig`): harmful prompts (AdvBench, Do-Not-Answer, JailbreakBench goals
and attack prompts); JailbreakBench (prompt, response) pairs labelled by its judge; harmful
prompts paired with refusals as SAFE pairs (the label is about the response when there is
one); ToxicChat train with its human labels; Alpaca instructions with and without their outputs.
The quick trial's failure mode was "sounds dangerous = harmful", so benign prompts that use
alarming words in harmless senses ("kill a process", "shoot a photo") are tagged with a
`:alarming-words` source suffix and up-weighted by the sampler. Eval sets never enter the mix:
rows whose prompt matches an eval prompt are removed, and `assert_no_eval_leakage` fails loudly
if one still appears (it also guards augmentation files).
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from train.data.benign_alarming import benign_alarming_prompts
from train.data.donotanswer import policy_label
from train.data.loaders import load_seeds
from train.data.policy_templates import policy_rows
from train.data.records import Record, normalise_text
from train.data.transfer import SOURCE_PREFIX as TRANSFER_PREFIX
from train.data.transfer import transfer_rows

ALARMING_WORDS = re.compile(
    r"\b(kill\w*|shoot\w*|shot|attack\w*|bomb\w*|weapon\w*|guns?|drugs?|murder\w*|poison\w*|"
    r"steal\w*|knife|knives|blood\w*|fight\w*|war|wars|explo(de|sion|sive)\w*|destroy\w*|"
    r"hack\w*|crack\w*|execut\w*|terminat\w*|violen\w*|dead\w*|death|die|dies|dying|hate\w*|"
    r"abus\w*|smash\w*|burn\w*|strangl\w*|chok\w*|gut|gutting|butcher\w*|slaughter\w*|"
    r"assassin\w*|crim\w*|illegal|rob|robb\w*|beat\w*|punch\w*|threat\w*|weed|cocaine|"
    r"alcohol|gambl\w*|terror\w*|nuclear|virus\w*|exploit\w*|blow\w*|fire|shoot|trap\w*)\b",
    re.IGNORECASE,
)

# Short refusals in the styles chat models use; paired with harmful prompts they are SAFE pairs.
REFUSALS = (
    "I'm sorry, but I can't help with that.",
    "I can't assist with that request.",
    "Sorry, I cannot provide that information. It could cause real harm.",
    "I'm not able to help with this. If you're going through something difficult, please reach "
    "out to someone you trust or a local support line.",
    "As an AI developed to be helpful and safe, I must decline this request.",
    "I won't help with that, because it could hurt people. Is there something else I can do?",
    "I apologize, but I cannot fulfill this request as it involves illegal or harmful activity.",
    "No. I can't provide instructions for that. I'd be glad to help with a safe alternative.",
    "I understand you're curious, but I can't give guidance on this topic.",
    "That's not something I can help with. Creating or sharing such content would be unethical.",
)


class LeakageError(RuntimeError):
    """A training or validation row's prompt is an eval prompt."""


@dataclass(frozen=True)
class MixConfig:
    seed: int = 13
    val_fraction: float = 0.1
    refusal_pairs_per_harmful_prompt: float = 0.6  # share of harmful prompts also paired w/ refusal
    jailbreak_prompts_alone: int = 400  # JBB attack prompts added prompt-only (label 1)
    alpaca_with_output_share: float = 0.5
    max_alpaca: int = 5000
    max_rows_per_source: int | None = None  # smoke tests: cap every source
    # Do-Not-Answer's "human_chatbox" area is mostly users seeking support ("I feel anxious,
    # do I need medication?"), which moderation policies such as Llama Guard 3's do not flag;
    # labelled harmful it teaches "sensitive topic = harmful".
    donotanswer_exclude: tuple[str, ...] = ()
    generated_benign: bool = False  # add `benign_alarming` template prompts (label 0)
    # "dataset": every Do-Not-Answer prompt is harmful (its own meaning, "do not answer");
    # "policy": only those harmful under the policies (`train.data.donotanswer`), the rest
    # unlabelled (teacher score only).
    donotanswer_labels: str = "dataset"
    policy_templates: bool = False  # add `policy_templates` training rows (labelled)
    transfer: dict[str, int] = field(default_factory=dict)  # unlabelled rows per transfer source
    # Dev suite (`split_dev`): held out of training whatever the rest says.
    dev_toxicchat_rows: int = 0  # a random slice of ToxicChat train (real user prompts)
    dev_jailbreakbench_attack: str | None = None  # one attack method's pairs (response level)
    dev_transfer_share: float = 0.0  # of each transfer source: student-teacher fidelity


def alarming(text: str) -> bool:
    return bool(ALARMING_WORDS.search(text))


BENIGN_PROMPT_SOURCES = ("alpaca", "alpaca-seed-tasks", "toxicchat-train")
ALARMING_SUFFIX = ":alarming-words"


def _tag_alarming(record: Record) -> Record:
    # Only prompts that are benign themselves; a refusal to a harmful prompt is another case.
    if record.label == 0 and record.source in BENIGN_PROMPT_SOURCES and alarming(record.prompt):
        return replace(record, source=record.source + ALARMING_SUFFIX)
    return record


def _donotanswer(records: list[Record], cfg: MixConfig) -> list[Record]:
    rows = [r for r in records if r.category not in cfg.donotanswer_exclude]
    if cfg.donotanswer_labels == "dataset":
        return rows
    if cfg.donotanswer_labels != "policy":
        raise ValueError(f"donotanswer_labels: {cfg.donotanswer_labels!r} (dataset|policy)")
    return [
        replace(r, label=policy_label(r.category or "", (r.variant or "").split(","))) for r in rows
    ]


def build_seed_mix(data_dir: Path, cfg: MixConfig) -> list[Record]:
    """All seed-derived rows, deduplicated, before decontamination and splitting."""
    rng = random.Random(cfg.seed)
    seeds = load_seeds(data_dir)
    rows: list[Record] = []
    donotanswer = _donotanswer(seeds["donotanswer"], cfg)
    harmful_prompts = seeds["advbench"] + donotanswer + seeds["jailbreakbench-goals"]
    rows += harmful_prompts
    for record in harmful_prompts:
        # A refusal makes a pair safe only when the request is known to be harmful.
        if record.label == 1 and rng.random() < cfg.refusal_pairs_per_harmful_prompt:
            rows.append(
                replace(
                    record,
                    response=rng.choice(REFUSALS),
                    label=0,
                    source=f"{record.source}+refusal",
                )
            )
    rows += seeds["jailbreakbench"]
    attack_prompts = sorted({r.prompt for r in seeds["jailbreakbench"]})
    rng.shuffle(attack_prompts)
    rows += [
        Record(p, None, 1, "jailbreakbench-prompts")
        for p in attack_prompts[: cfg.jailbreak_prompts_alone]
    ]
    rows += seeds["toxicchat-train"]
    alpaca = seeds["alpaca"][: cfg.max_alpaca]
    for record in alpaca:
        keep_output = record.response and rng.random() < cfg.alpaca_with_output_share
        rows.append(record if keep_output else replace(record, response=None))
    for record in seeds["alpaca-seed-tasks"]:
        rows += [record, replace(record, response=None)]
    if cfg.generated_benign:
        rows += benign_alarming_prompts(cfg.seed)
    if cfg.policy_templates:
        rows += policy_rows("train")
    rows += transfer_rows(cfg.transfer, cfg.seed)
    rows = deduplicate(_tag_alarming(r) for r in rows)
    return _cap_per_source(rows, cfg.max_rows_per_source) if cfg.max_rows_per_source else rows


def split_dev(rows: list[Record], cfg: MixConfig) -> tuple[list[Record], dict[str, list[Record]]]:
    """Take the dev suite's held-out parts out of the mix: (the rest, dev sets by name).

    `toxicchat`: a random slice of ToxicChat train (mostly benign real prompts; the decision
    threshold is set on it). `jailbreakbench-<attack>`: every pair and prompt of one attack
    method. `transfer`: a share of each unlabelled transfer source (student-teacher fidelity).
    `policy-templates`: the held-out templates (never in the mix to begin with).
    """
    rng = random.Random(f"{cfg.seed}:dev")
    dev: dict[str, list[Record]] = {}
    if cfg.dev_toxicchat_rows:
        toxicchat = [r for r in rows if r.source.startswith("toxicchat-train")]
        rng.shuffle(toxicchat)
        held = toxicchat[: cfg.dev_toxicchat_rows]
        dev["toxicchat"] = held
        held_ids = {id(r) for r in held}
        rows = [r for r in rows if id(r) not in held_ids]
    if cfg.dev_jailbreakbench_attack:
        attack = cfg.dev_jailbreakbench_attack
        pairs = [r for r in rows if r.source == "jailbreakbench" and r.variant == attack]
        dev[f"jailbreakbench-{attack}"] = pairs
        # its prompts are not trained on alone either
        prompts = {normalise_text(r.prompt) for r in pairs}
        pair_ids = {id(r) for r in pairs}
        rows = [r for r in rows
                if id(r) not in pair_ids and normalise_text(r.prompt) not in prompts]  # fmt: skip
    if cfg.dev_transfer_share:
        held = [r for r in rows if r.source.startswith(TRANSFER_PREFIX)
                and rng.random() < cfg.dev_transfer_share]  # fmt: skip
        dev["transfer"] = held
        held_ids = {id(r) for r in held}
        rows = [r for r in rows if id(r) not in held_ids]
    if cfg.policy_templates:
        dev["policy-templates"] = policy_rows("dev")
    return rows, dev


def _cap_per_source(records: list[Record], cap: int) -> list[Record]:
    seen: Counter[str] = Counter()
    kept = []
    for record in records:
        seen[record.source] += 1
        if seen[record.source] <= cap:
            kept.append(record)
    return kept


def deduplicate(records: Iterable[Record]) -> list[Record]:
    """Keep the first row per normalised (prompt, response); later duplicates are dropped."""
    seen: set[tuple[str, str]] = set()
    out = []
    for record in records:
        key = (normalise_text(record.prompt), normalise_text(record.response or ""))
        if key not in seen:
            seen.add(key)
            out.append(record)
    return out


def assert_no_eval_leakage(records: Iterable[Record], eval_keys: set[str], what: str) -> None:
    leaks = [r for r in records if normalise_text(r.prompt) in eval_keys]
    if leaks:
        examples = "; ".join(f"[{r.source}] {r.prompt[:80]!r}" for r in leaks[:5])
        raise LeakageError(
            f"{len(leaks)} {what} rows have an eval prompt (normalised exact match): {examples}"
        )


def stratified_split(
    records: list[Record], val_fraction: float, seed: int
) -> tuple[list[Record], list[Record]]:
    """Split by (source, label) strata so validation mirrors the mix; tiny strata stay in train."""
    strata: dict[tuple[str, int | None], list[Record]] = defaultdict(list)
    for record in records:
        strata[(record.source, record.label)].append(record)
    rng = random.Random(seed)
    train, val = [], []
    for key in sorted(strata, key=str):
        group = strata[key]
        rng.shuffle(group)
        n_val = round(len(group) * val_fraction) if len(group) >= 5 else 0
        val += group[:n_val]
        train += group[n_val:]
    rng.shuffle(train)
    return train, val


def describe(records: list[Record]) -> dict[str, dict[str, int]]:
    """Counts per source: rows, harmful, safe, with response."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: Counter())
    for r in records:
        out[r.source]["rows"] += 1
        out[r.source]["harmful" if r.label == 1 else "safe" if r.label == 0 else "unlabelled"] += 1
        out[r.source]["with_response"] += int(r.response is not None)
    return {k: dict(v) for k, v in sorted(out.items())}
