"""Contrastive templates: shared patterns, each holding one "{x}", crossed with benign fillers
(label 0) and harmful fillers (label 1), so that the filler carries the label.

The hand-written sources (`train.data.policy_templates`, requests,
`train.data.category_statements`, statements, and `train.data.phenomenon_templates`, requests
for the phenomena the policy templates cover thinly) use this one template shape and this one
expansion, so that their rows are built, labelled and split the same way. The sources written
to disk (`data/<source>/`) share the decontamination against the eval sets, the counts and the
files below.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from contract import LLAMA_GUARD_CATEGORIES
from train.data.records import Record, normalise_text, write_records


@dataclass(frozen=True)
class ContrastiveTemplate:
    id: str  # unique within its source: "<category>-<phenomenon>-<n>"
    category: str  # Llama Guard 3 code, "S1".."S14"
    phenomenon: str  # one of the source's PHENOMENA
    patterns: tuple[str, ...]  # each contains "{x}" exactly once
    benign: tuple[str, ...]  # fillers that make the text safe
    harmful: tuple[str, ...]  # fillers that make the text harmful


def template(
    category: str,
    phenomenon: str,
    n: int,
    patterns: tuple[str, ...],
    benign: tuple[str, ...],
    harmful: tuple[str, ...],
) -> ContrastiveTemplate:
    return ContrastiveTemplate(
        id=f"{category}-{phenomenon}-{n}",
        category=category,
        phenomenon=phenomenon,
        patterns=patterns,
        benign=benign,
        harmful=harmful,
    )


def template_rows(template: ContrastiveTemplate, source: str) -> list[Record]:
    """Every pattern x every filler, pattern by pattern, benign fillers before harmful ones."""
    variant = f"{template.id}:{template.phenomenon}"
    rows = []
    for pattern in template.patterns:
        for label, fillers in ((0, template.benign), (1, template.harmful)):
            for filler in fillers:
                prompt = pattern.replace("{x}", filler)
                rows.append(Record(prompt, None, label, source, template.category, None, variant))
    return rows


def rows_for_split(
    templates: Iterable[ContrastiveTemplate],
    dev_template_ids: Set[str],
    split: Literal["train", "dev"],
    source: str,
    skip: Set[str] = frozenset(),
) -> list[Record]:
    """The rows of the split's templates (dev: those in `dev_template_ids`), deduplicated.

    Rows come in template order; a prompt seen before, or whose key is in `skip` (keys compared
    by `normalise_text`), is dropped.
    """
    if split not in ("train", "dev"):
        raise ValueError(f"split must be 'train' or 'dev', not {split!r}")
    want_dev = split == "dev"
    seen = set(skip)
    out: list[Record] = []
    for t in templates:
        if (t.id in dev_template_ids) != want_dev:
            continue
        for row in template_rows(t, source):
            key = normalise_text(row.prompt)
            if key not in seen:
                seen.add(key)
                out.append(row)
    return out


# --- the written sources: both splits less eval near-copies, counts and tables ---------------


@dataclass
class TemplateSet:
    """A source's rows as written to disk: both splits, less eval near-copies."""

    train: list[Record]
    dev: list[Record]
    # decontamination drops: "split check" -> "source -> eval set" -> rows
    dropped: dict[str, dict[str, int]]

    @property
    def dropped_total(self) -> int:
        return sum(n for by in self.dropped.values() for n in by.values())


def decontaminated_splits(
    rows: Callable[[Literal["train", "dev"]], list[Record]], data_dir: Path
) -> TemplateSet:
    """Both splits of `rows`, less rows whose prompt is an eval prompt or near-duplicates an
    eval text.

    The eval sets are read here only through the project's decontamination functions, to drop
    rows; no template was written from them.
    """
    from train.data.decontaminate import (
        EvalIndex,
        decontaminate,
        eval_prompt_keys,
        eval_texts,
        near_duplicates,
    )
    from train.data.loaders import load_evals

    eval_keys = eval_prompt_keys(data_dir)
    index = EvalIndex.build(eval_texts(load_evals(data_dir)))
    out = TemplateSet(train=[], dev=[], dropped={})
    splits: tuple[Literal["train", "dev"], ...] = ("train", "dev")
    for split in splits:
        kept, exact = decontaminate(rows(split), eval_keys)
        kept, near = near_duplicates(kept, index)
        setattr(out, split, kept)
        out.dropped[f"{split} exact_eval_prompt"] = dict(exact)
        out.dropped[f"{split} near_duplicate"] = dict(near)
    return out


def markdown_table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def phenomenon_of(record: Record) -> str:
    """The phenomenon of a template row (its `variant` is "<template id>:<phenomenon>")."""
    return str(record.variant).split(":", 1)[1]


def code_order(code: str | None) -> int:
    """A Llama Guard 3 code's place in S1..S14."""
    return list(LLAMA_GUARD_CATEGORIES).index(str(code))


