"""A small, safe template language: `{{ inputs.service }}`, `{{ steps.check.body.items[0] }}`.

An expression is a path, nothing else: no filters, calls or arithmetic, so rendering a
tenant's template can never run code. A path starts at a root (`inputs`, `steps`, `alert`)
and continues with `.name` or `[index]` segments.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from orchestrix.domain.workflow.errors import TemplateError

ROOTS: Final = frozenset({"inputs", "steps", "alert"})
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_PATH_RE: Final = re.compile(rf"{_NAME}(?:\.{_NAME}|\[\d+\])*")
_SEGMENT_RE: Final = re.compile(rf"\.?({_NAME})|\[(\d+)\]")
_MISSING: Final = object()

Segment = str | int


@dataclass(frozen=True)
class Expression:
    source: str  # the text between the braces, stripped
    path: tuple[Segment, ...]

    @property
    def root(self) -> str:
        return str(self.path[0])

    @property
    def jsonpath(self) -> str:
        return to_jsonpath(self.path)


@dataclass(frozen=True)
class Template:
    """Literal text and expressions, in order."""

    parts: tuple[str | Expression, ...]

    @property
    def expressions(self) -> tuple[Expression, ...]:
        return tuple(p for p in self.parts if isinstance(p, Expression))

    @property
    def single(self) -> Expression | None:
        """The expression when the whole template is exactly one `{{ ... }}`."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Expression):
            return self.parts[0]
        return None


def parse_path(text: str) -> tuple[Segment, ...]:
    """Split `steps.check.body[0]` into ('steps', 'check', 'body', 0); TemplateError if bad."""
    if not _PATH_RE.fullmatch(text):
        raise TemplateError(f"invalid path {text!r}: use names and [index], e.g. inputs.service")
    segments: list[Segment] = []
    for match in _SEGMENT_RE.finditer(text):
        name, index = match.groups()
        segments.append(name if name is not None else int(index))
    if segments[0] not in ROOTS:
        roots = ", ".join(sorted(ROOTS))
        raise TemplateError(f"unknown root {segments[0]!r} in {text!r}; expected one of {roots}")
    return tuple(segments)


def to_jsonpath(path: Sequence[Segment]) -> str:
    """The Step Functions (JSONPath) reference to the same value in the execution state."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def parse(text: str) -> Template:
    """Parse a template string; TemplateError names the first problem."""
    parts: list[str | Expression] = []
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            break
        end = text.find("}}", start + 2)
        if end < 0:
            raise TemplateError(f"unclosed '{{{{' at offset {start}")
        if start > pos:
            parts.append(text[pos:start])
        source = text[start + 2 : end].strip()
        if not source:
            raise TemplateError(f"empty expression at offset {start}")
        if "{{" in source:
            raise TemplateError(f"nested '{{{{' at offset {start}")
        parts.append(Expression(source, parse_path(source)))
        pos = end + 2
    if pos < len(text):
        parts.append(text[pos:])
    return Template(tuple(parts))


def lookup(context: Mapping[str, Any], path: Sequence[Segment]) -> Any:
    """The value at `path` in `context`, or the module's missing marker (see `is_missing`)."""
    value: Any = context
    for segment in path:
        if isinstance(segment, int):
            if not isinstance(value, list) or segment >= len(value):
                return _MISSING
            value = value[segment]
        else:
            if not isinstance(value, Mapping) or segment not in value:
                return _MISSING
            value = value[segment]
    return value


def is_missing(value: object) -> bool:
    return value is _MISSING


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or value is _MISSING:
        return ""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def render(text: str, context: Mapping[str, Any], *, strict: bool = False) -> str:
    """Render to text. Missing values render empty, or raise TemplateError when `strict`."""
    out: list[str] = []
    for part in parse(text).parts:
        if isinstance(part, str):
            out.append(part)
            continue
        value = lookup(context, part.path)
        if strict and (value is _MISSING or value is None):
            raise TemplateError(f"no value for {{{{ {part.source} }}}}")
        out.append(_as_text(value))
    return "".join(out)


def render_value(value: Any, context: Mapping[str, Any], *, strict: bool = False) -> Any:
    """Render every string inside a JSON value. A string that is exactly one expression
    takes the referenced value with its type (so `"{{ inputs.count }}"` stays a number)."""
    if isinstance(value, str):
        single = parse(value).single
        if single is not None:
            found = lookup(context, single.path)
            if found is _MISSING:
                if strict:
                    raise TemplateError(f"no value for {{{{ {single.source} }}}}")
                return None
            return found
        return render(value, context, strict=strict)
    if isinstance(value, Mapping):
        return {k: render_value(v, context, strict=strict) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, context, strict=strict) for v in value]
    return value
