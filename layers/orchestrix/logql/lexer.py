"""LogQL's tokens, strings and durations, and the cursor a parser moves over them."""

from __future__ import annotations

import re

from orchestrix.logql.ast import LogQLError

MAX_QUERY_LENGTH = 16 * 1024
MAX_DURATION_NS = 3650 * 86400 * 10**9

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\]|\\.)*"|`[^`]*`)
    | (?P<duration>\[\s*[0-9][0-9a-z.]*\s*\])
    | (?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![0-9a-zA-Z]))
    | (?P<unit>[0-9]+(?:\.[0-9]+)?[a-zA-Z]+(?:[0-9]+(?:\.[0-9]+)?[a-zA-Z]+)*)
    | (?P<op>\|=|\|~|!=|!~|=~|==|>=|<=|[{}(),=<>|+\-*/%^])
    | (?P<ident>[a-zA-Z_][a-zA-Z0-9_]*)
    )""",
    re.VERBOSE,
)
_UNITS_NS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9}
_DURATION_PART = re.compile(r"([0-9]+)(ms|s|m|h|d)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'", "0": "\x00"}


def parse_duration_ns(text: str) -> int:
    """`5m`, `1h30m`, `250ms` as nanoseconds (Prometheus' duration syntax, no `y`/`w`)."""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise LogQLError(f'invalid duration "{text}"')
    total = sum(int(n) * _UNITS_NS[u] for n, u in parts)
    if not 0 < total <= MAX_DURATION_NS:
        raise LogQLError(f'duration "{text}" must be positive and at most 10 years')
    return total


def unquote(token: str) -> str:
    if token.startswith("`"):
        return token[1:-1]
    out: list[str] = []
    body = token[1:-1]
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt not in _ESCAPES:
                raise LogQLError(f"unknown escape sequence \\{nxt} in {token}")
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


class Tokens:
    """A query's tokens, (kind, text, 1-based position), and a cursor over them."""

    def __init__(self, text: str) -> None:
        if len(text) > MAX_QUERY_LENGTH:
            raise LogQLError(f"query longer than {MAX_QUERY_LENGTH} characters")
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            match = _TOKEN.match(text, pos)
            if match is None or match.lastgroup is None:
                pos += len(text[pos:]) - len(text[pos:].lstrip())
                raise LogQLError(f"parse error at position {pos + 1}: unexpected {text[pos]!r}")
            start = match.start(match.lastgroup)
            self.tokens.append((match.lastgroup, match.group(match.lastgroup), start + 1))
            pos = match.end()
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str, int] | None:
        at = self.i + offset
        return self.tokens[at] if at < len(self.tokens) else None

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        token = self.peek()
        if token is None:
            raise LogQLError(f"parse error: unexpected end of query, expected {value or kind}")
        if (value is not None and token[1] != value) or (kind is not None and token[0] != kind):
            raise LogQLError(
                f"parse error at position {token[2]}: expected {value or kind}, got {token[1]!r}"
            )
        self.i += 1
        return token[1]

    def at(self, value: str) -> bool:
        token = self.peek()
        return token is not None and token[1] == value and token[0] != "string"

    def _keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "ident" and token[1] == word:
            self.i += 1
            return True
        return False
