"""Render query results in the Prometheus HTTP API shape.

``format_result`` returns the ``data`` object (``{"resultType": ..., "result": ...}``) as
plain Python values; ``render_json`` writes the exact bytes Prometheus would (timestamps as
seconds with up to three decimals, sample values as strings: a scalar in Go's 'f' format,
vector and matrix values as util/jsonutil.MarshalValue does, 'e' below 1e-6 and from 1e21).
"""

from __future__ import annotations

import json
from operator import add
from typing import Any

import orjson

from .engine import QueryResult
from .errors import PromQLError
from .gomath import format_float, format_sample_value
from .values import Labels, RangeSeries, Sample, Scalar, String


def timestamp(t_ms: int) -> int | float:
    """Seconds as Prometheus writes them: an integer, or three decimals."""
    return t_ms // 1000 if t_ms % 1000 == 0 else t_ms / 1000


def _metric(labels: Labels) -> dict[str, str]:
    return dict(labels)


def format_result(result: QueryResult) -> dict[str, Any]:
    value = result.value
    body: Any
    if isinstance(value, Scalar):
        body = [timestamp(value.t), format_float(value.v)]
    elif isinstance(value, String):
        body = [timestamp(value.t), value.v]
    elif result.result_type == "matrix":
        body = [
            {
                "metric": _metric(s.labels),
                "values": [[timestamp(t), format_sample_value(v)] for t, v in s.points],
            }
            for s in value
            if isinstance(s, RangeSeries)
        ]
    else:
        body = [
            {"metric": _metric(s.labels), "value": [timestamp(s.t), format_sample_value(s.v)]}
            for s in value
            if isinstance(s, Sample)
        ]
    return {"resultType": result.result_type, "result": body}


def _ts_text(t_ms: int) -> str:
    sign = "-" if t_ms < 0 else ""
    t = abs(t_ms)
    frac = t % 1000
    return f"{sign}{t // 1000}" + (f".{frac:03d}" if frac else "")


def render_json(result: QueryResult) -> str:
    """The full success response body, byte-compatible with Prometheus' API.

    Vectors and matrices are written straight from the result (no intermediate dicts): a
    sample value's text never needs JSON escaping, and each timestamp is formatted once.
    """
    rtype = result.result_type
    value = result.value if result.columns is None else None  # not built when not needed
    if result.columns is not None:
        inner = _columns_json(result)
    elif rtype == "matrix" and isinstance(value, list):
        stamps = _StampPrefixes()
        parts = []
        for s in value:
            assert isinstance(s, RangeSeries)
            points = _points_json(s.points, stamps)
            parts.append(f'{{"metric":{_metric_json(s.labels)},"values":[{points}]}}')
        inner = "[" + ",".join(parts) + "]"
    elif rtype == "vector" and isinstance(value, list):
        parts = []
        for s in value:
            assert isinstance(s, Sample)
            point = f'[{_ts_text(s.t)},"{_value_text(s.v)}"]'
            parts.append(f'{{"metric":{_metric_json(s.labels)},"value":{point}}}')
        inner = "[" + ",".join(parts) + "]"
    else:
        data = format_result(result)["result"]
        t = data[0]
        t_ms = round(t * 1000) if isinstance(t, float) else t * 1000
        inner = f"[{_ts_text(t_ms)},{json.dumps(data[1])}]"
    out = '{"status":"success","data":{"resultType":"' + rtype + '","result":' + inner + "}"
    extras = []
    if result.warnings:
        extras.append('"warnings":' + json.dumps(result.warnings))
    if result.infos:
        extras.append('"infos":' + json.dumps(result.infos))
    return str(out + "".join("," + e for e in extras) + "}")


def _columns_json(result: QueryResult) -> str:
    """A matrix the kernels computed, from their arrays (matrix_columns.points_json)."""
    from .matrix_columns import points_json

    columns = result.columns
    assert columns is not None
    stamps = ["[" + _ts_text(t) + ',"' for t in columns.steps]
    points = points_json(columns, stamps)
    if points is None:
        prefixes = _StampPrefixes()
        points = [_points_json(s.points, prefixes) for s in columns.matrix()]
    parts = [
        f'{{"metric":{_metric_json(labels)},"values":[{text}]}}'
        for labels, text in zip(columns.labels, points, strict=True)
    ]
    return "[" + ",".join(parts) + "]"


class _StampPrefixes(dict[int, str]):
    """`[<seconds>,"` per timestamp in ms, each formatted once per response."""

    def __missing__(self, t_ms: int) -> str:
        text = self[t_ms] = "[" + _ts_text(t_ms) + ',"'
        return text


def _points_json(points: list[tuple[int, float]], stamps: _StampPrefixes) -> str:
    """`[t,"v"],...` for a series' points. orjson writes a float as Go's shortest text
    with a trailing ".0" for whole numbers, and in plain notation exactly where Go's 'f'
    format applies (1e-5 to 1e16; NaN and infinities as null): with neither an "e" nor a
    null in its output, every value's text is orjson's minus that ".0" (Python's repr took
    ~0.4 us a value, most of a matrix's rendering). The points are then put together by C
    loops; a ".0" right before a closing quote can only end a value. Otherwise, value by
    value (_value_text)."""
    if not points:
        return ""
    ts, vs = zip(*points, strict=True)
    texts = orjson.dumps(vs)
    if b"e" in texts or b"null" in texts:
        return ",".join(f'{stamps[t][:-1]}"{_value_text(v)}"]' for t, v in points)
    values = texts[1:-1].decode().split(",")
    joined = '"],'.join(map(add, map(stamps.__getitem__, ts), values))
    return (joined + '"]').replace('.0"', '"')


def _metric_json(labels: Labels) -> str:
    return orjson.dumps(dict(labels)).decode()


def _value_text(v: float) -> str:
    """format_sample_value, with its most common case inlined: Python's repr already has
    Go's shortest digits, and no exponent between 1e-4 and 1e16."""
    if 1e-4 <= abs(v) < 1e16:
        text = repr(v)
        return text[:-2] if text.endswith(".0") else text
    return format_sample_value(v)


def format_error(error: PromQLError) -> dict[str, str]:
    """The error response body: ``{"status": "error", "errorType": ..., "error": ...}``."""
    return {"status": "error", "errorType": error.error_type, "error": error.message}