def pair_order(pair: tuple[str | None, str], phenomena: Sequence[str]) -> tuple[int, int]:
    """A (code, phenomenon) pair's place: by code, then by the source's phenomenon order."""
    return (code_order(pair[0]), list(phenomena).index(pair[1]))


def split_stats(
    built: TemplateSet,
    source: str,
    templates: Sequence[ContrastiveTemplate],
    dev_template_ids: Set[str],
    phenomena: Sequence[str],
) -> dict[str, object]:
    """Counts per split x category x label and per split x category x phenomenon x label."""
    out: dict[str, object] = {
        "source": source,
        "templates": len(templates),
        "dev_templates": sorted(dev_template_ids),
        "dropped": built.dropped,
        "dropped_total": built.dropped_total,
    }
    for split, rows in (("train", built.train), ("dev", built.dev)):
        by_cat = Counter((r.category, r.label) for r in rows)
        by_phen = Counter((r.category, phenomenon_of(r), r.label) for r in rows)
        out[split] = {
            "rows": len(rows),
            "label_0": sum(r.label == 0 for r in rows),
            "label_1": sum(r.label == 1 for r in rows),
            "by_category": {
                str(c): {"label_0": by_cat[(c, 0)], "label_1": by_cat[(c, 1)]}
                for c in sorted({c for c, _ in by_cat}, key=code_order)
            },
            "by_category_phenomenon": {
                f"{c} {p}": {"label_0": by_phen[(c, p, 0)], "label_1": by_phen[(c, p, 1)]}
                for c, p in sorted(
                    {(c, p) for c, p, _ in by_phen}, key=lambda cp: pair_order(cp, phenomena)
                )
            },
        }
    return out


DECONTAMINATION = """## Decontamination against the eval sets
Rows whose prompt is an eval prompt (normalised exact match) or a near-duplicate of an eval text
(`train/data/decontaminate.py`: a shared word 8-gram with an eval prompt or response, or word
Jaccard >= 0.7 on short texts) are dropped: {rows} rows in all.
{table}
"""


@dataclass(frozen=True)
class DatasheetTables:
    """The markdown count tables a written source's datasheet shows."""

    totals: str  # split x label
    by_category: str  # category x label x split
    by_category_phenomenon: str  # category x phenomenon x label x split
    decontamination: str  # the datasheet's closing section: the filter and its drops


def datasheet_tables(
    built: TemplateSet, templates: Sequence[ContrastiveTemplate], phenomena: Sequence[str]
) -> DatasheetTables:
    train, dev = built.train, built.dev
    count_header = ("train safe", "train harmful", "dev safe", "dev harmful")
    codes = sorted({str(t.category) for t in templates}, key=code_order)
    cat_rows: list[tuple[object, ...]] = []
    for code in codes:
        n_templates = sum(t.category == code for t in templates)
        counts = [
            sum(r.category == code and r.label == label for r in rows)
            for rows in (train, dev)
            for label in (0, 1)
        ]
        cat_rows.append((code, LLAMA_GUARD_CATEGORIES[code], n_templates, *counts))
    pairs = sorted(
        {(str(t.category), t.phenomenon) for t in templates},
        key=lambda pair: pair_order(pair, phenomena),
    )
    phen_rows: list[tuple[object, ...]] = []
    for code, phen in pairs:
        counts = [
            sum(r.category == code and phenomenon_of(r) == phen and r.label == label for r in rows)
            for rows in (train, dev)
            for label in (0, 1)
        ]
        n_templates = sum(t.category == code and t.phenomenon == phen for t in templates)
        phen_rows.append((code, phen, n_templates, *counts))
    totals: list[tuple[object, ...]] = [
        (name, len(rows), sum(r.label == 0 for r in rows), sum(r.label == 1 for r in rows))
        for name, rows in (("train", train), ("dev", dev))
    ]
    drops: list[tuple[object, ...]] = [
        (what, hit, n) for what, by in built.dropped.items() for hit, n in by.items()
    ]
    drop_table = (
        markdown_table(("split / check", "source -> eval set", "rows"), drops) if drops else ""
    )
    return DatasheetTables(
        totals=markdown_table(("split", "rows", "safe (0)", "harmful (1)"), totals),
        by_category=markdown_table(("category", "name", "templates", *count_header), cat_rows),
        by_category_phenomenon=markdown_table(
            ("category", "phenomenon", "templates", *count_header), phen_rows
        ),
        decontamination=DECONTAMINATION.format(rows=built.dropped_total, table=drop_table),
    )


def write_template_set(out: Path, built: TemplateSet, stats: dict[str, object], sheet: str) -> None:
    """`out`/train.jsonl.gz, dev.jsonl.gz, stats.json and DATASHEET.md."""
    out.mkdir(parents=True, exist_ok=True)
    write_records(out / "train.jsonl.gz", built.train)
    write_records(out / "dev.jsonl.gz", built.dev)
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    (out / "DATASHEET.md").write_text(sheet)
