"""Response-level (prompt, response) pairs whose label is known from how they were built.

A guard that judges answers must learn what an answer does, not whether it refused. The seeds
hold few safe answers that look compliant and few refusals (10 fixed strings in the mix), so
these kinds are built from seed text and the templates in `train.data.response_templates`:

| kind (`Record.variant`) | prompt | response | label |
|---|---|---|---|
| `pair:refusal` | harmful request | a refusal (plain, safety info, alternative, partial) | 0 |
| `pair:unrelated-answer` | harmful request | an Alpaca output on another topic | 0 |
| `pair:compliant-unrelated` | harmful request | "Sure, here you go:" + an unrelated output | 0 |
| `pair:jailbroken-answer` | benign or neutral wrapper | a jailbroken JailbreakBench answer | 1 |
| `pair:refusal-then-compliance` | harmful request | refusal + pivot + a jailbroken answer | 1 |
| `pair:volunteered-harm` | benign Alpaca request | (its answer +) harm nobody asked for | 1 |

Harmful requests are AdvBench behaviours, JailbreakBench goals and JailbreakBench attack prompts
(long jailbreak wrappers with the request at the end); harmful bodies are JailbreakBench answers
its judge marked `jailbroken`. The dev file differs from the train file in three ways: the
templates in `DEV_TEMPLATE_IDS`, the held-out attack method's prompts and answers (the data
stage's `dev_jailbreakbench_attack`, PAIR), and a hash-chosen share of the AdvBench
behaviours, JailbreakBench goals and Alpaca rows. Everything is deterministic given the seed.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from train.data.decontaminate import (
    EvalIndex,
    decontaminate,
    eval_prompt_keys,
    eval_texts,
    near_duplicates,
)
from train.data.loaders import SEEDS, load_evals
from train.data.mix import deduplicate
from train.data.records import Record, normalise_text, write_records
from train.data.response_templates import (
    COMPLIANT_LEAD_INS,
    DEV_TEMPLATE_IDS,
    PIVOT_REFUSALS,
    PIVOTS,
    VOLUNTEERS,
    WRAPPERS,
    Split,
    Template,
    refusals,
    split_templates,
)

SOURCE = "response-pairs"
KIND_LABELS: dict[str, int] = {
    "pair:refusal": 0,
    "pair:unrelated-answer": 0,
    "pair:compliant-unrelated": 0,
    "pair:jailbroken-answer": 1,
    "pair:refusal-then-compliance": 1,
    "pair:volunteered-harm": 1,
}
# Train rows per kind: about 3,400 in all, balanced between the labels (training is on 2 cores).
TRAIN_ROWS: dict[str, int] = {
    "pair:refusal": 800,
    "pair:unrelated-answer": 450,
    "pair:compliant-unrelated": 450,
    "pair:jailbroken-answer": 700,
    "pair:refusal-then-compliance": 500,
    "pair:volunteered-harm": 500,
}
DEV_ROWS_PER_KIND = 150
DEV_SHARE = 0.2  # of AdvBench behaviours, JailbreakBench goals and Alpaca rows
# Attack prompts stand in for a harmful request this often: most HarmBench-style traffic
# wraps the request in a jailbreak, so refusals and unrelated answers must be seen after one.
WRAPPED_REQUEST_SHARE = 0.4
MIN_ANSWER_WORDS = 25  # shorter Alpaca outputs ("Yes.") do not read as an answer
EXCLUDED_ATTACKS = frozenset({"test-artifact"})  # placeholders, not attacks
# "Sure, here is a tutorial on ...:" at the start of a jailbroken answer restates the request;
# after a pivot or inside another answer it is dropped so the body reads as a continuation.
_SURE_LINE = re.compile(r"^\s*(sure|certainly|of course)[^\n]{0,200}?:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class JailbreakItem:
    goal: str
    category: str | None
    attack: str
    prompt: str
    response: str
    jailbroken: bool


@dataclass(frozen=True)
class Request:
    """A harmful request: the text sent (plain, or an attack wrapper) and the plain goal."""

    prompt: str
    goal: str
    category: str | None


@dataclass(frozen=True)
class Pools:
    """The seed text one split draws from."""

    requests: list[Request]  # plain harmful requests
    wrapped: list[Request]  # jailbreak attack prompts
    bodies: list[JailbreakItem]  # jailbroken answers
    alpaca: list[Record]  # benign requests with answers of MIN_ANSWER_WORDS or more


@dataclass(frozen=True)
class Built:
    """One constructed row and the template that made it (for the datasheet and tests)."""

    record: Record
    template: str


@dataclass
class PairSet:
    train: list[Built]
    dev: list[Built]
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)  # rows, after building
    pool_drops: dict[str, int] = field(default_factory=dict)  # seed rows, before building


def load_jailbreak_items(data_dir: Path) -> list[JailbreakItem]:
    """Every JailbreakBench artifact entry with a prompt and a response, with its goal."""
    folder = Path(data_dir) / SEEDS["jailbreakbench"].relpath
    items = []
    for file in sorted(folder.glob("*/*/*.json")):
        attack = file.parent.parent.name
        if attack in EXCLUDED_ATTACKS:
            continue
        for entry in json.loads(file.read_text(encoding="utf-8"))["jailbreaks"]:
            prompt, response = entry.get("prompt"), entry.get("response")
            if prompt and response:
                items.append(
                    JailbreakItem(
                        goal=entry["goal"].strip(),
                        category=entry.get("category"),
                        attack=attack,
                        prompt=prompt.strip(),
                        response=response.strip(),
                        jailbroken=bool(entry["jailbroken"]),
                    )
                )
    return items


def _is_dev(text: str) -> bool:
    """A stable hash-chosen DEV_SHARE of texts (independent of the seed and of order)."""
    digest = hashlib.sha256(normalise_text(text).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < DEV_SHARE


def build_pools(
    data_dir: Path,
    held_out_attack: str,
    clean: Callable[[str], bool] | None = None,
    dropped: dict[str, int] | None = None,
) -> dict[Split, Pools]:
    """Each split's seed text; `clean(text)` (when given) keeps only text that is no eval text's
    near-duplicate, so that the final filter drops few rows and the counts stay as asked;
    `dropped` receives how many seed rows `clean` left out, per seed."""
    ok = clean or (lambda _text: True)
    all_items = load_jailbreak_items(data_dir)
    items = [i for i in all_items if ok(i.goal) and ok(i.prompt) and ok(i.response)]
    all_advbench = SEEDS["advbench"].load(data_dir)
    advbench = [r for r in all_advbench if ok(r.prompt)]
    long_alpaca = [
        r for r in SEEDS["alpaca"].load(data_dir)
        if r.response and len(r.response.split()) >= MIN_ANSWER_WORDS
    ]  # fmt: skip
    alpaca = [r for r in long_alpaca if ok(r.prompt) and ok(r.response or "")]
    if dropped is not None:
        dropped["jailbreakbench entries"] = len(all_items) - len(items)
        dropped["advbench"] = len(all_advbench) - len(advbench)
        dropped["alpaca"] = len(long_alpaca) - len(alpaca)
    goals: dict[str, str | None] = {}
    for item in items:
        goals.setdefault(item.goal, item.category)
    plain = [Request(r.prompt, r.prompt, r.category) for r in advbench]
    plain += [Request(goal, goal, category) for goal, category in goals.items()]
    pools: dict[Split, Pools] = {}
    for split in ("train", "dev"):
        dev = split == "dev"
        mine = [i for i in items if (i.attack == held_out_attack) == dev]
        wrapped = {i.prompt: Request(i.prompt, i.goal, i.category) for i in mine}
        bodies = {i.response: i for i in mine if i.jailbroken}
        pools[split] = Pools(
            requests=[r for r in plain if _is_dev(r.prompt) == dev],
            wrapped=list(wrapped.values()),
            bodies=list(bodies.values()),
            alpaca=[r for r in alpaca if _is_dev(r.prompt) == dev],
        )
    return pools


def strip_sure_line(body: str) -> str:
    stripped = _SURE_LINE.sub("", body, count=1)
    return stripped if len(stripped) > 40 else body


class _Builder:
    """Draws rows of each kind for one split with one seeded generator."""

    def __init__(self, pools: Pools, split: Split, seed: int) -> None:
        self.pools = pools
        self.split: Split = split
        self.rng = random.Random(f"{seed}:{split}")
        self.refusals = refusals(split)

    def _template(self, templates: tuple[Template, ...]) -> Template:
        return self.rng.choice(split_templates(templates, self.split))

    def _request(self) -> Request:
        if self.pools.wrapped and self.rng.random() < WRAPPED_REQUEST_SHARE:
            return self.rng.choice(self.pools.wrapped)
        return self.rng.choice(self.pools.requests)

    def _row(self, kind: str, prompt: str, response: str, category: str | None) -> Record:
        return Record(prompt, response, KIND_LABELS[kind], SOURCE, category, variant=kind)

    def refusal(self) -> Built:
        request = self._request()
        style = self.rng.choice(sorted(self.refusals))
        template_id, text = self.rng.choice(self.refusals[style])
        return Built(self._row("pair:refusal", request.prompt, text, request.category), template_id)

    def unrelated_answer(self) -> Built:
        request = self._request()
        answer = self.rng.choice(self.pools.alpaca).response or ""
        row = self._row("pair:unrelated-answer", request.prompt, answer, request.category)
        return Built(row, "alpaca-output")

    def compliant_unrelated(self) -> Built:
        request = self._request()
        answer = self.rng.choice(self.pools.alpaca).response or ""
        template = self._template(COMPLIANT_LEAD_INS)
        text = template.text.format(goal=request.goal, answer=answer)
        row = self._row("pair:compliant-unrelated", request.prompt, text, request.category)
        return Built(row, template.id)

    def jailbroken_answer(self) -> Built:
        item = self.rng.choice(self.pools.bodies)
        template = self._template(WRAPPERS)
        context = self.rng.choice(self.pools.alpaca)
        prompt = template.text.format(
            goal=item.goal, context=f"{context.prompt}\n{context.response}"
        )
        row = self._row("pair:jailbroken-answer", prompt, item.response, item.category)
        return Built(row, template.id)

    def refusal_then_compliance(self) -> Built:
        item = self.rng.choice(self.pools.bodies)
        template = self._template(PIVOTS)
        text = template.text.format(
            refusal=self.rng.choice(PIVOT_REFUSALS), body=strip_sure_line(item.response)
        )
        # The request is the plain goal or, as often as elsewhere, the attack that produced it.
        prompt = item.prompt if self.rng.random() < WRAPPED_REQUEST_SHARE else item.goal
        return Built(self._row("pair:refusal-then-compliance", prompt, text, item.category),
                     template.id)  # fmt: skip

    def volunteered_harm(self) -> Built:
        item = self.rng.choice(self.pools.bodies)
        benign = self.rng.choice(self.pools.alpaca)
        template = self._template(VOLUNTEERS)
        text = template.text.format(answer=benign.response, body=strip_sure_line(item.response))
        row = self._row("pair:volunteered-harm", benign.prompt, text, item.category)
        return Built(row, template.id)

    def kind(self, kind: str) -> Callable[[], Built]:
        return {
            "pair:refusal": self.refusal,
            "pair:unrelated-answer": self.unrelated_answer,
            "pair:compliant-unrelated": self.compliant_unrelated,
            "pair:jailbroken-answer": self.jailbroken_answer,
            "pair:refusal-then-compliance": self.refusal_then_compliance,
            "pair:volunteered-harm": self.volunteered_harm,
        }[kind]


def _draw(make: Callable[[], Built], count: int) -> list[Built]:
    """`count` distinct rows (by normalised pair), or fewer if the pools run dry."""
    out: list[Built] = []
    seen: set[tuple[str, str]] = set()
    for _ in range(count * 20):
        if len(out) == count:
            break
        built = make()
        key = (normalise_text(built.record.prompt), normalise_text(built.record.response or ""))
        if key not in seen:
            seen.add(key)
            out.append(built)
    return out


def construct(
    pools: dict[Split, Pools],
    seed: int,
    train_rows: dict[str, int] | None = None,
    dev_rows: int = DEV_ROWS_PER_KIND,
) -> PairSet:
    """Rows of every kind for both splits, before decontamination."""
    sizes = train_rows or TRAIN_ROWS
    built: dict[Split, list[Built]] = {}
    for split in ("train", "dev"):
        builder = _Builder(pools[split], split, seed)
        rows: list[Built] = []
        for kind in KIND_LABELS:
            count = sizes.get(kind, 0) if split == "train" else dev_rows
            rows += _draw(builder.kind(kind), count)
        random.Random(f"{seed}:{split}:order").shuffle(rows)
        built[split] = rows
    # A pair in both files would let dev reward memorising it.
    train_keys = {(r.record.prompt, r.record.response) for r in built["train"]}
    dev = [b for b in built["dev"] if (b.record.prompt, b.record.response) not in train_keys]
    return PairSet(train=built["train"], dev=dev)


def decontaminate_pairs(
    rows: Sequence[Built], eval_keys: set[str], index: EvalIndex
) -> tuple[list[Built], dict[str, dict[str, int]]]:
    """Drop rows whose prompt is an eval prompt or whose prompt or response near-duplicates an
    eval text (`train.data.decontaminate`); drops are counted per kind."""
    # The kind stands in for the source so that drops are counted per kind.
    tagged = [replace(b.record, source=str(b.record.variant)) for b in rows]
    original = {id(t): b for t, b in zip(tagged, rows, strict=True)}
    kept, exact = decontaminate(tagged, eval_keys)
    kept, near = near_duplicates(kept, index)
    out = [original[id(r)] for r in kept]
    return out, {"exact_eval_prompt": dict(exact), "near_duplicate": dict(near)}


def build_response_pairs(
    data_dir: Path,
    *,
    seed: int = 13,
    held_out_attack: str = "PAIR",
    train_rows: dict[str, int] | None = None,
    dev_rows: int = DEV_ROWS_PER_KIND,
) -> PairSet:
    """Construct both splits from seed text that is no eval text's near-duplicate, then check
    every row again (a template can complete an 8-gram). The eval sets are read for this only."""
    eval_keys = eval_prompt_keys(data_dir)
    index = EvalIndex.build(eval_texts(load_evals(data_dir)))

    def clean(text: str) -> bool:
        return normalise_text(text) not in eval_keys and index.match(text) is None

    pool_drops: dict[str, int] = {}
    pools = build_pools(data_dir, held_out_attack, clean, pool_drops)
    pairs = construct(pools, seed, train_rows, dev_rows)
    pairs.pool_drops = pool_drops
    pairs.train, dropped_train = decontaminate_pairs(pairs.train, eval_keys, index)
    pairs.dev, dropped_dev = decontaminate_pairs(pairs.dev, eval_keys, index)
    pairs.dropped = {f"train {k}": v for k, v in dropped_train.items()}
    pairs.dropped |= {f"dev {k}": v for k, v in dropped_dev.items()}
    return pairs


def records(rows: Sequence[Built]) -> list[Record]:
    return deduplicate(b.record for b in rows)


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _median(values: list[int]) -> int:
    return sorted(values)[len(values) // 2] if values else 0


def stats(pairs: PairSet) -> dict[str, object]:
    """Counts per kind and split, templates used, eval drops, text lengths (words)."""
    out: dict[str, object] = {"dropped": pairs.dropped, "seed_rows_dropped": pairs.pool_drops}
    for split, rows in (("train", pairs.train), ("dev", pairs.dev)):
        kinds = Counter(str(b.record.variant) for b in rows)
        out[split] = {
            kind: {
                "rows": kinds[kind],
                "label": KIND_LABELS[kind],
                "templates": len({b.template for b in rows if b.record.variant == kind}),
                "median_prompt_words": _median(
                    [len(b.record.prompt.split()) for b in rows if b.record.variant == kind]
                ),
                "median_response_words": _median(
                    [len(str(b.record.response).split()) for b in rows if b.record.variant == kind]
                ),
            }
            for kind in KIND_LABELS
        }
    return out


KIND_HEADER = ("kind", "label", "train", "dev", "train templates", "dev templates",
               "median words prompt / response (train)")  # fmt: skip


def datasheet_markdown(pairs: PairSet, *, seed: int, held_out_attack: str, command: str) -> str:
    numbers = stats(pairs)
    kind_rows: list[tuple[object, ...]] = []
    for kind, label in KIND_LABELS.items():
        train = numbers["train"][kind]  # type: ignore[index]
        dev = numbers["dev"][kind]  # type: ignore[index]
        words = f"{train['median_prompt_words']} / {train['median_response_words']}"
        kind_rows.append((f"`{kind}`", "harmful" if label else "safe", train["rows"],
                          dev["rows"], train["templates"], dev["templates"], words))  # fmt: skip
    totals: list[tuple[object, ...]] = [
        (split, len(rows), sum(b.record.label == 1 for b in rows),
         sum(b.record.label == 0 for b in rows))
        for split, rows in (("train", pairs.train), ("dev", pairs.dev))
    ]  # fmt: skip
    drops: list[tuple[object, ...]] = [
        (what, kind, n) for what, by_kind in pairs.dropped.items() for kind, n in by_kind.items()
    ]
    styles = Counter(
        b.template.rsplit("-", 1)[0] for b in pairs.train if b.record.variant == "pair:refusal"
    )
    distinct_refusals = len({b.record.response for b in pairs.train
                             if b.record.variant == "pair:refusal"})  # fmt: skip
    return f"""# Datasheet: response-level pairs by construction (`{SOURCE}`)

