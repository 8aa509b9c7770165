"""The engine's own expression tree, built from promql-parser's AST (see ``parse.py``).

Durations and timestamps are integer milliseconds. ``pos`` is the character offset where the
expression starts in the query text (used to position annotations like Prometheus does).
``vtype`` is the PromQL value type: ``scalar``, ``vector``, ``matrix`` or ``string``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .storage import LabelMatcher

AT_START = "start"
AT_END = "end"


@dataclass(slots=True, eq=False)
class NumberLit:
    val: float
    pos: int = 0
    vtype: str = "scalar"


@dataclass(slots=True, eq=False)
class StringLit:
    val: str
    pos: int = 0
    vtype: str = "string"


@dataclass(slots=True, eq=False)
class VectorSel:
    name: str | None
    matchers: tuple[LabelMatcher, ...]
    or_groups: tuple[tuple[LabelMatcher, ...], ...] = ()
    offset: int = 0
    at: int | None = None
    at_kind: str | None = None  # AT_START / AT_END until resolved against the query range
    pos: int = 0
    vtype: str = "vector"


@dataclass(slots=True, eq=False)
class MatrixSel:
    vs: VectorSel
    range: int
    pos: int = 0
    vtype: str = "matrix"


@dataclass(slots=True, eq=False)
class Subquery:
    expr: Node
    range: int
    step: int  # 0: the engine's default subquery step
    offset: int = 0
    at: int | None = None
    at_kind: str | None = None
    pos: int = 0
    vtype: str = "matrix"


@dataclass(slots=True, eq=False)
class Call:
    func: str
    args: list[Node]
    vtype: str = "vector"
    pos: int = 0


@dataclass(slots=True, eq=False)
class Aggregate:
    op: str
    expr: Node
    param: Node | None
    grouping: tuple[str, ...] = ()
    without: bool = False
    has_grouping: bool = False
    pos: int = 0
    vtype: str = "vector"


@dataclass(slots=True, eq=False)
class Binary:
    op: str
    lhs: Node
    rhs: Node
    card: str = "one-to-one"  # one-to-one, many-to-one, one-to-many, many-to-many
    on: bool = False
    matching: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    return_bool: bool = False
    fill_lhs: float | None = None
    fill_rhs: float | None = None
    pos: int = 0
    vtype: str = "vector"


@dataclass(slots=True, eq=False)
class Unary:
    expr: Node
    pos: int = 0
    vtype: str = "vector"


@dataclass(slots=True, eq=False)
class Paren:
    expr: Node
    pos: int = 0
    vtype: str = "vector"


@dataclass(slots=True, eq=False)
class StepInvariant:
    """Marks a subtree whose value is the same at every step (``@`` modifiers, literals)."""

    expr: Node
    pos: int = 0
    vtype: str = field(default="vector")


Node = (
    NumberLit
    | StringLit
    | VectorSel
    | MatrixSel
    | Subquery
    | Call
    | Aggregate
    | Binary
    | Unary
    | Paren
    | StepInvariant
)

# Functions whose result depends on the evaluation time even when their arguments do not.
AT_UNSAFE_FUNCTIONS = frozenset(
    {
        "days_in_month",
        "day_of_month",
        "day_of_week",
        "day_of_year",
        "hour",
        "minute",
        "month",
        "year",
        "predict_linear",
        "time",
        "timestamp",
    }
)


def children(node: Node) -> list[Node]:
    if isinstance(node, MatrixSel):
        return [node.vs]
    if isinstance(node, Subquery | Unary | Paren | StepInvariant):
        return [node.expr]
    if isinstance(node, Call):
        return list(node.args)
    if isinstance(node, Aggregate):
        return [node.param, node.expr] if node.param is not None else [node.expr]
    if isinstance(node, Binary):
        return [node.lhs, node.rhs]
    return []


def walk(node: Node) -> list[Node]:
    """All nodes, parents before children."""
    out = [node]
    for c in children(node):
        out.extend(walk(c))
    return out


def copy_tree(node: Node) -> Node:
    """A deep copy (matchers are immutable and shared)."""
    if isinstance(node, MatrixSel):
        vs = copy_tree(node.vs)
        assert isinstance(vs, VectorSel)
        return replace(node, vs=vs)
    if isinstance(node, Subquery | Unary | Paren | StepInvariant):
        return replace(node, expr=copy_tree(node.expr))
    if isinstance(node, Call):
        return replace(node, args=[copy_tree(a) for a in node.args])
    if isinstance(node, Aggregate):
        param = copy_tree(node.param) if node.param is not None else None
        return replace(node, expr=copy_tree(node.expr), param=param)
    if isinstance(node, Binary):
        return replace(node, lhs=copy_tree(node.lhs), rhs=copy_tree(node.rhs))
    return replace(node)


def unwrap(node: Node) -> Node:
    while isinstance(node, Paren | StepInvariant):
        node = node.expr
    return node


def resolve_and_wrap(node: Node, start: int, end: int) -> Node:
    """Resolve ``start()``/``end()`` and wrap step-invariant subtrees (PreprocessExpr)."""
    tree = copy_tree(node)
    invariant, wrap = _preprocess(tree, start, end)
    return _wrap(tree) if wrap else tree


def _wrap(node: Node) -> StepInvariant:
    return StepInvariant(node, node.pos, node.vtype)


def _resolve_at(node: VectorSel | Subquery, start: int, end: int) -> None:
    if node.at_kind == AT_START:
        node.at = start
    elif node.at_kind == AT_END:
        node.at = end
    node.at_kind = None


def _preprocess(node: Node, start: int, end: int) -> tuple[bool, bool]:
    """Return (is step invariant, should be wrapped) like Prometheus' preprocessExprHelper."""
    if isinstance(node, VectorSel):
        _resolve_at(node, start, end)
        return node.at is not None, node.at is not None
    if isinstance(node, Aggregate):
        node.expr = _strip_parens(node.expr)
        if node.param is not None:
            node.param = _strip_parens(node.param)
        return _preprocess(node.expr, start, end)
    if isinstance(node, Binary):
        inv_l, wrap_l = _preprocess(node.lhs, start, end)
        inv_r, wrap_r = _preprocess(node.rhs, start, end)
        if inv_l and inv_r:
            return True, True
        if wrap_l:
            node.lhs = _wrap(node.lhs)
        if wrap_r:
            node.rhs = _wrap(node.rhs)
        return False, False
    if isinstance(node, Call):
        invariant = node.func not in AT_UNSAFE_FUNCTIONS
        wraps = []
        for i, arg in enumerate(node.args):
            node.args[i] = arg = _strip_parens(arg)
            arg_inv, arg_wrap = _preprocess(arg, start, end)
            invariant = invariant and arg_inv
            wraps.append(arg_wrap)
        if invariant:
            return True, True
        for i, w in enumerate(wraps):
            if w:
                node.args[i] = _wrap(node.args[i])
        return False, False
    if isinstance(node, MatrixSel):
        inv, _ = _preprocess(node.vs, start, end)
        return inv, False
    if isinstance(node, Subquery):
        inv, _ = _preprocess(node.expr, start, end)
        if inv:
            node.expr = _wrap(node.expr)
        _resolve_at(node, start, end)
        return node.at is not None, node.at is not None
    if isinstance(node, Paren | Unary):
        return _preprocess(node.expr, start, end)
    if isinstance(node, StringLit | NumberLit):
        return True, False
    return False, False


def _strip_parens(node: Node) -> Node:
    while isinstance(node, Paren):
        node = node.expr
    return node
