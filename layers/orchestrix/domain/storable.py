"""Is a parsed document (JSON, YAML) fit to validate and store?

PostgreSQL `text` and `jsonb` refuse NUL characters and unpaired surrogates; pydantic,
`json.dumps` and our own code recurse into nested values and would exhaust the stack on a
10,000-deep document; YAML aliases can make a small file expand to billions of values (or
refer to itself). This walk finds the first such problem with its own stack and a bounded
number of steps, so callers can answer 400/422 instead of a driver error or a crash.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 64
MAX_VALUES = 500_000  # a 1 MiB JSON body holds fewer; only alias expansion gets there

Loc = tuple[str | int, ...]


class Problem(str):
    """A human-readable reason; its subclass says which kind."""


class BadText(Problem):
    pass


class TooDeep(Problem):
    pass


class TooLarge(Problem):
    pass


def text_problem(value: str) -> BadText | None:
    if "\x00" in value:
        return BadText("NUL characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return BadText("not valid Unicode (unpaired surrogate)")
    return None


def first_problem(
    value: Any, loc: Loc = (), *, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES
) -> tuple[Loc, Problem] | None:
    """(where, why) of the first problem in document order, or None when all is well."""
    stack: list[tuple[Any, Loc]] = [(value, loc)]
    visited = 0
    while stack:
        item, where = stack.pop()
        visited += 1
        if visited > max_values:
            return loc, TooLarge(f"holds more than {max_values} values")
        if isinstance(item, str):
            problem = text_problem(item)
            if problem is not None:
                return where, problem
            continue
        if not isinstance(item, dict | list):
            continue
        if len(where) - len(loc) >= max_depth:
            return where, TooDeep(f"nested deeper than {max_depth} levels")
        children: list[tuple[Any, Loc]]
        if isinstance(item, dict):
            children = []
            for key, child in item.items():
                children.append((key, (*where, "<key>")))
                children.append((child, (*where, key)))
        else:
            children = [(child, (*where, i)) for i, child in enumerate(item)]
        stack.extend(reversed(children))
    return None
