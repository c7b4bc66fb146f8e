"""Just enough PromQL reading to know which series a Grafana query selects.

No PromQL parser is packaged for Python, and the dashboard's queries use a small part of the
language, so this strips what is not a series name (strings, label matchers, ranges, grouping
clauses, function calls, keywords) and returns what is left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{([^}]*)\}")
_MATCHER_LABEL = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_IDENT = re.compile(r"(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?")
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}
_KEYWORDS |= {"and", "or", "unless", "inf", "nan"}


@dataclass
class Query:
    metrics: set[str] = field(default_factory=set)
    # label names used in matchers, per metric, and in by/on/... clauses of the whole query
    matcher_labels: dict[str, set[str]] = field(default_factory=dict)
    grouping_labels: set[str] = field(default_factory=set)


def read_query(expr: str) -> Query:
    query = Query()
    text = _STRING.sub('""', expr)
    for match in re.finditer(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}", text):
        labels = set(_MATCHER_LABEL.findall(match.group(2)))
        query.matcher_labels.setdefault(match.group(1), set()).update(labels)
    for match in _GROUPING.finditer(text):
        query.grouping_labels |= {label.strip() for label in match.group(2).split(",")}
    query.grouping_labels.discard("")
    text = _GROUPING.sub(" ", _RANGE.sub(" ", _MATCHERS.sub(" ", text)))
    for match in _IDENT.finditer(text):
        name, call = match.group(1), match.group(2)
        if call is None and name not in _KEYWORDS:
            query.metrics.add(name)
    return query
