"""Where the engine reads series from.

Contract of a :class:`Queryable` (implemented by :class:`MemoryStorage` here and by the
PostgreSQL metric store):

- ``select(matchers, start_ms, end_ms)`` yields every series whose label set satisfies *all*
  matchers and that has at least one sample with ``start_ms <= t <= end_ms``. Each yielded
  :class:`~orchestrix.promql.values.Series` carries only the samples inside that closed
  interval, in increasing timestamp order, with no duplicate timestamps. Staleness markers
  (``values.STALE_NAN``) are returned like any other sample: the engine interprets them.
  Series should be yielded in label order (the engine sorts otherwise).
- A matcher on a label the series does not have sees the empty string, so ``x=""`` selects
  series without ``x`` and ``x=~".*"`` selects every series.
- ``label_names`` / ``label_values`` answer the ``/labels`` and ``/label/<name>/values`` API
  calls over the same selection, sorted.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from orchestrix.domain.regex import Pattern, RegexError, compile_re2, fullmatch

from .values import Labels, Series, label_get


class MatchOp(Enum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True, slots=True)
class LabelMatcher:
    """``name op value``; regexes are RE2, fully anchored, and ``.`` matches newlines.

    That is Prometheus' ``^(?s:value)$``; RE2 matches in linear time (see ``regex.py``).
    """

    name: str
    op: MatchOp
    value: str
    regex: Pattern | None = field(default=None, compare=False, repr=False)
    # The same test as a string operation, for the regexes dashboards use most.
    simple: Callable[[str], bool] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, name: str, op: MatchOp | str, value: str) -> LabelMatcher:
        mop = op if isinstance(op, MatchOp) else MatchOp(op)
        regex = None
        if mop in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            try:
                regex = compile_re2(value, dot_all=True)
            except RegexError as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        return cls(name, mop, value, regex, _simple_regex(value) if regex else None)

    def matches(self, value: str) -> bool:
        op = self.op
        if op is MatchOp.EQUAL:
            return value == self.value
        if op is MatchOp.NOT_EQUAL:
            return value != self.value
        if self.simple is not None:
            found = self.simple(value)
        else:
            assert self.regex is not None
            found = fullmatch(self.regex, value) is not None
        return found if op is MatchOp.REGEX else not found

    def __str__(self) -> str:
        return f'{self.name}{self.op.value}"{self.value}"'


# `literal`, `literal.*`, `.*literal`, `.*literal.*` (and `.*`), literal without any syntax.
_SIMPLE_REGEX = re.compile(r"(\.\*)?([^\\.^$*+?()\[\]{}|]*)(\.\*)?\Z")


def regex_shape(pattern: str) -> tuple[bool, str, bool] | None:
    """``(starts with .*, literal, ends with .*)`` of a pattern that is only that."""
    shape = _SIMPLE_REGEX.match(pattern)
    if shape is None:
        return None
    lead, literal, tail = shape.groups()
    return bool(lead), literal, bool(tail)


def _simple_regex(pattern: str) -> Callable[[str], bool] | None:
    """A string test equal to the anchored, dot-matches-newline regex, if it is that simple
    (as Prometheus' FastRegexMatcher does): RE2 costs microseconds per call."""
    shape = regex_shape(pattern)
    if shape is None:
        return None
    lead, literal, tail = shape
    if lead and tail:
        return lambda v: literal in v
    if lead:
        return lambda v: v.endswith(literal)
    if tail:
        return lambda v: v.startswith(literal)
    return lambda v: v == literal


def matches_all(labels: Labels, matchers: Sequence[LabelMatcher]) -> bool:
    return all(m.matches(label_get(labels, m.name)) for m in matchers)


class Queryable(Protocol):
    """Read access to stored series (see the module docstring for the contract)."""

    def select(
        self, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int
    ) -> Iterable[Series]: ...

    def label_names(
        self, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int
    ) -> list[str]: ...

    def label_values(
        self, name: str, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int
    ) -> list[str]: ...


@dataclass(slots=True)
class _Stored:
    labels: Labels
    timestamps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


class MemoryStorage:
    """An in-memory :class:`Queryable`, indexed by metric name."""

    def __init__(self) -> None:
        self._series: dict[Labels, _Stored] = {}
        self._by_name: dict[str, list[_Stored]] = {}
        self._sorted = True

    def clear(self) -> None:
        self._series.clear()
        self._by_name.clear()

    def add(self, labels: Labels, t: int, v: float) -> None:
        """Append or overwrite one sample; out-of-order samples are inserted in place."""
        s = self._series.get(labels)
        if s is None:
            s = _Stored(labels)
            self._series[labels] = s
            self._by_name.setdefault(label_get(labels, "__name__"), []).append(s)
            self._sorted = False
        ts = s.timestamps
        if not ts or t > ts[-1]:
            ts.append(t)
            s.values.append(v)
            return
        i = bisect.bisect_left(ts, t)
        if i < len(ts) and ts[i] == t:
            s.values[i] = v
        else:
            ts.insert(i, t)
            s.values.insert(i, v)

    def add_series(
        self, labels: Labels, timestamps: Sequence[int], values: Sequence[float]
    ) -> None:
        """Add many samples of one series (fast when the series is new and sorted)."""
        is_sorted = all(a < b for a, b in zip(timestamps, timestamps[1:], strict=False))
        if labels not in self._series and is_sorted and len(timestamps) == len(values):
            s = _Stored(labels, list(timestamps), list(values))
            self._series[labels] = s
            self._by_name.setdefault(label_get(labels, "__name__"), []).append(s)
            self._sorted = False
            return
        for t, v in zip(timestamps, values, strict=True):
            self.add(labels, t, v)

    def _candidates(self, matchers: Sequence[LabelMatcher]) -> list[list[_Stored]]:
        """Groups of series (one per metric name), each sorted by labels."""
        if not self._sorted:
            for group in self._by_name.values():
                group.sort(key=lambda s: s.labels)
            self._sorted = True
        name_matchers = [m for m in matchers if m.name == "__name__"]
        for m in name_matchers:
            if m.op is MatchOp.EQUAL:
                return [self._by_name.get(m.value, [])]
        return [
            self._by_name[n]
            for n in sorted(self._by_name)
            if all(m.matches(n) for m in name_matchers)
        ]

    def select(
        self, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int
    ) -> Iterator[Series]:
        groups = self._candidates(matchers)
        others = [m for m in matchers if m.name != "__name__" or m.op is not MatchOp.EQUAL]
        found = [s for g in groups for s in g if matches_all(s.labels, others)]
        if len(groups) > 1:
            found.sort(key=lambda s: s.labels)
        for s in found:
            ts = s.timestamps
            lo = bisect.bisect_left(ts, start_ms)
            hi = bisect.bisect_right(ts, end_ms)
            if lo >= hi:
                continue
            if lo == 0 and hi == len(ts):
                yield Series(s.labels, ts, s.values)
            else:
                yield Series(s.labels, ts[lo:hi], s.values[lo:hi])

    def label_names(
        self, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int
    ) -> list[str]:
        names: set[str] = set()
        for s in self._selected(matchers, start_ms, end_ms):
            names.update(n for n, _ in s.labels)
        return sorted(names)

    def label_values(
        self, name: str, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int
    ) -> list[str]:
        values = {label_get(s.labels, name) for s in self._selected(matchers, start_ms, end_ms)}
        values.discard("")
        return sorted(values)

    def _selected(
        self, matchers: Sequence[LabelMatcher], start_ms: int, end_ms: int
    ) -> Iterator[Series]:
        if matchers:
            return self.select(matchers, start_ms, end_ms)
        everything = [LabelMatcher.of("__name__", MatchOp.REGEX, ".+")]
        return self.select(everything, start_ms, end_ms)
