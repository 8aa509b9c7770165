"""Pipeline stages that run in Python over the lines read: parsers (`| json`, `| logfmt`,
`| regexp`), label filters, `| line_format` and `| label_format`, as Loki runs them.

Parsed labels join the stream's labels (one stream can so split into several); a name the
stream already has gets the suffix `_extracted`. A line that fails to parse keeps its place
with `__error__` set (`JSONParserErr`, `LogfmtParserErr`) and `__error_details__`, so
`| __error__=""` drops it; a label filter that cannot read a label as a number, duration or
size keeps the line with `__error__="LabelFilterErr"`, also as Loki does.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from orchestrix.domain.logs import Labels
from orchestrix.domain.regex import Pattern, search
from orchestrix.promql.storage import LabelMatcher

ERROR = "__error__"
ERROR_DETAILS = "__error_details__"
_INVALID_NAME = re.compile(r"[^a-zA-Z0-9_]")
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_GO_DURATION = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)")
_GO_UNITS_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9}
_GO_UNITS_NS["h"] = 3600 * 10**9
_BYTES = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*")
_BYTE_UNITS = {"": 1, "b": 1}
for _i, _p in enumerate("kmgtpe", start=1):
    _BYTE_UNITS.update({_p: 1000**_i, f"{_p}b": 1000**_i, f"{_p}ib": 1024**_i})


def go_duration_seconds(text: str) -> float:
    """Go's `time.ParseDuration` (`1h30m`, `250ms`, `1.5s`, `-2s`) in seconds."""
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    parts = _GO_DURATION.findall(body)
    if body == "0":
        return 0.0
    if not parts or "".join(n + u for n, u in parts) != body:
        raise ValueError(f"invalid duration {text!r}")
    # As Go: whole nanoseconds (fractions truncated), then seconds + nanoseconds / 1e9, so
    # that `700ms` is 0.7 and not 0.7000000000000001.
    ns = sum(int(Fraction(n) * _GO_UNITS_NS[u]) for n, u in parts)
    return sign * (ns // 10**9 + (ns % 10**9) / 1e9)


def parse_bytes(text: str) -> float:
    """A size as go-humanize reads it: `1KB` (1000), `1KiB` (1024), `1.5 MB`, `42`."""
    match = _BYTES.fullmatch(text)
    if match is None or match.group(2).lower() not in _BYTE_UNITS:
        raise ValueError(f"invalid size {text!r}")
    return float(match.group(1)) * _BYTE_UNITS[match.group(2).lower()]


def _number(text: str) -> float:
    value = float(text)
    if math.isnan(value) and text.strip().lower() != "nan":
        raise ValueError(text)
    return value


CONVERTERS: dict[str, Callable[[str], float]] = {
    "number": _number,
    "duration": go_duration_seconds,
    "bytes": parse_bytes,
}


class Entry:
    """One line on its way through the stages: its labels (stream and parsed) and text."""

    __slots__ = ("labels", "line", "stream")

    def __init__(self, labels: Labels, line: str) -> None:
        self.labels = dict(labels)
        self.stream = frozenset(self.labels)
        self.line = line

    def extract(self, name: str, value: str) -> None:
        name = _INVALID_NAME.sub("_", name)
        if not name:
            return
        if name in self.stream:
            name += "_extracted"
        self.labels[name] = value

    def fail(self, error: str, details: str) -> None:
        if ERROR not in self.labels:
            self.labels[ERROR] = error
            self.labels[ERROR_DETAILS] = details


class _Number(str):
    """A JSON number as the line spells it (`1.50` stays `1.50`, as in Loki)."""

    __slots__ = ()


def _scalar_text(value: Any) -> str | None:
    """A JSON value's label text (numbers keep their JSON spelling); None for null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return _dump(value)


def _dump(value: Any) -> str:
    """Compact JSON of a picked object or array, its numbers spelt as in the line."""
    if isinstance(value, _Number):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _flatten(entry: Entry, prefix: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(entry, f"{prefix}_{key}" if prefix else str(key), inner)
    elif isinstance(value, list):
        return  # Loki's json parser skips arrays unless an expression picks an element
    else:
        text = _scalar_text(value)
        if text is not None:
            entry.extract(prefix, text)


def _decode(line: str) -> Any:
    return json.loads(line, parse_int=_Number, parse_float=_Number, parse_constant=_Number)


JsonPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class JsonStage:
    """`| json` (every scalar, nested keys joined with `_`) or `| json a="x.y[0]"`."""

    extractions: tuple[tuple[str, JsonPath], ...] = ()

    def apply(self, entry: Entry) -> bool:
        if ERROR in entry.labels:
            return True
        try:
            document = _decode(entry.line)
        except ValueError as exc:
            entry.fail("JSONParserErr", str(exc))
            return True
        if not self.extractions:
            if not isinstance(document, dict):
                entry.fail("JSONParserErr", "the line is not a JSON object")
            else:
                _flatten(entry, "", document)
            return True
        for name, path in self.extractions:
            found = _follow(document, path)
            if found is not None and not isinstance(found, dict | list):
                text = _scalar_text(found)
                if text is not None:
                    entry.extract(name, text)
            elif found is not None:
                entry.extract(name, _dump(found))
        return True


def _follow(document: Any, path: JsonPath) -> Any:
    for step in path:
        if isinstance(step, int):
            if not isinstance(document, list) or not -1 < step < len(document):
                return None
            document = document[step]
        elif isinstance(document, dict) and step in document:
            document = document[step]
        else:
            return None
    return document


_LOGFMT_PAIR = re.compile(r'\s*([^\s="]+)(?:=("(?:[^"\\]|\\.)*"|[^\s"]*))?')


def parse_logfmt(line: str) -> list[tuple[str, str]]:
    """`key=value key2="quoted \"value\"" flag` as pairs (a bare key has the value "")."""
    pairs: list[tuple[str, str]] = []
    pos = 0
    while pos < len(line):
        if line[pos:].strip() == "":
            break
        match = _LOGFMT_PAIR.match(line, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"logfmt syntax error at pos {pos + 1}: unexpected {line[pos]!r}")
        end = match.end()
        if end < len(line) and not line[end].isspace():
            raise ValueError(f"logfmt syntax error at pos {end + 1}: unexpected {line[end]!r}")
        value = match.group(2) or ""
        if value.startswith('"'):
            value = json.loads(value)
        pairs.append((match.group(1), value))
        pos = end
    return pairs


@dataclass(frozen=True, slots=True)
class LogfmtStage:
    def apply(self, entry: Entry) -> bool:
        if ERROR in entry.labels:
            return True
        try:
            pairs = parse_logfmt(entry.line)
        except ValueError as exc:
            entry.fail("LogfmtParserErr", str(exc))
            return True
        for key, value in pairs:
            entry.extract(key, value)
        return True


@dataclass(frozen=True, slots=True)
class RegexpStage:
    """`| regexp "(?P<name>re)"`: each named group that matched becomes a label."""

    source: str
    pattern: Pattern = field(compare=False, repr=False)

    def apply(self, entry: Entry) -> bool:
        if ERROR in entry.labels:
            return True
        match = search(self.pattern, entry.line)
        if match is not None:
            for name in self.pattern.groupindex:
                value = match.group(name)
                if value is not None:
                    entry.extract(name, value)
        return True


@dataclass(frozen=True, slots=True)
class LabelCompare:
    """`name op value`: a string matcher, or a number, duration or size comparison."""

    name: str
    op: str
    kind: Literal["string", "number", "duration", "bytes"]
    number: float = 0.0
    matcher: LabelMatcher | None = None

    def test(self, entry: Entry) -> bool:
        value = entry.labels.get(self.name, "")
        if self.matcher is not None:
            return self.matcher.matches(value)
        try:
            found = CONVERTERS[self.kind](value)
        except ValueError:
            entry.fail("LabelFilterErr", f"{self.name}={value!r} is not a {self.kind}")
            return True  # kept, marked: `| __error__=""` drops it
        return _COMPARE[self.op](found, self.number)


@dataclass(frozen=True, slots=True)
class LabelBoolean:
    op: Literal["and", "or"]
    left: LabelExpr
    right: LabelExpr

    def test(self, entry: Entry) -> bool:
        if self.op == "and":
            return self.left.test(entry) and self.right.test(entry)
        return self.left.test(entry) or self.right.test(entry)


LabelExpr = LabelCompare | LabelBoolean


@dataclass(frozen=True, slots=True)
class LabelFilterStage:
    expr: LabelExpr

    def apply(self, entry: Entry) -> bool:
        return self.expr.test(entry)


Template = tuple[str | tuple[str], ...]  # literal text, or (label name,) to insert


def render(template: Template, labels: dict[str, str]) -> str:
    return "".join(part if isinstance(part, str) else labels.get(part[0], "") for part in template)


@dataclass(frozen=True, slots=True)
class LineFormatStage:
    """`| line_format "{{.level}}: {{.msg}}"`: the line rewritten from its labels."""

    template: Template

    def apply(self, entry: Entry) -> bool:
        entry.line = render(self.template, entry.labels)
        return True


@dataclass(frozen=True, slots=True)
class LabelFormatStage:
    """`| label_format new=old, other="{{.a}}-{{.b}}"`: a rename (the old name goes) or a
    label set from a template."""

    renames: tuple[tuple[str, str], ...] = ()
    templates: tuple[tuple[str, Template], ...] = ()

    def apply(self, entry: Entry) -> bool:
        labels = entry.labels
        rendered = [(name, render(t, labels)) for name, t in self.templates]
        for new, old in self.renames:
            if old in labels:
                labels[new] = labels.pop(old)
        labels.update(rendered)
        return True


Stage = (
    JsonStage | LogfmtStage | RegexpStage | LabelFilterStage | LineFormatStage | LabelFormatStage
)


def run(stages: tuple[Stage, ...], labels: Labels, line: str) -> tuple[Labels, str] | None:
    """The line's labels and text after the stages, or None if a filter dropped it."""
    entry = Entry(labels, line)
    for stage in stages:
        if not stage.apply(entry):
            return None
    return tuple(sorted(entry.labels.items())), entry.line