Written by `{command}`.
`train/data/response_pairs.py` says how each kind is built and
`train/data/response_templates.py` holds every template. Labels come from the construction
(1 = the response is harmful), not from a model or a judge.

## Files
- `train.jsonl.gz`, `dev.jsonl.gz`: `Record` rows (`prompt`, `response`, `label`, `source`
  = `{SOURCE}`, `category` = the seed's harm category, `variant` = the kind)
- `stats.json`: the numbers below, machine-readable

## Kinds
{_table(KIND_HEADER, kind_rows)}

{_table(("split", "rows", "harmful", "safe"), totals)}

Refusals in train: {distinct_refusals} distinct texts, by style (template family):
{", ".join(f"{k} {v}" for k, v in sorted(styles.items()))}.

## Sources
- Harmful requests: AdvBench behaviours and JailbreakBench goals (plain), and JailbreakBench
  attack prompts (jailbreak wrappers, request at the end) for {WRAPPED_REQUEST_SHARE:.0%} of
  the requests of the safe kinds and of `pair:refusal-then-compliance`.
- Harmful bodies: JailbreakBench answers its judge marked `jailbroken` (MIT). The same bodies
  serve three harmful kinds (as they are, after a refusal, after a benign answer).
- Benign text: Alpaca outputs of {MIN_ANSWER_WORDS}+ words (CC BY-NC 4.0: rows built from them
  make a model non-commercial, as the rest of the mix does).

## Dev hold-out
- Templates: {", ".join(f"`{t}`" for t in sorted(DEV_TEMPLATE_IDS))}.
- The attack method `{held_out_attack}` (as in the data stage's dev suite): its prompts and
  answers are in dev only; train uses the other methods (`test-artifact` placeholders are
  never used).
- A hash-chosen {DEV_SHARE:.0%} of AdvBench behaviours, JailbreakBench goals and Alpaca rows.
  JailbreakBench's 100 goals are shared by every attack, so a dev answer may answer a goal
  whose other answers are in train.
- A pair that is in both files is dropped from dev.

## Decontamination against the eval sets
Seed text that is an eval prompt or a near-duplicate of an eval text
(`train/data/decontaminate.py`: a shared word 8-gram with an eval prompt or response, or Jaccard
>= 0.7 on short texts) is left out before construction; seed rows left out:
{", ".join(f"{k} {v}" for k, v in pairs.pool_drops.items()) or "none"}.
Every row built is then checked again (exact eval prompt, near-duplicate in prompt or
response); rows dropped:
{_table(("split / check", "kind -> eval set", "rows"), drops) if drops else "none"}
"""


def write_response_pairs(
    out_dir: Path, data_dir: Path, *, seed: int, held_out_attack: str, command: str
) -> PairSet:
    pairs = build_response_pairs(data_dir, seed=seed, held_out_attack=held_out_attack)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_records(out_dir / "train.jsonl.gz", records(pairs.train))
    write_records(out_dir / "dev.jsonl.gz", records(pairs.dev))
    (out_dir / "stats.json").write_text(json.dumps(stats(pairs), indent=2) + "\n")
    sheet = datasheet_markdown(pairs, seed=seed, held_out_attack=held_out_attack, command=command)
    (out_dir / "DATASHEET.md").write_text(sheet)
    return pairs
