"""What a `condition` step means. The compiler turns most conditions into a Step Functions
Choice state with exactly these semantics; the rest (`contains`, a templated or structured
value) run through `evaluate` in a step Lambda. Rules shared by both:

- a comparison only holds between values of the same kind: numbers with numbers (booleans
  are not numbers), strings with strings, booleans with booleans; `"200"` never equals 200;
- `gt/gte/lt/lte` order numbers numerically and strings lexicographically;
- a path with no value makes every comparison false, except `ne` (true) and `exists`;
- `contains`: substring for strings, membership for lists;
- `all` holds when every child holds, `any` when one does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrix.domain.workflow.model import AllOf, AnyOf, Comparison
from orchestrix.domain.workflow.templates import is_missing, lookup, parse, parse_path, render_value

Predicate = Comparison | AllOf | AnyOf


def evaluate(predicate: Predicate, context: Mapping[str, Any]) -> bool:
    if isinstance(predicate, AllOf):
        return all(evaluate(child, context) for child in predicate.all)
    if isinstance(predicate, AnyOf):
        return any(evaluate(child, context) for child in predicate.any)
    found = lookup(context, parse_path(predicate.path))
    expected = render_value(predicate.value, context)
    op = predicate.op
    if op == "exists":
        wanted = True if predicate.value is None else bool(predicate.value)
        return (not is_missing(found)) == wanted
    if is_missing(found):
        return op == "ne"
    if op == "eq":
        return _equal(found, expected)
    if op == "ne":
        return not _equal(found, expected)
    if op == "contains":
        if isinstance(found, str):
            return isinstance(expected, str) and expected in found
        if isinstance(found, list):
            return any(_equal(item, expected) for item in found)
        return False
    return _ordered(op, found, expected)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "object"


def _equal(left: Any, right: Any) -> bool:
    return _kind(left) == _kind(right) and bool(left == right)


def _ordered(op: str, left: Any, right: Any) -> bool:
    if _kind(left) != _kind(right) or _kind(left) not in ("number", "string"):
        return False
    if op == "gt":
        return bool(left > right)
    if op == "gte":
        return bool(left >= right)
    if op == "lt":
        return bool(left < right)
    return bool(left <= right)


def needs_lambda(predicate: Predicate) -> bool:
    """True when a Choice state cannot express `predicate` with the semantics above."""
    if isinstance(predicate, AllOf):
        return any(needs_lambda(child) for child in predicate.all)
    if isinstance(predicate, AnyOf):
        return any(needs_lambda(child) for child in predicate.any)
    # An index in the path ([0]) also goes to the Lambda: moto's engine answers such a
    # JSONPath with a one-element list where AWS answers the element, and runs must agree.
    if predicate.op == "contains" or "[" in predicate.path:
        return True
    value = predicate.value
    if isinstance(value, list | dict):
        return True
    return isinstance(value, str) and bool(parse(value).expressions)
