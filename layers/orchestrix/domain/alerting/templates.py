"""Alert label and annotation templates with Prometheus' data and functions.

Prometheus prefixes every alert template with
`{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}
{{$value := .Value}}`; the same variables exist here. Functions that need the query engine or
HTML (`query`, `tableLink`, ...) are refused when a rule is saved.
"""

from __future__ import annotations

import html
import math
import re
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from orchestrix.domain.alerting.gofmt import format_g, format_value, sprintf
from orchestrix.domain.alerting.gotemplate import MAX_OUTPUT, Template, TemplateError, truthy
from orchestrix.domain.regex import (
    Match,
    Pattern,
    RegexError,
    compile_re2,
    expand_template,
    search,
)

__all__ = ["TemplateError", "compile_template", "expand", "render"]


def _float(v: Any) -> float:
    if isinstance(v, bool):
        raise TemplateError(f"can't convert {v} to float")
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            raise TemplateError(f"can't convert {v!r} to float") from None
    raise TemplateError(f"can't convert {format_value(v)} to float")


def _scaled(v: float, steps: list[str], base: float, up: bool) -> tuple[float, str]:
    prefix = ""
    for p in steps:
        if (abs(v) < base) if up else (abs(v) >= 1):
            break
        prefix = p
        v = v / base if up else v * base
    return v, prefix


def humanize(i: Any) -> str:
    v = _float(i)
    if v == 0 or math.isnan(v) or math.isinf(v):
        return format_g(v, 4)
    if abs(v) >= 1:
        v, p = _scaled(v, ["k", "M", "G", "T", "P", "E", "Z", "Y"], 1000, True)
    else:
        v, p = _scaled(v, ["m", "u", "n", "p", "f", "a", "z", "y"], 1000, False)
    return format_g(v, 4) + p


