"""Render query results in the Prometheus HTTP API shape.

``format_result`` returns the ``data`` object (``{"resultType": ..., "result": ...}``) as
plain Python values; ``render_json`` writes the exact bytes Prometheus would (timestamps as
seconds with up to three decimals, sample values as strings: a scalar in Go's 'f' format,
vector and matrix values as util/jsonutil.MarshalValue does, 'e' below 1e-6 and from 1e21).
"""

from __future__ import annotations

import json
from typing import Any

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
    """The full success response body, byte-compatible with Prometheus' API."""
    data = format_result(result)

    def point(p: list[Any]) -> str:
        t = p[0]
        t_ms = round(t * 1000) if isinstance(t, float) else t * 1000
        return f"[{_ts_text(t_ms)},{json.dumps(p[1])}]"

    rtype = data["resultType"]
    if rtype in ("scalar", "string"):
        inner = point(data["result"])
    elif rtype == "matrix":
        inner = (
            "["
            + ",".join(
                '{"metric":'
                + json.dumps(s["metric"], separators=(",", ":"))
                + ',"values":['
                + ",".join(point(p) for p in s["values"])
                + "]}"
                for s in data["result"]
            )
            + "]"
        )
    else:
        inner = (
            "["
            + ",".join(
                '{"metric":'
                + json.dumps(s["metric"], separators=(",", ":"))
                + ',"value":'
                + point(s["value"])
                + "}"
                for s in data["result"]
            )
            + "]"
        )
    out = '{"status":"success","data":{"resultType":"' + rtype + '","result":' + inner + "}"
    extras = []
    if result.warnings:
        extras.append('"warnings":' + json.dumps(result.warnings))
    if result.infos:
        extras.append('"infos":' + json.dumps(result.infos))
    return str(out + "".join("," + e for e in extras) + "}")


def format_error(error: PromQLError) -> dict[str, str]:
    """The error response body: ``{"status": "error", "errorType": ..., "error": ...}``."""
    return {"status": "error", "errorType": error.error_type, "error": error.message}
