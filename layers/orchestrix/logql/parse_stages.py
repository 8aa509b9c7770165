"""The pipeline stages after a `|`: parsers, label filters, formatting, `drop`, `unwrap`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Literal

from orchestrix.domain.regex import RegexError, compile_re2
from orchestrix.logql.ast import LogQLError
from orchestrix.logql.lexer import Tokens, unquote
from orchestrix.logql.model import LabelDrop, Sample
from orchestrix.logql.stages import (
    CONVERTERS,
    JsonPath,
    JsonStage,
    LabelBoolean,
    LabelCompare,
    LabelExpr,
    LabelFilterStage,
    LabelFormatStage,
    LineFormatStage,
    LogfmtStage,
    RegexpStage,
    Stage,
    Template,
)
from orchestrix.promql.storage import LabelMatcher


class PipelineParser(Tokens):
    """Parses one stage at the cursor; parse.py's parser calls it for each `|`."""

    def stage(self, position: int) -> Stage:
        """The stage after a `|` (not `drop` or `unwrap`)."""
        token = self.peek()
        if token is None:
            raise LogQLError("parse error: unexpected end of query after |")
        name = token[1]
        if token[0] == "ident" and name in _STAGE_PARSERS:
            self.i += 1
            return _STAGE_PARSERS[name](self)
        if token[0] == "ident" and name in _UNSUPPORTED_STAGES:
            raise LogQLError(
                f"parse error at position {position}: the stage | {name} is not supported "
                "(line filters, json, logfmt, regexp, pattern, label filters, line_format, "
                "label_format, drop and unwrap are)"
            )
        if (token[0] == "ident" and self._is_comparison(1)) or self.at("("):
            return LabelFilterStage(self.label_or())
        raise LogQLError(
            f"parse error at position {token[2]}: expected a parser, a label filter or a "
            f"formatting stage after |, got {name!r}"
        )

    def _is_comparison(self, offset: int) -> bool:
        token = self.peek(offset)
        return token is not None and token[0] == "op" and token[1] in _LABEL_OPS

    def json_stage(self) -> JsonStage:
        extractions: list[tuple[str, JsonPath]] = []
        while (token := self.peek()) is not None and token[0] == "ident":
            name = self.take(kind="ident")
            path = name
            if self.at("="):
                self.take("=")
                path = unquote(self.take(kind="string"))
            extractions.append((name, _json_path(path)))
            if not self.at(","):
                break
            self.take(",")
        return JsonStage(tuple(extractions))

    def regexp_stage(self) -> RegexpStage:
        source = unquote(self.take(kind="string"))
        try:
            pattern = compile_re2(source)
        except RegexError as exc:
            raise LogQLError(f"invalid regular expression {source!r}: {exc}") from None
        if not pattern.groupindex:
            raise LogQLError(f"the regexp {source!r} has no named group (?P<name>...)")
        return RegexpStage(source, pattern)

    def pattern_stage(self) -> RegexpStage:
        """`| pattern "<ip> - <_> [<ts>] <_>"` as the regexp it means: a capture runs to the
        first occurrence of the literal after it, or to the end of the line."""
        source = unquote(self.take(kind="string"))
        parts = _CAPTURE.split(source)  # literal, name, literal, name, ..., literal
        names = parts[1::2]
        if not any(name != "_" for name in names):
            raise LogQLError(f"the pattern {source!r} has no named capture <name>")
        if any(parts[i] == "" for i in range(2, len(parts) - 1, 2)):
            raise LogQLError(f"the pattern {source!r} has two captures with nothing between")
        regex = "(?s)" + ("^" if parts[0] == "" else "")
        for i, part in enumerate(parts):
            if i % 2 == 0:
                regex += "".join(c if c.isalnum() or not c.isascii() else "\\" + c for c in part)
            else:
                lazy = "" if i == len(parts) - 2 and parts[-1] == "" else "?"
                regex += f"(?:.*{lazy})" if part == "_" else f"(?P<{part}>.*{lazy})"
        try:
            return RegexpStage(source, compile_re2(regex))
        except RegexError as exc:
            raise LogQLError(f"invalid pattern {source!r}: {exc}") from None

    def line_format_stage(self) -> LineFormatStage:
        return LineFormatStage(_template(unquote(self.take(kind="string"))))

    def label_format_stage(self) -> LabelFormatStage:
        renames: list[tuple[str, str]] = []
        templates: list[tuple[str, Template]] = []
        while True:
            name = self.take(kind="ident")
            self.take("=")
            token = self.peek()
            if token is not None and token[0] == "string":
                self.i += 1
                templates.append((name, _template(unquote(token[1]))))
            else:
                renames.append((name, self.take(kind="ident")))
            if not self.at(","):
                return LabelFormatStage(tuple(renames), tuple(templates))
            self.take(",")

    def after_unwrap(self, sample: Sample, position: int) -> Sample:
        """A label filter after `| unwrap` (such as `| __error__=""`): it sees the labels
        after the value's extraction, so it can drop the lines that failed it."""
        token = self.peek()
        if not (
            (token is not None and token[0] == "ident" and self._is_comparison(1)) or self.at("(")
        ):
            raise LogQLError(
                f"parse error at position {position}: only label filters may follow | unwrap"
            )
        return replace(sample, filters=(*sample.filters, self.label_or()))

    def unwrap(self) -> Sample:
        name = self.take(kind="ident")
        if name in _UNWRAP_CONVERSIONS and self.at("("):
            self.take("(")
            label = self.take(kind="ident")
            self.take(")")
            return Sample(label, _UNWRAP_CONVERSIONS[name])
        return Sample(name, "number")

    def label_or(self) -> LabelExpr:
        expr = self.label_and()
        while self._keyword("or"):
            expr = LabelBoolean("or", expr, self.label_and())
        return expr

    def label_and(self) -> LabelExpr:
        expr = self.label_primary()
        while True:
            token = self.peek()
            if token is not None and token[0] == "ident" and token[1] == "and" or self.at(","):
                self.i += 1
            elif not (token is not None and token[0] == "ident" and self._is_comparison(1)):
                return expr  # `a="x" b="y"`: a space also means and, as in Loki
            expr = LabelBoolean("and", expr, self.label_primary())

    def label_primary(self) -> LabelExpr:
        if self.at("("):
            self.take("(")
            inner = self.label_or()
            self.take(")")
            return inner
        name = self.take(kind="ident")
        token = self.peek()
        if token is None or not self._is_comparison(0):
            found = "end of query" if token is None else repr(token[1])
            where = f" at position {token[2]}" if token else ""
            raise LogQLError(f"parse error{where}: expected a comparison after {name}, got {found}")
        self.i += 1
        op = token[1]
        value = self.peek()
        if value is None:
            raise LogQLError("parse error: unexpected end of query, expected a value")
        if value[0] == "string":
            self.i += 1
            if op not in ("=", "==", "!=", "=~", "!~"):
                raise LogQLError(
                    f"parse error at position {token[2]}: {op} compares numbers, durations "
                    "or sizes, not strings"
                )
            try:
                matcher = LabelMatcher.of(name, "=" if op == "==" else op, unquote(value[1]))
            except ValueError as exc:
                raise LogQLError(str(exc)) from None
            return LabelCompare(name, op, "string", matcher=matcher)
        if op in ("=~", "!~"):
            raise LogQLError(f"parse error at position {token[2]}: {op} takes a string")
        sign = 1.0
        if value[:2] == ("op", "-"):
            self.i += 1
            sign = -1.0
            value = self.peek() or value
        self.i += 1
        if value[0] == "number":
            return LabelCompare(name, op, "number", sign * float(value[1]))
        if value[0] == "unit":
            kinds: tuple[LabelKind, ...] = ("duration", "bytes")
            for kind in kinds:
                try:
                    number = CONVERTERS[kind](value[1])
                except ValueError:
                    continue
                return LabelCompare(name, op, kind, sign * number)
        raise LogQLError(
            f"parse error at position {value[2]}: expected a string, number, duration or "
            f"size, got {value[1]!r}"
        )

    def drop_list(self) -> list[LabelDrop]:
        """`| drop a, b="x", c=~"y.*"` after its keyword: the labels to drop (Grafana's logs
        volume query drops `__error__`, which no stream here carries)."""
        found = []
        while True:
            name = self.take(kind="ident")
            matcher = None
            token = self.peek()
            if token is not None and token[1] in ("=", "!=", "=~", "!~"):
                self.i += 1
                value = unquote(self.take(kind="string"))
                try:
                    matcher = LabelMatcher.of(name, token[1], value)
                except ValueError as exc:
                    raise LogQLError(str(exc)) from None
            found.append(LabelDrop(name, matcher))
            if not self.at(","):
                return found
            self.take(",")


