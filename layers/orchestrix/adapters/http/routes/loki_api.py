"""The Loki HTTP query API (a LogQL subset), so Grafana's Loki data source works unchanged.

Bodies are Loki's: `{"status": "success", "data": {"resultType": "streams" | "matrix" |
"vector", "result": [...]}}` for queries, `{"status": "success", "data": [names]}` for the
label calls. Stream values are `["<unix ns>", "<line>"]`, matrix points `[<unix s>, "<v>"]`.
Errors are problem+json (400 naming the parameter), as everywhere in this API. Every route
answers GET with a query string and POST with the same fields as a form body, as Loki does.
"""

from __future__ import annotations

import platform
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel

from orchestrix.adapters.http.context import current_principal
from orchestrix.adapters.http.routes.logs import log_service
from orchestrix.adapters.http.routes.loki_params import default_step_ns, duration_ns, time_ns
from orchestrix.domain.logs import NS_PER_S
from orchestrix.logql.evaluate import SeriesResult
from orchestrix.services.logs import MAX_LIMIT, LogQueryError, MatrixResult, StreamsResult

router = Router()
# Each read route also takes its parameters as a POSTed form (see `loki_forms`).
GET_POST = ["GET", "POST"]
TAGS = ["logs (Loki API)"]
DEFAULT_SINCE_NS = 3600 * NS_PER_S
LabelName = Annotated[str, Path(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$", max_length=1024)]
TimeParam = Annotated[str | None, Query(max_length=40, description="Unix ns, Unix s or RFC 3339")]
DurationParam = Annotated[
    str | None, Query(max_length=40, description="Seconds, or a duration such as 5m")
]
LogQL = Annotated[
    str,
    Query(min_length=1, max_length=16384, description='LogQL: {app="api"} |= "error"'),
]


class LokiResponse(BaseModel):
    status: Literal["success"] = "success"
    data: Any


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _seconds(ns: int) -> float | int:
    return ns // NS_PER_S if ns % NS_PER_S == 0 else ns / NS_PER_S


def _matrix(series: list[SeriesResult], instant: bool) -> dict[str, Any]:
    if instant:
        result = [
            {"metric": dict(s.labels), "value": [_seconds(t), _number(v)]}
            for s in series
            for t, v in s.points[-1:]
        ]
        return {"resultType": "vector", "result": result, "stats": {}}
    matrix = [
        {"metric": dict(s.labels), "values": [[_seconds(t), _number(v)] for t, v in s.points]}
        for s in series
    ]
    return {"resultType": "matrix", "result": matrix, "stats": {}}


def _streams(found: StreamsResult) -> dict[str, Any]:
    streams: dict[tuple[tuple[str, str], ...], list[list[str]]] = {}
    for record in found.hits.records:
        streams.setdefault(record.labels, []).append([str(record.ts), record.line])
    result = [{"stream": dict(labels), "values": values} for labels, values in streams.items()]
    return {"resultType": "streams", "result": result, "stats": {}}


def _range(start: str | None, end: str | None, since: str | None) -> tuple[int, int]:
    service = log_service()
    end_ns = time_ns("end", end, service.now_ns())
    start_ns = time_ns("start", start, end_ns - (duration_ns("since", since) or DEFAULT_SINCE_NS))
    if end_ns < start_ns:
        raise LogQueryError.at("end", "must not be before start")
    return start_ns, end_ns


@router.route("/loki/api/v1/query_range", method=GET_POST, tags=TAGS, summary="LogQL range query")
def query_range(
    query: LogQL,
    start: TimeParam = None,
    end: TimeParam = None,
    since: DurationParam = None,
    step: DurationParam = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    direction: Annotated[Literal["backward", "forward"], Query()] = "backward",
) -> LokiResponse:
    start_ns, end_ns = _range(start, end, since)
    step_ns = duration_ns("step", step) or default_step_ns(start_ns, end_ns)
    found = log_service().query(
        current_principal(router),
        query,
        start_ns,
        end_ns + 1 if end_ns == start_ns else end_ns,
        step_ns=step_ns,
        limit=limit,
        direction=direction,
    )
    if isinstance(found, MatrixResult):
        return LokiResponse(data=_matrix(found.series, instant=False))
    return LokiResponse(data=_streams(found))


@router.route(
    "/loki/api/v1/query", method=GET_POST, tags=TAGS, summary="LogQL instant query (metric queries)"
)
def query_instant(
    query: LogQL,
    time: TimeParam = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    direction: Annotated[Literal["backward", "forward"], Query()] = "backward",
) -> LokiResponse:
    service = log_service()
    at = time_ns("time", time, service.now_ns())
    found = service.query(
        current_principal(router),
        query,
        at,
        at,
        step_ns=NS_PER_S,
        limit=limit,
        direction=direction,
        instant=True,
    )
    assert isinstance(found, MatrixResult)  # log queries are refused as instant queries
    return LokiResponse(data=_matrix(found.series, instant=True))


Selector = Annotated[
    str | None, Query(max_length=16384, description="Only streams this selector matches")
]


@router.route("/loki/api/v1/labels", method=GET_POST, tags=TAGS, summary="Stream label names")
def labels(
    start: TimeParam = None,
    end: TimeParam = None,
    since: DurationParam = None,
    query: Selector = None,
) -> LokiResponse:
    start_ns, end_ns = _range(start, end, since)
    names = log_service().label_names(current_principal(router), start_ns, end_ns, query)
    return LokiResponse(data=names)


@router.route(
    "/loki/api/v1/series",
    method=GET_POST,
    tags=TAGS,
    summary="Streams (label sets) matching selectors",
)
def series(
    match: Annotated[
        list[Annotated[str, Query(max_length=16384)]] | None,
        Query(alias="match[]", description='A stream selector, repeatable: {app="api"}'),
    ] = None,
    start: TimeParam = None,
    end: TimeParam = None,
    since: DurationParam = None,
) -> LokiResponse:
    start_ns, end_ns = _range(start, end, since)
    found = log_service().series(current_principal(router), match or [], start_ns, end_ns)
    return LokiResponse(data=[dict(labels) for labels in found])


class IndexStatsOut(BaseModel):
    streams: int
    chunks: int
    entries: int
    bytes: int


@router.route(
    "/loki/api/v1/index/stats",
    method=GET_POST,
    tags=TAGS,
    summary="What a query's selector resolves to",
)
def index_stats(
    query: LogQL, start: TimeParam = None, end: TimeParam = None, since: DurationParam = None
) -> IndexStatsOut:
    start_ns, end_ns = _range(start, end, since)
    found = log_service().index_stats(current_principal(router), query, start_ns, end_ns)
    return IndexStatsOut(
        streams=found.streams, chunks=found.chunks, entries=found.entries, bytes=found.bytes
    )


@router.route(
    "/loki/api/v1/label/<name>/values",
    method=GET_POST,
    tags=TAGS,
    summary="Values of one stream label",
)
def label_values(
    name: LabelName,
    start: TimeParam = None,
    end: TimeParam = None,
    since: DurationParam = None,
    query: Selector = None,
) -> LokiResponse:
    start_ns, end_ns = _range(start, end, since)
    values = log_service().label_values(current_principal(router), name, start_ns, end_ns, query)
    return LokiResponse(data=values)


# The Loki release whose query API this one answers (2.8: LogQL with parsers, label filters,
# unwrap and binary operations, `index/stats`; not yet the `index/volume`, `detected_*` and
# `patterns` endpoints of later releases, which a client should not be told to expect).
LOKI_VERSION = "2.8.0"


@router.get("/loki/api/v1/status/buildinfo", tags=TAGS, summary="Build information")
def buildinfo() -> dict[str, str]:
    """Loki's own shape (not wrapped in `data`), which tools probe for liveness and version."""
    current_principal(router)  # authenticated like every log read
    return {
        "version": LOKI_VERSION,
        "revision": "orchestrix",
        "branch": "orchestrix",
        "buildUser": "orchestrix",
        "buildDate": "",
        "goVersion": f"python{platform.python_version()}",
    }