def humanize1024(i: Any) -> str:
    v = _float(i)
    if abs(v) <= 1 or math.isnan(v) or math.isinf(v):
        return format_g(v, 4)
    v, p = _scaled(v, ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"], 1024, True)
    return format_g(v, 4) + p


def humanize_duration(i: Any) -> str:
    v = _float(i)
    if math.isnan(v) or math.isinf(v):
        return format_g(v, 4)
    if v == 0:
        return format_g(v, 4) + "s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        d = int(v)
        s, m, h, days = d % 60, (d // 60) % 60, (d // 3600) % 24, d // 86400
        if days:
            return f"{sign}{days}d {h}h {m}m {s}s"
        if h:
            return f"{sign}{h}h {m}m {s}s"
        if m:
            return f"{sign}{m}m {s}s"
        return f"{sign}{format_g(v, 4)}s"
    v, p = _scaled(v, ["m", "u", "n", "p", "f", "a", "z", "y"], 1000, False)
    return f"{format_g(v, 4)}{p}s"


def humanize_percentage(i: Any) -> str:
    return format_g(_float(i) * 100, 4) + "%"


def humanize_timestamp(i: Any) -> str:
    v = _float(i)
    if math.isnan(v) or math.isinf(v):
        return format_g(v, 4)
    t = datetime.fromtimestamp(v, UTC)
    frac = f"{t.microsecond:06d}".rstrip("0")
    return t.strftime("%Y-%m-%d %H:%M:%S") + (f".{frac}" if frac else "") + " +0000 UTC"


def _go_re(pattern: Any) -> Pattern:
    # Go's regexp is RE2 (linear time); patterns come from tenants' rules.
    if not isinstance(pattern, str):
        raise TemplateError(f"regexp pattern must be a string, not {format_value(pattern)}")
    try:
        return compile_re2(pattern)
    except RegexError as exc:
        raise TemplateError(f"error parsing regexp: {exc}") from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TemplateError(f"wrong type for value; expected string; got {format_value(value)}")
    return value


def _match(pattern: Any, text: Any) -> bool:
    return search(_go_re(pattern), _text(text)) is not None


def _re_replace_all(pattern: Any, repl: Any, text: Any) -> str:
    """Go's ReplaceAllString: `$1`, `${1}`, `${name}` and `$$` in `repl`."""
    compiled = _go_re(pattern)
    template = _text(repl)
    produced = 0

    def replacement(m: Match) -> str:
        # bounded while replacing: "" matches everywhere, so a long `repl` multiplies the text
        nonlocal produced
        piece = expand_template(template, m, compiled.groups)
        produced += len(piece)
        if produced > MAX_OUTPUT:
            raise TemplateError(f"reReplaceAll result exceeds {MAX_OUTPUT} bytes")
        return piece

    try:
        return compiled.sub(replacement, _text(text))
    except UnicodeError:
        return str(text)


def _strip_port(hostport: str) -> str:
    if hostport.startswith("["):
        end = hostport.find("]")
        return hostport[1:end] if end > 0 else hostport
    host, sep, port = hostport.rpartition(":")
    return host if sep and ":" not in host else hostport


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def check(a: Any, b: Any) -> bool:
        numeric = (int, float)
        if isinstance(a, numeric) and isinstance(b, numeric):
            return op(float(a), float(b))
        if type(a) is not type(b):
            raise TemplateError("incompatible types for comparison")
        return op(a, b)

    return check


def _eq(a: Any, *others: Any) -> bool:
    return any(_compare(lambda x, y: x == y)(a, b) for b in others)


def _and(*args: Any) -> Any:
    for a in args:
        if not truthy(a):
            return a
    return args[-1]


def _or(*args: Any) -> Any:
    for a in args:
        if truthy(a):
            return a
    return args[-1]


def _index(item: Any, *keys: Any) -> Any:
    for key in keys:
        item = item.get(key) if isinstance(item, dict) else item[int(key)]
    return item


FUNCS: dict[str, Callable[..., Any]] = {
    # text/template built-ins
    "and": _and,
    "or": _or,
    "not": lambda a: not truthy(a),
    "len": lambda a: len(a),
    "index": _index,
    "print": lambda *a: "".join(format_value(x) for x in a),
    "println": lambda *a: " ".join(format_value(x) for x in a) + "\n",
    "printf": lambda fmt, *a: sprintf(fmt, list(a)),
    "eq": _eq,
    "ne": lambda a, b: not _eq(a, b),
    "lt": _compare(lambda a, b: a < b),
    "le": _compare(lambda a, b: a <= b),
    "gt": _compare(lambda a, b: a > b),
    "ge": _compare(lambda a, b: a >= b),
    "html": lambda s: html.escape(format_value(s)),
    "js": lambda s: format_value(s).replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"'),
    "urlquery": lambda *a: urllib.parse.quote_plus("".join(format_value(x) for x in a)),
    # Prometheus' template functions
    "humanize": humanize,
    "humanize1024": humanize1024,
    "humanizeDuration": humanize_duration,
    "humanizePercentage": humanize_percentage,
    "humanizeTimestamp": humanize_timestamp,
    "title": lambda s: re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).upper(), s),
    "toUpper": lambda s: s.upper(),
    "toLower": lambda s: s.lower(),
    "match": _match,
    "reReplaceAll": _re_replace_all,
    "safeHtml": lambda s: s,
    "stripPort": _strip_port,
    "stripDomain": lambda s: (
        s.split(":")[0].split(".")[0] + (":" + s.split(":")[1] if ":" in s else "")
    ),
    "externalURL": lambda: "",
    "pathPrefix": lambda: "",
}


@lru_cache(maxsize=4096)
def compile_template(name: str, text: str) -> Template:
    """Parse once; raises TemplateError naming the problem (Go's wording where we can)."""
    return Template(name, text, FUNCS)


def expand(
    name: str,
    text: str,
    labels: Mapping[str, str],
    value: float,
    external_labels: Mapping[str, str] | None = None,
) -> str:
    """Render one label or annotation; Prometheus keeps the error text as the result."""
    return render(name, text, labels, value, external_labels)[0]


def render(
    name: str,
    text: str,
    labels: Mapping[str, str],
    value: float,
    external_labels: Mapping[str, str] | None = None,
) -> tuple[str, str | None]:
    """``(result, error)``: on error the result is Prometheus' error text, so the alert still
    fires with it, and the error is returned for the rule's health."""
    if "{{" not in text:
        return text, None
    data = {
        "Labels": dict(labels),
        "ExternalLabels": dict(external_labels or {}),
        "ExternalURL": "",
        "Value": value,
    }
    variables = {
        "$labels": data["Labels"],
        "$externalLabels": data["ExternalLabels"],
        "$externalURL": "",
        "$value": value,
    }
    try:
        return compile_template(name, text).render(data, variables), None
    except TemplateError as exc:
        return f"<error expanding template: {exc}>", str(exc)