_STAGE_PARSERS: dict[str, Callable[[PipelineParser], Stage]] = {
    "json": PipelineParser.json_stage,
    "logfmt": lambda parser: LogfmtStage(),
    "regexp": PipelineParser.regexp_stage,
    "pattern": PipelineParser.pattern_stage,
    "line_format": PipelineParser.line_format_stage,
    "label_format": PipelineParser.label_format_stage,
}
_UNSUPPORTED_STAGES = ("unpack", "keep", "decolorize", "distinct")
_LABEL_OPS = ("=", "==", "!=", "=~", "!~", ">", ">=", "<", "<=")
_UNWRAP_CONVERSIONS: dict[str, Literal["duration", "bytes"]] = {
    "duration": "duration",
    "duration_seconds": "duration",
    "bytes": "bytes",
}
LabelKind = Literal["number", "duration", "bytes"]
_JSON_STEP = re.compile(r'\.?([a-zA-Z_][a-zA-Z0-9_\-]*)|\[([0-9]+)\]|\["((?:[^"\\]|\\.)*)"\]')
_CAPTURE = re.compile(r"<(_|[a-zA-Z_][a-zA-Z0-9_]*)>")
_FIELD = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.DOTALL)
_LABEL_NAME = re.compile(r"\.([a-zA-Z_][a-zA-Z0-9_]*)")


def _json_path(text: str) -> JsonPath:
    """`a.b[0]["c.d"]` as (a, b, 0, "c.d")."""
    steps: list[str | int] = []
    pos = 0
    while pos < len(text):
        match = _JSON_STEP.match(text, pos)
        if match is None or (match.group(1) and pos and text[pos] != "."):
            raise LogQLError(f"invalid JSON expression {text!r} at character {pos + 1}")
        name, index, quoted = match.groups()
        steps.append(
            int(index) if index is not None else name if name else json.loads(f'"{quoted}"')
        )
        pos = match.end()
    if not steps:
        raise LogQLError("an empty JSON expression")
    return tuple(steps)


def _template(text: str) -> Template:
    """A Go template of literal text and `{{.label}}` fields (nothing else is supported)."""
    parts: list[str | tuple[str]] = []
    pos = 0
    for match in _FIELD.finditer(text):
        parts.append(text[pos : match.start()])
        field = _LABEL_NAME.fullmatch(match.group(1))
        if field is None:
            raise LogQLError(
                f"template {text!r}: only {{{{.label}}}} fields are supported, "
                f"not {match.group(0)!r} (at character {match.start() + 1})"
            )
        parts.append((field.group(1),))
        pos = match.end()
    parts.append(text[pos:])
    return tuple(p for p in parts if p != "")
