"""Parse PromQL with promql-parser and convert its AST into ours (``ast.py``).

promql-parser does not report source positions, which Prometheus prints in annotations
(``(1:19)``). We recover them by walking the query text alongside the tree in source order.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import promql_parser as pp

from orchestrix.domain.regex import RegexError, compile_re2

from . import ast
from .errors import BadQuery
from .gostr import unquote
from .positions import line_col, locate
from .storage import LabelMatcher, MatchOp

_MATCH_OPS = {0: MatchOp.EQUAL, 1: MatchOp.NOT_EQUAL, 2: MatchOp.REGEX, 3: MatchOp.NOT_REGEX}
_CARDS = {0: "one-to-one", 1: "many-to-one", 2: "one-to-many", 3: "many-to-many"}
_VTYPES = {0: "vector", 1: "scalar", 2: "matrix", 3: "string"}
_NUMBER = r"(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[iI][nN][fF]|[nN][aA][nN])"
_BINOP = re.compile(
    r"\s*(?:\+|-|\*|/|%|\^|==|!=|<=|>=|<|>|and\b|or\b|unless\b|atan2\b)", re.IGNORECASE
)
_MODIFIER = re.compile(
    r"\s*(bool|on|ignoring|group_left|group_right|fill_left|fill_right|fill)\b", re.IGNORECASE
)
_GROUPING = re.compile(r"\s*(by|without)\b", re.IGNORECASE)


# promql-parser recurses on the machine stack: ~5,000 nested brackets or a chain of ~5,000
# binary operators overflow it and kill the process (SIGSEGV), and our converter and evaluator
# recurse too. Queries are therefore refused before parsing when their nesting (brackets plus
# operators, a bound on the depth of the tree) exceeds MAX_NESTING, and when longer than
# MAX_QUERY_LENGTH; a RecursionError anywhere is still turned into a BadQuery (engine.py).
MAX_NESTING = 256
MAX_QUERY_LENGTH = 256 * 1024
_OPERATOR = re.compile(r"==|!=|<=|>=|[-+*/%^<>]|\b(?:and|or|unless|atan2)\b", re.IGNORECASE)
_ILLEGAL_REGEX = "illegal regex for "


class ParseError(BadQuery):
    """The query text does not parse (the API reports it as an invalid ``query`` parameter)."""


def parse(query: str) -> ast.Node:
    """Parse a query; raise :class:`ParseError` with the parser's message on failure."""
    check_shape(query)
    try:
        tree = pp.parse(query)
    except BaseException as exc:  # the Rust extension may panic (PanicException)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        index, message = locate(query, str(exc))
        raise ParseError(f"{line_col(query, index)}: parse error: {_reason(message)}") from None
    try:
        return _Converter(query).convert(tree)
    except RecursionError:
        raise ParseError(_too_deep()) from None
    except ValueError as exc:
        raise ParseError(f"1:1: parse error: {exc}") from None


def check_shape(query: str) -> None:
    """Refuse what would crash or exhaust the parser: NUL, huge or too deeply nested text."""
    if "\x00" in query:
        col = query.index("\x00") + 1
        raise ParseError(f"1:{col}: parse error: unexpected character: '\\x00'")
    if len(query) > MAX_QUERY_LENGTH:
        raise ParseError(
            f"1:1: parse error: query is {len(query)} characters long, "
            f"more than the limit of {MAX_QUERY_LENGTH}"
        )
    if nesting(query) > MAX_NESTING:
        raise ParseError(_too_deep())


def _too_deep() -> str:
    return (
        "1:1: parse error: expression nested too deeply "
        f"(more than {MAX_NESTING} levels of brackets and operators)"
    )


def nesting(query: str) -> int:
    """Deepest bracket nesting plus the number of operators, outside strings and comments."""
    code = "".join(_outside_strings(query))
    depth = deepest = 0
    for ch in code:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    return deepest + len(_OPERATOR.findall(code))


def _string_end(text: str, start: int) -> int:
    quote, i = text[start], start + 1
    while i < len(text):
        if text[i] == "\\" and quote != "`":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    return len(text)


def _outside_strings(text: str) -> list[str]:
    parts: list[str] = []
    i = last = 0
    while i < len(text):
        if text[i] in "\"'`":
            parts.append(text[last:i])
            i = last = _string_end(text, i)
            continue
        if text[i] == "#":
            parts.append(text[last:i])
            nl = text.find("\n", i)
            i = last = len(text) if nl < 0 else nl + 1
            continue
        i += 1
    parts.append(text[last:])
    return parts


