"""Label matchers (`name op "value"`) for silences and alert filters, Alertmanager style."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from orchestrix.domain.regex import Pattern, RegexError, compile_re2, fullmatch

MatchOperator = Literal["=", "!=", "=~", "!~"]
OPERATORS: tuple[MatchOperator, ...] = ("=", "!=", "=~", "!~")


class MatcherError(ValueError):
    """A matcher that does not parse or whose regular expression is invalid."""


@dataclass(frozen=True)
class Matcher:
    name: str
    op: MatchOperator
    value: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.name):
            raise MatcherError(f"invalid label name {self.name!r}")
        if self.op not in OPERATORS:
            raise MatcherError(f"invalid operator {self.op!r}; use one of = != =~ !~")
        if self.op in ("=~", "!~"):
            _compiled(self.value)

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = fullmatch(_compiled(self.value), actual) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "op": self.op, "value": self.value}


def _compiled(pattern: str) -> Pattern:
    """RE2, fully anchored with `.` matching newlines, as Alertmanager compiles matchers."""
    try:
        return compile_re2(pattern, dot_all=True)
    except RegexError as exc:
        raise MatcherError(f"invalid regular expression {pattern!r}: {exc}") from None


_ONE = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^,}"\s]*)\s*')


def parse_matchers(text: str) -> list[Matcher]:
    """`service="api"`, `{a="b", c=~"d.*"}` or `a=b` (amtool's unquoted form)."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    out: list[Matcher] = []
    pos = 0
    while pos < len(body):
        m = _ONE.match(body, pos)
        if m is None:
            raise MatcherError(f'cannot parse matcher {text!r}: expected name="value"')
        raw = m.group(3)
        value = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\") if raw[:1] == '"' else raw
        out.append(Matcher(m.group(1), m.group(2), value))  # type: ignore[arg-type]
        pos = m.end()
        if pos < len(body):
            if body[pos] != ",":
                raise MatcherError(f"cannot parse matcher {text!r} at {body[pos:]!r}")
            pos += 1
    if not out:
        raise MatcherError("empty matcher")
    return out


def matches_all(matchers: list[Matcher] | tuple[Matcher, ...], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
