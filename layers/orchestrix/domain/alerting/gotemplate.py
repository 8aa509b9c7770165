"""The subset of Go's text/template that Prometheus alert templates are written in.

Supported: `{{ pipeline }}` with `|`, variables (`$labels.x`, `$value`, `$x := ...`), fields
(`.Labels.x`, `.Value`), string/number/bool literals, parenthesised pipelines, `if`/`else if`/
`else`, `with`, `range` over maps and lists, `{{- -}}` trimming and `{{/* comments */}}`.
Templates only read the data they are given and call the functions in `FUNCS`: no attribute
access on Python objects, bounded output and loop counts, so a template cannot hurt us.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrix.domain.alerting.gofmt import format_value

MAX_OUTPUT = 64 * 1024
MAX_STEPS = 10_000


class TemplateError(Exception):
    """A template that does not parse (at save time) or fails while rendering."""


@dataclass
class _Action:
    pipe: list[Any]  # the parsed pipeline
    decl: str | None = None


@dataclass
class _Block:
    kind: str  # "if" | "with" | "range"
    pipe: list[Any]
    body: list[Any] = field(default_factory=list)
    alt: list[Any] = field(default_factory=list)
    decl: tuple[str, ...] = ()


# The parsed tree's node types, public for callers that check a template against the shape
# of the data they will give it (post-mortem templates do, when a tenant saves one).
Action = _Action
Block = _Block

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\\n]|\\.)*") | (?P<raw>`[^`]*`) | (?P<char>'(?:[^'\\]|\\.)')
    | (?P<num>[-+]?(?:0[xX][0-9a-fA-F]+|\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?))
    | (?P<decl>:=|=) | (?P<pipe>\|) | (?P<lp>\() | (?P<rp>\)) | (?P<comma>,)
    | (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
    | (?P<field>(?:\.[A-Za-z0-9_]+)+|\.)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


def _lex(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise TemplateError(f"unexpected {text[pos:].split()[0]!r} in command")
        pos = m.end()
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
    return out


class _Parser:
    def __init__(self, name: str, text: str, funcs: dict[str, Callable[..., Any]]) -> None:
        self.name, self.text, self.funcs = name, text, funcs
        self.known = {"$", "$labels", "$externalLabels", "$externalURL", "$value"}

    def error(self, offset: int, msg: str) -> TemplateError:
        line = self.text.count("\n", 0, offset) + 1
        return TemplateError(f"template: {self.name}:{line}: {msg}")

    def parse(self) -> list[Any]:
        root: list[Any] = []
        stack: list[tuple[_Block, list[Any], int]] = []
        cur = root
        pos = 0
        trim_next = False
        for m in _ACTION.finditer(self.text):
            chunk = self.text[pos : m.start()]
            if trim_next:
                chunk = chunk.lstrip()
            if m.group(1):
                chunk = chunk.rstrip()
            if chunk:
                cur.append(chunk)
            pos, trim_next = m.end(), bool(m.group(3))
            body = m.group(2).strip()
            if body.startswith("/*"):
                if not body.endswith("*/"):
                    raise self.error(m.start(), "unclosed comment")
                continue
            word, _, rest = body.partition(" ")
            try:
                if word in ("if", "with", "range"):
                    block = self._block(word, rest)
                    cur.append(block)
                    stack.append((block, cur, m.start()))
                    cur = block.body
                elif word == "else":
                    if not stack or stack[-1][0].alt or cur is stack[-1][0].alt:
                        raise self.error(m.start(), "unexpected {{else}}")
                    block = stack[-1][0]
                    cur = block.alt
                    sub, _, cond = rest.strip().partition(" ")
                    if sub in ("if", "with"):  # `else if` chains open a nested block
                        nested = self._block(sub, cond)
                        cur.append(nested)
                        stack.append((nested, cur, -1))
                        cur = nested.body
                elif word == "end":
                    if not stack:
                        raise self.error(m.start(), "unexpected {{end}}")
                    while True:
                        _, cur, opened = stack.pop()
                        if opened >= 0 or not stack:
                            break
                elif word in ("define", "template", "block", "break", "continue"):
                    raise self.error(m.start(), f"{{{{{word}}}}} is not supported here")
                elif not body:
                    raise self.error(m.start(), "missing value for command")
                else:
                    decl, pipe = self._pipeline(body)
                    cur.append(_Action(pipe, decl))
            except TemplateError as exc:
                if str(exc).startswith("template:"):
                    raise
                raise self.error(m.start(), str(exc)) from None
        tail = self.text[pos:]
        if "{{" in tail:
            raise self.error(pos + tail.index("{{"), "unclosed action")
        if trim_next:
            tail = tail.lstrip()
        if tail:
            cur.append(tail)
        if stack:
            raise self.error(len(self.text), "unexpected EOF")
        return root

    def _block(self, kind: str, rest: str) -> _Block:
        if not rest.strip():
            raise TemplateError(f"missing value for {kind}")
        decl: tuple[str, ...] = ()
        m = re.match(r"\s*(\$\w*)\s*(?:,\s*(\$\w*)\s*)?:=", rest)
        if m and kind == "range":
            decl = tuple(g for g in m.groups() if g)
            self.known.update(decl)
            rest = rest[m.end() :]
        d, pipe = self._pipeline(rest)
        if d and kind != "range":
            decl = (d,)
        return _Block(kind, pipe, decl=decl)

    def _pipeline(self, text: str) -> tuple[str | None, list[Any]]:
        tokens = _lex(text)
        decl = None
        if len(tokens) >= 2 and tokens[0][0] == "var" and tokens[1][0] == "decl":
            decl = tokens[0][1]
            self.known.add(decl)
            tokens = tokens[2:]
        pipe, rest = self._commands(tokens)
        if rest:
            raise TemplateError(f"unexpected {rest[0][1]!r} in command")
        return decl, pipe

    def _commands(self, tokens: list[tuple[str, str]]) -> tuple[list[Any], list[tuple[str, str]]]:
        commands: list[list[Any]] = [[]]
        while tokens:
            kind, val = tokens[0]
            if kind == "rp":
                break
            tokens = tokens[1:]
            if kind == "pipe":
                if not commands[-1]:
                    raise TemplateError("missing command before |")
                commands.append([])
            elif kind == "lp":
                inner, tokens = self._commands(tokens)
                if not tokens or tokens[0][0] != "rp":
                    raise TemplateError("unclosed left paren")
                tokens = tokens[1:]
                commands[-1].append(("pipe", inner))
            elif kind == "ident":
                if val in ("true", "false"):
                    commands[-1].append(("lit", val == "true"))
                elif val == "nil":
                    commands[-1].append(("lit", None))
                elif val not in self.funcs:
                    raise TemplateError(f'function "{val}" not defined')
                else:
                    commands[-1].append(("func", val))
            elif kind in ("str", "raw", "char", "num"):
                commands[-1].append(("lit", _literal(kind, val)))
            elif kind in ("var", "field"):
                if kind == "var" and val.split(".")[0] not in self.known:
                    raise TemplateError(f'undefined variable "{val.split(".")[0]}"')
                commands[-1].append((kind, val))
            else:
                raise TemplateError(f"unexpected {val!r} in command")
        if not commands[-1]:
            raise TemplateError("missing value for command")
        return commands, tokens


def _literal(kind: str, val: str) -> Any:
    if kind == "raw":
        return val[1:-1]
    if kind in ("str", "char"):
        body = val[1:-1]
        out = body.encode("latin-1", "backslashreplace").decode("unicode_escape")
        return ord(out) if kind == "char" else out
    if re.fullmatch(r"[-+]?(0[xX][0-9a-fA-F]+|\d+)", val):
        return int(val, 0)
    return float(val)


def truthy(v: Any) -> bool:
    if v is None or v is False:
        return False
    if isinstance(v, int | float | str | list | dict | tuple):
        return bool(v)
    return True


class Template:
    """A parsed template; `render(data, variables)` executes it."""

    def __init__(
        self,
        name: str,
        text: str,
        funcs: dict[str, Callable[..., Any]],
        *,
        max_output: int = MAX_OUTPUT,
        max_steps: int = MAX_STEPS,
    ) -> None:
        """`max_output`/`max_steps` bound one render; documents (post-mortems) are larger
        than an alert annotation and take larger bounds."""
        self.name = name
        self.funcs = funcs
        self.max_output, self.max_steps = max_output, max_steps
        try:
            self.tree = _Parser(name, text, funcs).parse()
        except RecursionError:  # thousands of nested parentheses or blocks
            raise TemplateError(f"template: {name}: nested too deeply") from None

    def render(self, data: Any, variables: dict[str, Any]) -> str:
        out: list[str] = []
        ex = _Exec(self, out, {"$": data, **variables})
        try:
            ex.run(self.tree, data)
        except TemplateError:
            raise
        except RecursionError:
            raise TemplateError(f"template: {self.name}: nested too deeply") from None
        except Exception as exc:  # a function given the wrong type (`toUpper 5`), ...
            raise TemplateError(f"template: {self.name}: {_describe(exc)}") from None
        return "".join(out)


class _Exec:
    def __init__(self, tmpl: Template, out: list[str], variables: dict[str, Any]) -> None:
        self.tmpl, self.out, self.vars = tmpl, out, variables
        self.size = 0
        self.steps = 0

    def emit(self, text: str) -> None:
        self.size += len(text)
        if self.size > self.tmpl.max_output:
            limit = self.tmpl.max_output
            raise TemplateError(f"template: {self.tmpl.name}: output exceeds {limit} bytes")
        self.out.append(text)

    def run(self, nodes: list[Any], dot: Any) -> None:
        for node in nodes:
            self.steps += 1
            if self.steps > self.tmpl.max_steps:
                raise TemplateError(f"template: {self.tmpl.name}: too many steps")
            if isinstance(node, str):
                self.emit(node)
            elif isinstance(node, _Action):
                value = self.pipe(node.pipe, dot)
                if node.decl:
                    self.vars[node.decl] = value
                else:
                    self.emit(format_value(value))
            else:
                self.block(node, dot)

    def block(self, node: _Block, dot: Any) -> None:
        value = self.pipe(node.pipe, dot)
        if node.kind == "range":
            items = _range_items(value)
            if not items:
                self.run(node.alt, dot)
            for key, item in items:
                if len(node.decl) == 2:
                    self.vars[node.decl[0]], self.vars[node.decl[1]] = key, item
                elif node.decl:
                    self.vars[node.decl[0]] = item
                self.run(node.body, item)
            return
        if node.decl:
            self.vars[node.decl[0]] = value
        if truthy(value):
            self.run(node.body, value if node.kind == "with" else dot)
        else:
            self.run(node.alt, dot)

    def pipe(self, commands: list[Any], dot: Any) -> Any:
        value: Any = _MISSING
        for command in commands:
            value = self.command(command, dot, value)
        return value

    def command(self, operands: list[Any], dot: Any, piped: Any) -> Any:
        head = operands[0]
        if head[0] == "func":
            args = [self.operand(op, dot) for op in operands[1:]]
            if piped is not _MISSING:
                args.append(piped)
            result = self.tmpl.funcs[head[1]](*args)
            if isinstance(result, str) and len(result) > self.tmpl.max_output:
                # checked on every value, not only on output: `$x = printf "%s%s" $x $x`
                # doubles a variable without printing it
                raise TemplateError(
                    f"template: {self.tmpl.name}: {head[1]} result exceeds "
                    f"{self.tmpl.max_output} bytes"
                )
            return result
        if len(operands) > 1 or piped is not _MISSING:
            raise TemplateError(f"template: {self.tmpl.name}: can't give argument to non-function")
        return self.operand(head, dot)

    def operand(self, op: tuple[str, Any], dot: Any) -> Any:
        kind, val = op
        if kind == "lit":
            return val
        if kind == "pipe":
            return self.pipe(val, dot)
        if kind == "var":
            name, *path = val.split(".")
            if name not in self.vars:
                raise TemplateError(f'template: {self.tmpl.name}: undefined variable "{name}"')
            return _path(self.vars[name], path)
        return _path(dot, [p for p in val.split(".") if p])


_MISSING = object()


def _describe(exc: Exception) -> str:
    """A function's failure in template words (Python's own messages name Python types)."""
    if isinstance(exc, AttributeError | TypeError):
        return f"error calling function: wrong type of argument ({exc})"
    return str(exc) or type(exc).__name__


def _path(value: Any, path: list[str]) -> Any:
    for part in path:
        if isinstance(value, dict):
            # Label maps are map[string]string in Prometheus: a missing key is "".
            value = value.get(part, "")
        else:
            raise TemplateError(f"can't evaluate field {part} in type {type(value).__name__}")
    return value


def _range_items(value: Any) -> list[tuple[Any, Any]]:
    if value is None:
        return []
    if isinstance(value, dict):
        return [(k, value[k]) for k in sorted(value)]
    if isinstance(value, list | tuple):
        return list(enumerate(value))
    if isinstance(value, int):
        return [(i, i) for i in range(min(value, MAX_STEPS))]
    raise TemplateError(f"range can't iterate over {format_value(value)}")