def _reason(message: str) -> str:
    """promql-parser's messages, reworded as Prometheus' where they differ."""
    if message.startswith(_ILLEGAL_REGEX):
        pattern = message[len(_ILLEGAL_REGEX) :]
        try:
            compile_re2(pattern, dot_all=True)
        except RegexError as exc:
            return f'invalid regular expression "{pattern}": error parsing regexp: {exc}'
        return f'invalid regular expression "{pattern}"'
    return message


def ms(td: timedelta | None) -> int:
    if td is None:
        return 0
    return td // timedelta(milliseconds=1)


class _Converter:
    def __init__(self, text: str) -> None:
        self.text = text
        self.cur = 0

    # --- text scanning -------------------------------------------------------------------
    def _find(self, pattern: str, flags: int = 0) -> int:
        m = re.compile(pattern, flags).search(self.text, self.cur)
        if m is None:
            return self.cur
        self.cur = m.end()
        return m.start()

    def _skip_ws(self) -> None:
        while self.cur < len(self.text):
            ch = self.text[self.cur]
            if ch.isspace():
                self.cur += 1
            elif ch == "#":
                nl = self.text.find("\n", self.cur)
                self.cur = len(self.text) if nl < 0 else nl + 1
            else:
                return

    def _close_of(self, open_at: int) -> int:
        """Index of the bracket closing the one at ``open_at`` (quotes and comments aware)."""
        text, depth, i = self.text, 0, open_at
        while i < len(text):
            ch = text[i]
            if ch in "\"'`":
                i = self._string_end(i)
                continue
            if ch == "#":
                nl = text.find("\n", i)
                i = len(text) if nl < 0 else nl
                continue
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
                if depth == 0:
                    return i
            i += 1
        return len(text)

    def _string_end(self, start: int) -> int:
        return _string_end(self.text, start)

    def _skip_group(self) -> None:
        """Skip ``(...)`` if it is next."""
        self._skip_ws()
        if self.cur < len(self.text) and self.text[self.cur] == "(":
            self.cur = self._close_of(self.cur) + 1

    # --- conversion ----------------------------------------------------------------------
    def convert(self, e: Any) -> ast.Node:
        if isinstance(e, pp.NumberLiteral):
            return self._number(e)
        if isinstance(e, pp.StringLiteral):
            start = self._find(r"[\"'`]")
            self.cur = self._string_end(start)
            try:
                val = unquote(self.text[start : self.cur])
            except ValueError:
                val = e.val
            return ast.StringLit(val, start)
        if isinstance(e, pp.VectorSelector):
            return self._vector(e)
        if isinstance(e, pp.MatrixSelector):
            vs = self._vector(e.vector_selector)
            self._find(r"\[")
            self.cur = self._close_of(self.cur - 1) + 1
            self._at_fix(vs, e.vector_selector.at)
            return ast.MatrixSel(vs, ms(e.range), vs.pos)
        if isinstance(e, pp.SubqueryExpr):
            inner = self.convert(e.expr)
            self._find(r"\[")
            self.cur = self._close_of(self.cur - 1) + 1
            sq = ast.Subquery(inner, ms(e.range), ms(e.step), ms(e.offset), pos=inner.pos)
            self._set_at(sq, e.at)
            return sq
        if isinstance(e, pp.Call):
            return self._call(e)
        if isinstance(e, pp.AggregateExpr):
            return self._aggregate(e)
        if isinstance(e, pp.BinaryExpr):
            return self._binary(e)
        if isinstance(e, pp.UnaryExpr):
            pos = self._find(r"-")
            inner = self.convert(e.expr)
            vtype = inner.vtype
            return ast.Unary(inner, pos, vtype)
        if isinstance(e, pp.ParenExpr):
            pos = self._find(r"\(")
            close = self._close_of(pos)
            inner = self.convert(e.expr)
            self.cur = close + 1
            return ast.Paren(inner, pos, inner.vtype)
        raise BadQuery(f"unsupported expression: {e}")

    def _number(self, e: Any) -> ast.NumberLit:
        val = float(e.val)
        pattern = r"-\s*" + _NUMBER if val < 0 else _NUMBER
        return ast.NumberLit(val, self._find(pattern))

    def _vector(self, e: Any) -> ast.VectorSel:
        name = e.name
        if name:
            pos = self._find(r"(?<![\w:])" + re.escape(name) + r"(?![\w:])")
            self._skip_ws()
            if self.cur < len(self.text) and self.text[self.cur] == "{":
                self.cur = self._close_of(self.cur) + 1
        else:
            pos = self._find(r"\{")
            self.cur = self._close_of(pos) + 1
        matchers = tuple(_matcher(m) for m in e.matchers.matchers)
        if name and not any(m.name == "__name__" for m in matchers):
            matchers = (LabelMatcher.of("__name__", MatchOp.EQUAL, name), *matchers)
        or_groups = tuple(tuple(_matcher(m) for m in g) for g in e.matchers.or_matchers)
        vs = ast.VectorSel(name, matchers, or_groups, ms(e.offset), pos=pos)
        self._set_at(vs, e.at)
        return vs

    def _set_at(self, node: ast.VectorSel | ast.Subquery, at: Any) -> None:
        if at is None:
            return
        kind = int(at.type)
        if kind == 0:
            node.at_kind = ast.AT_START
        elif kind == 1:
            node.at_kind = ast.AT_END
        else:
            node.at = round(float(str(at).split()[-1]) * 1000)
            if node.at == 0:
                self._at_fix(node, at)

    def _at_fix(self, node: ast.VectorSel | ast.Subquery, at: Any) -> None:
        # promql-parser prints negative @ timestamps as 0: read them from the text instead.
        if at is None or int(at.type) != 2 or node.at != 0:
            return
        m = re.compile(r"@\s*([-+]?" + _NUMBER + ")").search(self.text, node.pos)
        if m is not None:
            node.at = round(float(m.group(1)) * 1000)

    def _call(self, e: Any) -> ast.Call:
        name = e.func.name
        pos = self._find(r"(?<![\w:])" + re.escape(name) + r"\s*\(")
        open_at = self.cur - 1
        close = self._close_of(open_at)
        args = [self.convert(a) for a in e.args]
        self.cur = close + 1
        return ast.Call(name, args, _VTYPES.get(int(e.func.return_type), "vector"), pos)

    def _aggregate(self, e: Any) -> ast.Aggregate:
        op = str(e.op).lower()
        pos = self._find(r"(?<![\w:])" + re.escape(op) + r"\b", re.IGNORECASE)
        if _GROUPING.match(self.text, self.cur):
            self.cur = _GROUPING.match(self.text, self.cur).end()  # type: ignore[union-attr]
            self._skip_group()
        self._skip_ws()
        close = self._close_of(self.cur)
        self.cur += 1
        param = self.convert(e.param) if e.param is not None else None
        inner = self.convert(e.expr)
        self.cur = close + 1
        m = _GROUPING.match(self.text, self.cur)
        if m is not None:
            self.cur = m.end()
            self._skip_group()
        mod = e.modifier
        grouping: tuple[str, ...] = ()
        without = False
        if mod is not None:
            grouping = tuple(mod.labels)
            without = int(mod.type) == 1
        return ast.Aggregate(op, inner, param, grouping, without, mod is not None, pos)

    def _binary(self, e: Any) -> ast.Binary:
        lhs = self.convert(e.lhs)
        m = _BINOP.match(self.text, self.cur)
        if m is not None:
            self.cur = m.end()
        while True:
            mm = _MODIFIER.match(self.text, self.cur)
            if mm is None:
                break
            self.cur = mm.end()
            if mm.group(1).lower() != "bool":
                self._skip_group()
        rhs = self.convert(e.rhs)
        op = str(e.op).lower()
        node = ast.Binary(op, lhs, rhs, pos=lhs.pos)
        mod = e.modifier
        if lhs.vtype == "scalar" and rhs.vtype == "scalar":
            node.vtype = "scalar"
        if op in ("and", "or", "unless"):
            node.card = "many-to-many"
        if mod is not None:
            node.return_bool = bool(mod.return_bool)
            if mod.card is not None:
                node.card = _CARDS[int(mod.card)]
            if mod.matching is not None:
                node.on = int(mod.matching.type) == 0
                node.matching = tuple(mod.matching.labels)
            if mod.group_labels:
                node.include = tuple(mod.group_labels)
            fill = mod.fill_values
            if fill is not None:
                node.fill_lhs = fill.lhs
                node.fill_rhs = fill.rhs
        return node


def _matcher(m: Any) -> LabelMatcher:
    return LabelMatcher.of(m.name, _MATCH_OPS[int(m.op)], m.value)
