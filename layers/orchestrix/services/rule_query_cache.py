"""Shares storage reads between the rules of one evaluation tick.

Every rule of a tick is evaluated at the same instant, so their selectors read overlapping
data. `SharedSelects` fetches each metric name once (over the widest window any rule asks
for) and answers every later `select` from memory through a label index; a thousand rules
over the same metrics cost a handful of database round trips instead of thousands.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from orchestrix.promql import ast
from orchestrix.promql.engine import DEFAULT_LOOKBACK_MS
from orchestrix.promql.storage import LabelMatcher, MatchOp, Queryable, matches_all
from orchestrix.promql.values import Series


@dataclass
class _Fetched:
    start: int
    end: int
    series: list[Series]
    index: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def build_index(self) -> None:
        for i, s in enumerate(self.series):
            for pair in s.labels:
                self.index.setdefault(pair, []).append(i)


def _name_of(matchers: Sequence[LabelMatcher]) -> str | None:
    for m in matchers:
        if m.name == "__name__" and m.op is MatchOp.EQUAL:
            return m.value
    return None


def widest_windows(trees: Iterable[ast.Node], lookback_ms: int) -> dict[str, int]:
    """metric name -> how far back (ms) before the evaluation time any rule reads it."""
    out: dict[str, int] = {}

    def visit(node: ast.Node, extra: int) -> None:
        if isinstance(node, ast.Subquery):
            extra += node.range + node.offset
        if isinstance(node, ast.MatrixSel):
            vs = node.vs
            back = extra + node.range + vs.offset
            if vs.name:
                out[vs.name] = max(out.get(vs.name, 0), back)
            return
        if isinstance(node, ast.VectorSel):
            if node.name:
                back = extra + lookback_ms + node.offset
                out[node.name] = max(out.get(node.name, 0), back)
            return
        for child in ast.children(node):
            visit(child, extra)

    for tree in trees:
        visit(tree, 0)
    return out


class SharedSelects:
    """A `Queryable` over another, caching whole metric names for one evaluation time."""

    def __init__(self, inner: Queryable, at_ms: int, windows: dict[str, int]) -> None:
        self._inner = inner
        self._at = at_ms
        self._windows = windows
        self._by_name: dict[str, _Fetched] = {}
        self._other: dict[tuple[tuple[str, str, str], ...], _Fetched] = {}
        self.storage_selects = 0

    def _fetch(self, matchers: list[LabelMatcher], start: int, end: int) -> _Fetched:
        self.storage_selects += 1
        fetched = _Fetched(start, end, list(self._inner.select(matchers, start, end)))
        fetched.build_index()
        return fetched

    def select(
        self, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int
    ) -> Iterable[Series]:
        name = _name_of(matchers)
        if name is None:
            key = tuple((m.name, m.op.value, m.value) for m in matchers)
            entry = self._other.get(key)
            if entry is None or start_ms < entry.start or end_ms > entry.end:
                entry = self._fetch(list(matchers), start_ms, end_ms)
                self._other[key] = entry
            return self._slice(entry, entry.series, start_ms, end_ms)
        entry = self._by_name.get(name)
        if entry is None or start_ms < entry.start or end_ms > entry.end:
            start = min(start_ms, self._at - self._windows.get(name, 0))
            end = max(end_ms, self._at)
            if entry is not None:
                start, end = min(start, entry.start), max(end, entry.end)
            only_name = [LabelMatcher.of("__name__", MatchOp.EQUAL, name)]
            entry = self._fetch(only_name, start, end)
            self._by_name[name] = entry
        rest = [m for m in matchers if not (m.name == "__name__" and m.op is MatchOp.EQUAL)]
        return self._slice(entry, self._candidates(entry, rest), start_ms, end_ms, rest)

    @staticmethod
    def _candidates(entry: _Fetched, matchers: list[LabelMatcher]) -> list[Series]:
        best: list[int] | None = None
        for m in matchers:
            if m.op is MatchOp.EQUAL and m.value:
                hits = entry.index.get((m.name, m.value), [])
                if best is None or len(hits) < len(best):
                    best = hits
        if best is None:
            return entry.series
        return [entry.series[i] for i in best]

    @staticmethod
    def _slice(
        entry: _Fetched,
        series: list[Series],
        start: int,
        end: int,
        matchers: list[LabelMatcher] | None = None,
    ) -> list[Series]:
        out = []
        whole = start <= entry.start and end >= entry.end
        for s in series:
            if matchers and not matches_all(s.labels, matchers):
                continue
            if whole:
                out.append(s)
                continue
            ts = s.timestamps
            lo, hi = bisect.bisect_left(ts, start), bisect.bisect_right(ts, end)
            if lo < hi:
                out.append(Series(s.labels, ts[lo:hi], s.values[lo:hi]))
        return out

    def label_names(
        self, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int
    ) -> list[str]:
        return self._inner.label_names(matchers, start_ms, end_ms)

    def label_values(
        self, name: str, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int
    ) -> list[str]:
        return self._inner.label_values(name, matchers, start_ms, end_ms)


def default_lookback() -> int:
    return DEFAULT_LOOKBACK_MS
