"""PromQL text from the engine's parsed tree, with every selector confined to one tenant.

A workspace of Amazon Managed Service for Prometheus holds every tenant's series, told
apart by the tenant label the writer adds. A query from a tenant is never forwarded as the
text it arrived in: it is parsed, and the tree is printed back with the tenant matcher
added to *every* vector selector (inside range selectors, subqueries, function arguments,
both sides of every operator), so no selector, however crafted (`{__name__=~".+"}`,
`{tenant_label="other"}`), can reach another tenant's series. The printed text is parsed
again and checked before it leaves the process.

Constructs that select series without a selector of their own (Prometheus 3's `info()`)
or that the printer cannot express faithfully (`or` inside braces, `fill()` modifiers) are
refused as bad queries rather than forwarded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from orchestrix.promql import BadQuery, LabelMatcher, MatchOp, ast
from orchestrix.promql.parse import parse
from orchestrix.promql.values import quote_go

_IDENTIFIER = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
# Functions that read series no selector of the query names.
_SELECTING_FUNCTIONS = frozenset({"info"})


def quote(text: str) -> str:
    """A PromQL string literal, escaped as Go's strconv.Unquote reads it back (invalid UTF-8
    bytes, kept as surrogate escapes, become `\\xNN`)."""
    return quote_go(text)


def _name(label: str) -> str:
    return label if _IDENTIFIER.match(label) else quote(label)


def _duration(ms: int) -> str:
    return f"{ms}ms"


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "(-Inf)"
    text = repr(value)
    return f"({text})" if value < 0 else text


def matcher_text(m: LabelMatcher) -> str:
    return f"{_name(m.name)}{m.op.value}{quote(m.value)}"


def selector_text(matchers: Sequence[LabelMatcher], name: str | None = None) -> str:
    """`name{a="b", ...}`; the `__name__` equality the parser adds for `name` is not
    repeated inside the braces."""
    rest = list(matchers)
    prefix = ""
    if name and _METRIC_NAME.match(name):
        for i, m in enumerate(rest):
            if m.name == "__name__" and m.op is MatchOp.EQUAL and m.value == name:
                del rest[i]
                prefix = name
                break
    if prefix and not rest:
        return prefix
    return prefix + "{" + ", ".join(matcher_text(m) for m in rest) + "}"


class _Printer:
    def __init__(self, extra: LabelMatcher | None) -> None:
        self._extra = extra

    def print(self, node: ast.Node) -> str:  # noqa: C901 - one branch per node type
        if isinstance(node, ast.NumberLit):
            return _number(node.val)
        if isinstance(node, ast.StringLit):
            return quote(node.val)
        if isinstance(node, ast.VectorSel):
            return self._vector(node) + self._modifiers(node.offset, node.at, node.at_kind)
        if isinstance(node, ast.MatrixSel):
            vs = node.vs
            return f"{self._vector(vs)}[{_duration(node.range)}]" + self._modifiers(
                vs.offset, vs.at, vs.at_kind
            )
        if isinstance(node, ast.Subquery):
            step = _duration(node.step) if node.step else ""
            return f"({self.print(node.expr)})[{_duration(node.range)}:{step}]" + self._modifiers(
                node.offset, node.at, node.at_kind
            )
        if isinstance(node, ast.Call):
            if node.func in _SELECTING_FUNCTIONS:
                raise BadQuery(
                    f'invalid parameter "query": {node.func}() is not supported by this '
                    "stage's metric store"
                )
            return f"{node.func}({', '.join(self.print(a) for a in node.args)})"
        if isinstance(node, ast.Aggregate):
            return self._aggregate(node)
        if isinstance(node, ast.Binary):
            return self._binary(node)
        if isinstance(node, ast.Unary):
            return f"-({self.print(node.expr)})"
        if isinstance(node, ast.Paren | ast.StepInvariant):
            return f"({self.print(node.expr)})"
        raise BadQuery(f"unsupported expression: {type(node).__name__}")

    def _vector(self, vs: ast.VectorSel) -> str:
        if vs.or_groups:
            raise BadQuery(
                'invalid parameter "query": "or" inside a selector is not supported by this '
                "stage's metric store"
            )
        matchers = list(vs.matchers)
        if self._extra is not None:
            matchers.append(self._extra)
        return selector_text(matchers, vs.name)

    @staticmethod
    def _modifiers(offset: int, at: int | None, at_kind: str | None) -> str:
        out = ""
        if at_kind == ast.AT_START:
            out += " @ start()"
        elif at_kind == ast.AT_END:
            out += " @ end()"
        elif at is not None:
            sign = "-" if at < 0 else ""
            out += f" @ {sign}{abs(at) // 1000}.{abs(at) % 1000:03d}"
        if offset:
            out += f" offset {_duration(offset)}"
        return out

    def _aggregate(self, node: ast.Aggregate) -> str:
        grouping = ""
        if node.has_grouping:
            keyword = "without" if node.without else "by"
            grouping = f" {keyword} ({', '.join(_name(n) for n in node.grouping)})"
        args = [self.print(node.expr)]
        if node.param is not None:
            args.insert(0, self.print(node.param))
        return f"{node.op}{grouping} ({', '.join(args)})"

    def _binary(self, node: ast.Binary) -> str:
        if node.fill_lhs is not None or node.fill_rhs is not None:
            raise BadQuery(
                'invalid parameter "query": fill modifiers are not supported by this '
                "stage's metric store"
            )
        parts = [f"({self.print(node.lhs)})", node.op]
        if node.return_bool:
            parts.append("bool")
        if node.on or node.matching:
            keyword = "on" if node.on else "ignoring"
            parts.append(f"{keyword}({', '.join(_name(n) for n in node.matching)})")
        if node.card in ("many-to-one", "one-to-many"):
            keyword = "group_left" if node.card == "many-to-one" else "group_right"
            parts.append(f"{keyword}({', '.join(_name(n) for n in node.include)})")
        parts.append(f"({self.print(node.rhs)})")
        return " ".join(parts)


def render(tree: ast.Node) -> str:
    """The tree as PromQL text, unchanged in meaning."""
    return _Printer(None).print(tree)


def confine(tree: ast.Node, tenant_matcher: LabelMatcher) -> str:
    """The tree as PromQL text whose every selector also requires `tenant_matcher`."""
    text = _Printer(tenant_matcher).print(tree)
    # Belt and braces: what leaves the process is checked as the far side will read it.
    for node in ast.walk(parse(text)):
        if isinstance(node, ast.VectorSel) and tenant_matcher not in node.matchers:
            raise RuntimeError(f"a selector escaped tenant confinement: {text!r}")
    return text
