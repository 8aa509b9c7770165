"""Regular expressions a tenant writes: compiled with RE2, Prometheus' own dialect.

Python's ``re`` backtracks, so ``(a+)+b`` against 26 ``a`` takes seconds and blocks every
tenant sharing the process. RE2 (google-re2) matches in time linear in the input, refuses
what cannot be matched that way (backreferences, lookarounds) and bounds the memory of a
compiled program (``max_mem``): the work per match is bounded by pattern size x input size.

Every pattern from a query, a matcher, a rule or a template goes through :func:`compile_re2`;
Python's ``re`` stays for our own fixed patterns only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol

import re2

# RE2's default program budget (8 MiB); a pattern needing more is refused at compile time.
MAX_PROGRAM_MEMORY = 8 << 20
MAX_PATTERN_LENGTH = 16 * 1024


class RegexError(ValueError):
    """A pattern RE2 refuses; the message is RE2's reason."""


class Match(Protocol):
    def group(self, index: int | str = 0, /) -> str | None: ...

    def start(self, index: int = 0, /) -> int: ...

    def end(self, index: int = 0, /) -> int: ...


class Pattern(Protocol):
    """The part of google-re2's compiled pattern we use (the same as ``re.Pattern``'s)."""

    groups: int
    groupindex: dict[str, int]

    def fullmatch(self, text: str) -> Match | None: ...

    def search(self, text: str) -> Match | None: ...

    def sub(self, repl: Callable[[Match], str], text: str) -> str: ...


def compile_re2(pattern: str, *, dot_all: bool = False) -> Pattern:
    """Compile ``pattern`` with RE2; ``dot_all`` makes ``.`` match newlines (``(?s)``).

    Raises :class:`RegexError` for a pattern RE2 refuses or one longer than
    ``MAX_PATTERN_LENGTH``.
    """
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise RegexError(f"pattern longer than {MAX_PATTERN_LENGTH} characters")
    return _compile(pattern, dot_all)


@lru_cache(maxsize=4096)
def _compile(pattern: str, dot_all: bool) -> Pattern:
    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern on stderr
    options.max_mem = MAX_PROGRAM_MEMORY
    options.dot_nl = dot_all
    try:
        compiled: Pattern = re2.compile(pattern, options)
    except re2.error as exc:
        raise RegexError(_reason(exc)) from None
    except UnicodeError:
        raise RegexError("pattern is not valid UTF-8") from None
    return compiled


def _reason(exc: Exception) -> str:
    arg = exc.args[0] if exc.args else str(exc)
    return arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)


def fullmatch(pattern: Pattern, text: str) -> Match | None:
    """``pattern.fullmatch(text)``; text that is not valid UTF-8 (lone surrogates) never matches."""
    try:
        return pattern.fullmatch(text)
    except UnicodeError:
        return None


def search(pattern: Pattern, text: str) -> Match | None:
    try:
        return pattern.search(text)
    except UnicodeError:
        return None


_TEMPLATE = re.compile(r"\$(?:\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")


def expand_template(template: str, m: Match, groups: int) -> str:
    """Go's regexp.Expand: ``$1``, ``${1}``, ``$name``, ``$$``; unknown groups expand empty."""

    def repl(t: re.Match[str]) -> str:
        name = t.group(1) or t.group(2)
        if name is None:
            return "$"
        if name.isdigit():
            idx = int(name)
            return (m.group(idx) or "") if idx <= groups else ""
        try:
            return m.group(name) or ""
        except IndexError:
            return ""

    return _TEMPLATE.sub(repl, template)
