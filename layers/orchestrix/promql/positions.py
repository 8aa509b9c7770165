"""Where in the query a parse error is, as Prometheus' `line:column` (`1:14: parse error: …`).

promql-parser reports no positions (and a bare "invalid promql query" for most syntax
errors), so the position is recovered from the text per kind of error, matching what
Prometheus' lexer and parser report (checked against Prometheus on each case of the tests):
- input that ends too early: the end of the input;
- an unbalanced `)`: just after it;
- an unknown function or a wrong argument count: the function's name; a wrong argument
  type: that argument;
- an invalid regex: the matcher's label name; an unterminated string: its opening quote;
- any other syntax error: the first token after which no continuation can make the text
  parse (found by parsing prefixes that end at token boundaries).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import promql_parser as pp

from .gostr import unquote

_GENERIC = "invalid promql query"
_END_OF_INPUT = ("unclosed left", "unexpected end of input")
_ARG_TYPE = re.compile(r"expected type (\w+) in call to function '(\w+)', got (\w+)")
_ARG_COUNT = re.compile(r"expected (\d+) argument\(s\) in call to '(\w+)', got (\d+)")
_UNKNOWN_FUNCTION = re.compile(r"unknown function with name '(\w+)'")
_ILLEGAL_REGEX = "illegal regex for "
_REGEX_MATCHER = re.compile(
    r"""([A-Za-z_]\w*)\s*[=!]~\s*("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)"""
)
_TYPE_NAMES = {"matrix": "range vector", "vector": "instant vector"}
# What may follow a prefix that is merely incomplete, before the brackets it leaves open are
# closed (and, after them, _AFTER): if none makes it parse, its last token is the culprit.
_FILLERS = ("", " 1", " x", "x", "1", '""', '=""', "5m", "(x)", " (x)", "x) (x", " x) (x",
            " (x) (x)", " by (x) (x)", "x[5m]", " x[5m]")  # fmt: skip
_OPERATORS = frozenset({"+", "-", "*", "/", "%", "^", "==", "!=", "<", ">", "<=", ">=", "and",
                        "or", "unless", "atan2"})  # fmt: skip
_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right",
                       "offset", "bool"})  # fmt: skip
_AFTER = ("", " (x)")
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
# The prefix search parses the text once per token and completion: bounded, for an error
# message is not worth seconds of CPU on a huge query (those get 1:1).
_MAX_SEARCH_TOKENS = 500
_TOKEN = re.compile(r"\s+|#[^\n]*|\"(?:\\.|[^\"\\])*\"?|'(?:\\.|[^'\\])*'?|`[^`]*`?"
                    r"|[A-Za-z_:][\w:]*|\d[\w.]*|[=!<>]=|=~|!~|.", re.DOTALL)  # fmt: skip


def line_col(text: str, index: int) -> str:
    """Prometheus' `line:column` of a character index (both counted from 1)."""
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"{line}:{column}"


def _parses(text: str) -> bool:
    try:
        pp.parse(text)
    except BaseException as exc:  # the Rust extension may panic (PanicException)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        return False
    return True


def _code_positions(text: str) -> list[tuple[int, str]]:
    """(index, token) of every token outside whitespace and comments."""
    return [(m.start(), m.group()) for m in _TOKEN.finditer(text) if not m.group().isspace()
            and not m.group().startswith("#")]  # fmt: skip


def _open_closers(text: str) -> str:
    stack: list[str] = []
    for _, token in _code_positions(text):
        if token in _CLOSERS:
            stack.append(token)
        elif token in (")", "]", "}") and stack:
            stack.pop()
    return "".join(_CLOSERS[c] for c in reversed(stack))


def _unbalanced_close(text: str) -> int | None:
    depth = 0
    for index, token in _code_positions(text):
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
            if depth < 0:
                return index
    return None


