"""What a log search or a LogQL query asks of the log store, and what it gets back."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from orchestrix.domain.logs import Labels
from orchestrix.domain.regex import Pattern, RegexError, compile_re2, search
from orchestrix.logql.stages import CONVERTERS, ERROR, ERROR_DETAILS, Entry, LabelExpr, Stage, run
from orchestrix.promql.storage import LabelMatcher

Direction = Literal["forward", "backward"]


LineOp = Literal["|=", "!=", "|~", "!~"]


@dataclass(frozen=True, slots=True)
class LineFilter:
    """`|= "text"` (contains), `!=` (does not), `|~ "re"` (RE2 search), `!~` (no match)."""

    op: LineOp
    value: str
    regex: Pattern | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, op: LineOp, value: str) -> LineFilter:
        regex = None
        if op in ("|~", "!~"):
            try:
                regex = compile_re2(value)
            except RegexError as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        return cls(op, value, regex)

    @property
    def is_substring(self) -> bool:
        return self.regex is None

    def keep(self, line: str) -> bool:
        if self.op == "|=":
            return self.value in line
        if self.op == "!=":
            return self.value not in line
        assert self.regex is not None
        found = search(self.regex, line) is not None
        return found if self.op == "|~" else not found


@dataclass(frozen=True, slots=True)
class LabelDrop:
    """One label of a `| drop` stage: `name` always, `name="value"` (or another matcher)
    only where the label's value matches."""

    name: str
    matcher: LabelMatcher | None = None

    def drops(self, name: str, value: str) -> bool:
        return name == self.name and (self.matcher is None or self.matcher.matches(value))


@dataclass(frozen=True, slots=True)
class Sample:
    """`| unwrap label` (`duration(label)`, `bytes(label)`), or each line's size in bytes
    (`bytes_over_time`, `bytes_rate`)."""

    label: str
    conversion: Literal["number", "duration", "bytes", "line_bytes"] = "number"
    filters: tuple[LabelExpr, ...] = ()  # label filters after the unwrap


@dataclass(frozen=True, slots=True)
class LogSelector:
    """Which lines: stream label matchers, then line filters, all of which must hold; and
    the labels `| drop` removes from what the lines are reported under."""

    matchers: tuple[LabelMatcher, ...]
    filters: tuple[LineFilter, ...] = ()
    # Full-text words (`q=` of the search API): every word must occur as a token.
    text: str | None = None
    drops: tuple[LabelDrop, ...] = ()
    # Parsers, label filters and formatting, in Python over the lines the filters let by.
    stages: tuple[Stage, ...] = ()
    # What a metric query's range function reads of each line (None: that it is there).
    sample: Sample | None = None

    def keep(self, line: str) -> bool:
        return all(f.keep(line) for f in self.filters)

    @property
    def reads_lines(self) -> bool:
        """Whether the lines must be read (not only counted) for a metric query."""
        return (
            bool(self.stages)
            or self.sample is not None
            or not all(f.is_substring for f in self.filters)
        )

    def process(self, labels: Labels, line: str) -> tuple[Labels, str] | None:
        """The line's labels and text after the stages; None if a stage drops it. The
        line filters are checked first (`keep`)."""
        if not self.keep(line):
            return None
        if not self.stages:
            return labels, line
        return run(self.stages, labels, line)

    def value_of(self, labels: Labels, line: str) -> tuple[Labels, float] | None:
        """A metric query's sample of a processed line: its series' labels and value (the
        unwrapped label leaves the labels; one that is not a number marks the series with
        `__error__="SampleExtractionErr"`, as in Loki); None if a label filter after the
        unwrap drops it."""
        sample = self.sample
        assert sample is not None
        if sample.conversion == "line_bytes":
            return labels, float(len(line.encode("utf-8", "surrogatepass")))
        found = dict(labels)
        raw = found.pop(sample.label, "")
        try:
            value = CONVERTERS[sample.conversion](raw)
        except ValueError:
            if ERROR not in found:
                found[ERROR] = "SampleExtractionErr"
                found[ERROR_DETAILS] = f"{sample.label}={raw!r} is not a {sample.conversion}"
            value = math.nan
        result = tuple(sorted(found.items()))
        if sample.filters:
            entry = Entry(result, line)
            if not all(expr.test(entry) for expr in sample.filters):
                return None
            result = tuple(sorted(entry.labels.items()))
        return result, value

    def relabel(self, labels: Labels) -> Labels:
        """A stream's labels after the `| drop` stages (streams left alike then merge)."""
        if not self.drops:
            return labels
        return tuple((n, v) for n, v in labels if not any(d.drops(n, v) for d in self.drops))


@dataclass(frozen=True, slots=True)
class LogPosition:
    """Where a page ended: the last line's timestamp and id (ids break timestamp ties)."""

    ts: int
    id: int


@dataclass(frozen=True, slots=True)
class LogSearch:
    selector: LogSelector
    start_ns: int
    end_ns: int  # exclusive, as Loki's `end`
    limit: int
    direction: Direction = "backward"
    after: LogPosition | None = None


@dataclass(frozen=True, slots=True)
class LogRecord:
    ts: int
    id: int
    labels: Labels
    line: str
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class LogHits:
    """A page of lines, and where to continue (None: the range holds no more)."""

    records: list[LogRecord]
    next_position: LogPosition | None


@dataclass(frozen=True, slots=True)
class StreamTimes:
    """The timestamps (sorted) of one stream's lines a metric query counts, and with a
    `sample` the value each line gives."""

    labels: Labels
    timestamps: list[int]
    values: list[float] | None = None


@dataclass(frozen=True, slots=True)
class IndexStats:
    """What a stream selector resolves to over a time range (Loki's `/index/stats`): its
    streams with a line in the range, their (stream, day) partitions, lines and bytes."""

    streams: int
    chunks: int
    entries: int
    bytes: int


class LogQueryTimeout(Exception):
    """A query ran past its time limit (a log rule's query timeout); the message is
    Prometheus' for the same case, with the limit."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(f"query timed out in query execution (limit {timeout_s:g}s)")
