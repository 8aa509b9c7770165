"""Shares query work between the rules of one tick.

Rules are often the same expression with different thresholds (`x > 80` warning, `x > 95`
critical) or the very same expression in several groups. `SharedResults` evaluates each
distinct expression once per tick, and for `<vector expr> <cmp> <number>` it evaluates the
vector side once and applies the comparison itself — Prometheus' filter semantics: the
sample, labels and value unchanged, kept when the comparison holds.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from typing import Any

from orchestrix.promql import Engine, ast
from orchestrix.promql.values import Labels, Sample, Scalar, String

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}
Result = list[tuple[Labels, float]]


def _key(node: Any) -> Any:
    """A structural key: equal for equal expressions (positions ignored)."""
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        parts: list[Any] = [type(node).__name__]
        for f in dataclasses.fields(node):
            if f.name != "pos":
                parts.append(_key(getattr(node, f.name)))
        return tuple(parts)
    if isinstance(node, list | tuple):
        return tuple(_key(x) for x in node)
    if hasattr(node, "op") and hasattr(node, "value") and hasattr(node, "name"):
        return (node.name, str(node.op), node.value)  # a LabelMatcher
    return node


def _threshold_split(tree: ast.Node) -> tuple[ast.Node, str, float] | None:
    node = ast.unwrap(tree)
    if not isinstance(node, ast.Binary) or node.op not in _COMPARE or node.return_bool:
        return None
    rhs = ast.unwrap(node.rhs)
    if isinstance(rhs, ast.NumberLit) and node.lhs.vtype == "vector":
        return node.lhs, node.op, rhs.val
    return None


class SharedResults:
    def __init__(self, engine: Engine, at_ms: int) -> None:
        self._engine = engine
        self._at = at_ms
        self._cache: dict[Any, Result] = {}
        self.queries_run = 0

    def _run(self, tree: ast.Node, text: str) -> Result:
        key = _key(tree)
        found = self._cache.get(key)
        if found is None:
            self.queries_run += 1
            value = self._engine.instant_tree(tree, text, self._at).value
            if isinstance(value, Scalar):
                found = [((), value.v)]
            elif isinstance(value, String):
                raise ValueError("a string is not an alert condition")
            else:
                found = [(s.labels, s.v) for s in value if isinstance(s, Sample)]
            self._cache[key] = found
        return found

    def evaluate(self, tree: ast.Node, text: str) -> Result:
        split = _threshold_split(tree)
        if split is None:
            return self._run(tree, text)
        lhs, op, threshold = split
        compare = _COMPARE[op]
        return [(labels, v) for labels, v in self._run(lhs, text) if compare(v, threshold)]