def _call_at(text: str, name: str, accept: Callable[[str], bool]) -> int | None:
    """Index of the first call `name(` whose text on its own fails as `accept` says."""
    tokens = _code_positions(text)
    for i, (index, token) in enumerate(tokens[:-1]):
        if token != name or tokens[i + 1][1] != "(":
            continue
        depth, end = 0, len(text)
        for close_index, close in tokens[i + 1 :]:
            depth += close == "("
            depth -= close == ")"
            if depth == 0:
                end = close_index + 1
                break
        if accept(text[index:end]):
            return index
    return None


def _fails_with(message: str) -> Callable[[str], bool]:
    def accept(call: str) -> bool:
        try:
            pp.parse(call)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            return str(exc) == message
        return False

    return accept


def _regex_matcher(text: str, pattern: str) -> int:
    """Index of the label name of the first regex matcher with this pattern."""
    found = list(_REGEX_MATCHER.finditer(text))
    for match in found:
        try:
            if unquote(match.group(2)) == pattern:
                return match.start()
        except ValueError:
            continue
    return found[0].start() if found else 0


def _dead_prefix(text: str) -> int | None:
    """Index of the first token after which no completion makes the prefix parse."""
    tokens = _code_positions(text)
    if len(tokens) > _MAX_SEARCH_TOKENS:
        return None
    stack: list[str] = []
    for index, token in tokens:
        if token in _CLOSERS:
            stack.append(token)
        elif token in (")", "]", "}") and stack:
            stack.pop()
        prefix = text[: index + len(token)]
        if not _can_complete(prefix, "".join(_CLOSERS[c] for c in reversed(stack))):
            return index
    return None


def _can_complete(prefix: str, closers: str) -> bool:
    return any(_parses(prefix + f + closers + a) for f in _FILLERS for a in _AFTER)


def _unexpected(text: str, index: int, fallback: str) -> str:
    """Prometheus' "unexpected <token>" for the token at `index`."""
    token = next(t for i, t in _code_positions(text[index:]) if i == 0)
    lowered = token.lower()
    if lowered in _OPERATORS:
        return f"unexpected <op:{lowered}>"
    if lowered in _KEYWORDS:
        return f"unexpected <{lowered}>"
    if token[0].isalpha() or token[0] in "_:":
        return f'unexpected identifier "{token}"'
    if token[0].isdigit():
        return f'unexpected number "{token}"'
    return fallback


def locate(text: str, message: str) -> tuple[int, str]:
    """(character index, Prometheus' wording) of a promql-parser error message."""
    if message == _GENERIC:
        if len(text) < 10_000 and _can_complete(text, _open_closers(text)):
            return len(text), "unexpected end of input"
        found = _dead_prefix(text)
        return (0, message) if found is None else (found, _unexpected(text, found, message))
    if message.startswith(_ILLEGAL_REGEX):
        return _regex_matcher(text, message[len(_ILLEGAL_REGEX) :]), message
    if message.startswith(_END_OF_INPUT):
        return len(text), message
    if message.startswith("unexpected right parenthesis"):
        close = _unbalanced_close(text)
        return (0 if close is None else close + 1), message
    if message.startswith("unterminated quoted string"):
        quote = next((i for i, t in _code_positions(text) if t[0] in "\"'`"
                      and (len(t) == 1 or t[-1] != t[0])), 0)  # fmt: skip
        return quote, "unterminated quoted string"
    if match := _ARG_TYPE.fullmatch(message):
        want, name, got = match.groups()
        wording = (
            f"expected type {_TYPE_NAMES.get(want, want)} in call to function "
            f'"{name}", got {_TYPE_NAMES.get(got, got)}'
        )
        call = _call_at(text, name, _fails_with(message))
        if call is None:
            return 0, wording
        argument = next(i for i, t in _code_positions(text[call:]) if t == "(") + 1
        while text[call + argument].isspace():
            argument += 1
        return call + argument, wording
    if match := _ARG_COUNT.fullmatch(message):
        want, name, got = match.groups()
        call = _call_at(text, name, _fails_with(message))
        return (call or 0), f'expected {want} argument(s) in call to "{name}", got {got}'
    if match := _UNKNOWN_FUNCTION.fullmatch(message):
        name = match.group(1)
        call = _call_at(text, name, lambda _: True)
        return (call or 0), f'unknown function with name "{name}"'
    return 0, message
