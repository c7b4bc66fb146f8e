"""Contrastive templates: shared patterns, each holding one "{x}", crossed with benign fillers
(label 0) and harmful fillers (label 1), so that the filler carries the label.

Both hand-written sources (`train.data.policy_templates`, requests, and
`train.data.category_statements`, statements) use this one template shape and this one
expansion, so that their rows are built, labelled and split the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from typing import Literal

from train.data.records import Record, normalise_text


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
