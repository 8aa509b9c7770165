"""Parameters of the Prometheus HTTP API, parsed and refused exactly as Prometheus does.

Times are unix seconds (fractions allowed) or RFC 3339; durations are seconds or Prometheus
durations (`1h30m`, `15s`, `500ms`); `match[]` holds series selectors. Every refusal is a
`BadQuery` whose message is Prometheus' own, which the API turns into `bad_data` / 400.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from orchestrix.promql import BadQuery, LabelMatcher
from orchestrix.promql.ast import VectorSel
from orchestrix.promql.parse import parse

# Prometheus' "no bound" times (minTime/maxTime in web/api/v1/api.go), in milliseconds.
MIN_TIME_MS = (-(2**63) // 1000 + 62_135_596_801) * 1000
MAX_TIME_MS = ((2**63 - 1) // 1000 - 62_135_596_801) * 1000
_MIN_TIME_TEXT = {"-292273086-05-16T16:47:06Z", "-292273086-05-16T16:47:06.000Z"}
_MAX_TIME_TEXT = {"292277025-08-18T07:12:54.999999999Z", "292277025-08-18T07:12:54.999Z"}

MAX_POINTS = 11_000
_UNITS_MS = {"y": 31_536_000_000, "w": 604_800_000, "d": 86_400_000, "h": 3_600_000,
             "m": 60_000, "s": 1_000, "ms": 1}  # fmt: skip
_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?"
                       r"(?:(\d+)ms)?\Z")  # fmt: skip

Params = Mapping[str, Sequence[str]]


def _invalid(name: str, detail: str) -> BadQuery:
    return BadQuery(f'invalid parameter "{name}": {detail}')


def first(params: Params, name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


def parse_time(text: str) -> int:
    """Milliseconds since the epoch from unix seconds or RFC 3339; ValueError otherwise."""
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise ValueError(text)
        whole = math.trunc(seconds)
        return whole * 1000 + round((seconds - whole) * 1000)
    if text in _MIN_TIME_TEXT:
        return MIN_TIME_MS
    if text in _MAX_TIME_TEXT:
        return MAX_TIME_MS
    parsed = datetime.fromisoformat(text.replace("z", "Z"))
    if parsed.tzinfo is None or "T" not in text.upper():
        raise ValueError(text)
    return math.floor(parsed.timestamp() * 1000 + 0.5)


def time_param(params: Params, name: str, default: int) -> int:
    text = first(params, name)
    if not text:
        return default
    try:
        return parse_time(text)
    except (ValueError, OverflowError):
        raise _invalid(name, f'cannot parse "{text}" to a valid timestamp') from None


def parse_duration_ms(text: str) -> int:
    """Milliseconds from seconds (`15`, `0.5`) or a Prometheus duration (`1m30s`)."""
    try:
        seconds = float(text)
    except ValueError:
        match = _DURATION.match(text)
        if not text or match is None or not any(match.groups()):
            raise ValueError(text) from None
        return sum(int(n) * unit for n, unit in zip(match.groups(), _UNITS_MS.values(), strict=True)
                   if n)  # fmt: skip
    if not math.isfinite(seconds) or abs(seconds) * 1e9 > 2**63 - 1:
        raise ValueError(text)
    return int(seconds * 1000)


def duration_param(params: Params, name: str) -> int | None:
    text = first(params, name)
    if text is None or text == "":
        return None
    try:
        return parse_duration_ms(text)
    except ValueError:
        raise _invalid(name, f'cannot parse "{text}" to a valid duration') from None


def range_params(params: Params) -> tuple[int, int, int]:
    """(start, end, step) of a range query, with Prometheus' checks and messages."""
    start, end = _required_time(params, "start"), _required_time(params, "end")
    if end < start:
        raise _invalid("end", "end timestamp must not be before start time")
    step = duration_param(params, "step")
    if step is None:
        raise _invalid("step", 'cannot parse "" to a valid duration')
    if step <= 0:
        raise _invalid(
            "step",
            "zero or negative query resolution step widths are not accepted. "
            "Try a positive integer",
        )
    if (end - start) // step > MAX_POINTS:
        raise BadQuery(
            "exceeded maximum resolution of 11,000 points per timeseries. "
            "Try decreasing the query resolution (?step=XX)"
        )
    return start, end, step


def _required_time(params: Params, name: str) -> int:
    if not first(params, name):
        raise _invalid(name, 'cannot parse "" to a valid timestamp')
    return time_param(params, name, 0)


def selectors(params: Params) -> list[list[LabelMatcher]]:
    """Each `match[]` selector as one or more matcher lists (`or` groups split)."""
    out: list[list[LabelMatcher]] = []
    for text in params.get("match[]", ()):
        try:
            node = parse(text)
        except BadQuery as exc:
            raise _invalid("match[]", exc.message) from None
        if not isinstance(node, VectorSel):
            raise _invalid("match[]", f'1:1: parse error: "{text}" is not a series selector')
        if node.or_groups:
            out.extend([*node.matchers, *group] for group in node.or_groups)
        else:
            out.append(list(node.matchers))
    return out


def from_event(event: Any) -> dict[str, list[str]]:
    """The request's parameters: the query string, plus a POST's form body."""
    params = request_params(event)
    name = with_nul(params)
    if name is not None:
        raise BadQuery(f'invalid parameter "{name}": NUL characters are not allowed')
    return params


def posts_form(event: Any) -> bool:
    content_type = next(
        (str(v) for k, v in (event.headers or {}).items() if k.lower() == "content-type"), ""
    )
    return event.http_method == "POST" and "x-www-form-urlencoded" in content_type


def request_params(event: Any) -> dict[str, list[str]]:
    """The query string's parameters, then a POSTed form's (Powertools' proxy event)."""
    params: dict[str, list[str]] = {
        k: list(v) for k, v in (event.multi_value_query_string_parameters or {}).items()
    }
    raw = event.raw_event.get("body")
    if raw and posts_form(event):
        # Not UTF-8 (the gateway then hands the body over base64-encoded): the replacement
        # characters make the query or value invalid, a client's error like any other.
        text = base64.b64decode(raw).decode("utf-8", "replace") if event.is_base64_encoded else raw
        for name, value in parse_qsl(str(text), keep_blank_values=True):
            params.setdefault(name, []).append(value)
    return params


def with_nul(params: Params) -> str | None:
    """The first parameter with a NUL in a value: PostgreSQL text cannot hold one, so it is
    refused for every route and parameter."""
    return next((name for name, values in params.items() if any("\x00" in v for v in values)), None)
