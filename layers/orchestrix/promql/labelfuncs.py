"""Functions that rewrite or order label sets: label_replace, label_join, sort_by_label."""

from __future__ import annotations

import re

from orchestrix.domain.regex import RegexError, compile_re2, expand_template, fullmatch

from . import ast
from .errors import ExecutionError
from .evaluator import Evaluator, EvSeries
from .storage import MatchOp
from .values import Labels, label_get, label_set


def valid_label_name(name: str) -> bool:
    """Prometheus 3 accepts any non-empty valid UTF-8 label name."""
    if not name:
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def merge_same_labelset(series: list[EvSeries]) -> list[EvSeries]:
    """Merge series whose label sets became equal; overlapping samples are an error."""
    by_labels: dict[Labels, EvSeries] = {}
    out: list[EvSeries] = []
    for s in series:
        prev = by_labels.get(s.labels)
        if prev is None:
            by_labels[s.labels] = s
            out.append(s)
            continue
        merged = list(prev.vals)
        for i, v in enumerate(s.vals):
            if v is None:
                continue
            if merged[i] is not None:
                raise ExecutionError("vector cannot contain metrics with the same labelset")
            merged[i] = v
        prev.vals = merged
    return out


def _string_arg(node: ast.Node) -> str:
    node = ast.unwrap(node)
    assert isinstance(node, ast.StringLit)
    return node.val


def label_replace(ev: Evaluator, node: ast.Call) -> list[EvSeries]:
    dst, repl, src, regex = (_string_arg(a) for a in node.args[1:5])
    try:
        pattern = compile_re2(regex, dot_all=True)
    except RegexError:
        raise ExecutionError(f"invalid regular expression in label_replace(): {regex}") from None
    if not valid_label_name(dst):
        raise ExecutionError(f"invalid destination label name in label_replace(): {dst}")
    out = []
    for s in ev.eval_vector(node.args[0]):
        m = fullmatch(pattern, label_get(s.labels, src))
        if m is None:
            out.append(s)
            continue
        labels = label_set(s.labels, dst, expand_template(repl, m, pattern.groups))
        out.append(EvSeries(labels, s.vals, False if dst == "__name__" else s.drop_name))
    return merge_same_labelset(out)


def label_join(ev: Evaluator, node: ast.Call) -> list[EvSeries]:
    dst, sep = _string_arg(node.args[1]), _string_arg(node.args[2])
    srcs = [_string_arg(a) for a in node.args[3:]]
    for src in srcs:
        if not valid_label_name(src):
            raise ExecutionError(f"invalid source label name in label_join(): {src}")
    if not valid_label_name(dst):
        raise ExecutionError(f"invalid destination label name in label_join(): {dst}")
    out = []
    for s in ev.eval_vector(node.args[0]):
        value = sep.join(label_get(s.labels, n) for n in srcs)
        labels = label_set(s.labels, dst, value)
        out.append(EvSeries(labels, s.vals, False if dst == "__name__" else s.drop_name))
    return merge_same_labelset(out)


_CHUNK = re.compile(r"\d+|\D+")


def natural_less(a: str, b: str) -> bool:
    """facette/natsort's Compare: digit runs compare as integers."""
    ca, cb = _CHUNK.findall(a), _CHUNK.findall(b)
    for i, x in enumerate(ca):
        if i >= len(cb):
            return False
        y = cb[i]
        if x.isdigit() and y.isdigit():
            xi, yi = int(x), int(y)
            if xi == yi:
                if i == len(ca) - 1:
                    return True
                if i == len(cb) - 1:
                    return False
                continue
            return xi < yi
        if x == y:
            if i == len(ca) - 1:
                return True
            if i == len(cb) - 1:
                return False
            continue
        return bool(x < y)
    return False


def sort_by_label(ev: Evaluator, node: ast.Call, desc: bool) -> list[EvSeries]:
    vec = ev.eval_vector(node.args[0])
    if ev.n != 1:
        return vec
    names = [_string_arg(a) for a in node.args[1:]]
    import functools

    def cmp(a: EvSeries, b: EvSeries) -> int:
        for name in names:
            x, y = label_get(a.labels, name), label_get(b.labels, name)
            if x == y:
                continue
            less = natural_less(x, y)
            r = -1 if less else 1
            return -r if desc else r
        r = (a.labels > b.labels) - (a.labels < b.labels)
        return -r if desc else r

    return sorted(vec, key=functools.cmp_to_key(cmp))


def absent_labels(arg: ast.Node) -> Labels:
    """Labels of absent(): the equality matchers of a plain selector argument."""
    while isinstance(arg, ast.Paren):
        arg = arg.expr
    if isinstance(arg, ast.MatrixSel):
        arg = arg.vs
    if not isinstance(arg, ast.VectorSel):
        return ()
    labels: dict[str, str] = {}
    has: set[str] = set()
    for m in arg.matchers:
        if m.name == "__name__":
            continue
        if m.op is MatchOp.EQUAL and m.name not in has:
            if m.value:
                labels[m.name] = m.value
            has.add(m.name)
        else:
            labels.pop(m.name, None)
    return tuple(sorted(labels.items()))


__all__: list[str] = ["label_replace", "label_join", "sort_by_label", "absent_labels"]
