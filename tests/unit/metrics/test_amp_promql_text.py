"""PromQL printed back from the parsed tree for the managed Prometheus store: the same
query, and with confinement every selector carrying the tenant matcher."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from orchestrix.adapters.amp.promql_text import confine, render
from orchestrix.promql import BadQuery, LabelMatcher, MatchOp, ast
from orchestrix.promql.parse import parse

TENANT = LabelMatcher.of("orchestrix_tenant", MatchOp.EQUAL, 'a"b\\c')
TESTDATA = Path(__file__).parents[3].parent / "shared" / "promql" / "testdata"
_EVAL = re.compile(
    r"^eval(?:_fail|_warn|_info|_ordered)?\s+(?:instant\s+at\s+\S+|"
    r"range\s+from\s+\S+\s+to\s+\S+\s+step\s+\S+)\s+(.*)$"
)
TRICKY = [
    'sum by (a) (rate(x{b=~"c.*", d!="e"}[5m] offset -1m @ start())) / on() group_right 2 ^ -1',
    "max_over_time(rate(x[1m])[10m:30s] @ 1.5 offset 1h)",
    'count_values("a\\xc5z", version)',
    'label_replace(up, "\\xff", "", "src", "(.*)")',
    'label_join(up, "x", "\\"", "a", "b")',
    "a > bool on(x, y) group_left(z) b",
    "a and ignoring(i) b or c unless d",
    "-(x) + -1 - (-Inf) * NaN",
    "quantile without (le) (0.9, x)",
    'topk(3, {__name__=~"a|b", job="x\\ny"})',
    "x @ end() - x offset 5m",
    "min_over_time(x[1m:])",
    "time() - timestamp(x @ -12.25)",
    "(((x)))",
    '"a string"',
    "1e-07 + 1e+22 + 0.5",
]


def _queries() -> list[str]:
    found = list(TRICKY)
    for path in sorted(TESTDATA.glob("*.test")) if TESTDATA.is_dir() else []:
        for line in path.read_text().splitlines():
            match = _EVAL.match(line.strip())
            if match:
                found.append(match.group(1))
    return found


def _shape(node: Any) -> Any:
    """The tree without positions and parentheses: what the query means."""
    while isinstance(node, ast.Paren):
        node = node.expr
    if isinstance(node, ast.VectorSel):
        matchers = frozenset((m.name, m.op.value, m.value) for m in node.matchers)
        return ("vs", matchers, node.offset, node.at, node.at_kind)
    if isinstance(node, ast.NumberLit):
        return ("num", repr(node.val))
    out: list[Any] = [type(node).__name__]
    for name in sorted(node.__slots__):
        if name == "pos":
            continue
        value = getattr(node, name)
        if isinstance(value, list):
            out.append((name, tuple(_shape(v) for v in value)))
        elif hasattr(value, "__slots__") and not isinstance(value, LabelMatcher):
            out.append((name, _shape(value)))
        else:
            out.append((name, value))
    return tuple(out)


def _parsed(query: str) -> ast.Node | None:
    try:
        return parse(query)
    except BadQuery:
        return None  # the spec's eval_fail cases and syntax we refuse anyway


def test_every_query_prints_back_to_the_same_tree() -> None:
    # Given every query of the tricky list and of Prometheus' own test scripts
    checked = 0
    for query in _queries():
        tree = _parsed(query)
        if tree is None:
            continue
        # When it is printed and parsed again, Then it means exactly the same
        assert _shape(parse(render(tree))) == _shape(tree), query
        checked += 1
    assert checked >= len(TRICKY)


def test_confinement_puts_the_tenant_matcher_in_every_selector_and_changes_nothing_else() -> None:
    for query in _queries():
        tree = _parsed(query)
        if tree is None:
            continue
        confined = parse(confine(tree, TENANT))
        selectors = [n for n in ast.walk(confined) if isinstance(n, ast.VectorSel)]
        assert all(TENANT in s.matchers for s in selectors), query
        originals = [n for n in ast.walk(tree) if isinstance(n, ast.VectorSel)]
        assert len(selectors) == len(originals), query


@pytest.mark.parametrize(
    ("query", "naming"),
    [('{a="1" or b="2"}', '"or" inside a selector'), ("a + fill(0) b", "fill modifiers")],
)
def test_what_cannot_be_confined_faithfully_is_a_bad_query(query: str, naming: str) -> None:
    tree = _parsed(query)
    if tree is None:
        pytest.skip(f"the parser refuses {query!r} already")
    with pytest.raises(BadQuery, match=naming) as refused:
        confine(tree, TENANT)
    assert refused.value.message.startswith('invalid parameter "query"')


def test_a_function_that_selects_series_itself_is_refused() -> None:
    # info() reads target_info series no selector names: it could not be confined.
    tree = ast.Call("info", [parse("up")])
    with pytest.raises(BadQuery, match=r"info\(\) is not supported"):
        confine(tree, TENANT)
