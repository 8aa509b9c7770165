"""Logs in (OTLP/HTTP, Loki push, JSON lines) and the log search API.

Ingest reads raw bodies (protobuf, compressed) and is documented by hand (logs_openapi.py);
a request is stored whole or refused whole with a 400 naming the bad records. The search
API pages through lines with an opaque cursor; with `wait` it is a live tail: an empty
forward page waits up to `wait` seconds (at most 20, under API Gateway's 29 s) for new
lines, and the client asks again with `next_cursor`.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from orchestrix import bootstrap
from orchestrix.adapters.http.context import current_principal, header, raw_body
from orchestrix.adapters.http.routes.loki_params import time_ns
from orchestrix.adapters.logs.bodies import Format, decode
from orchestrix.domain.errors import FieldError
from orchestrix.domain.identity import Scope
from orchestrix.domain.logs import NS_PER_S, BadLogRecord
from orchestrix.logql.model import LogPosition, LogRecord, LogSelector
from orchestrix.services.logs import MAX_LIMIT, LogQueryError, LogService, parse_query

router = Router()  # the search API (generated documentation)
ingest_router = Router()  # raw bodies (documented by hand)
INGEST_PATHS = ("/v1/logs", "/loki/api/v1/push", "/api/v1/logs/ingest")
DEFAULT_WINDOW_NS = 3600 * NS_PER_S


def log_service() -> LogService:
    return bootstrap.log_service()


def _header(name: str) -> str | None:
    return header(ingest_router, name)


def _ingest(kind: Format) -> int:
    principal = current_principal(ingest_router)
    principal.require_scope(Scope.LOGS_WRITE)  # before any decoding work for the caller
    service = log_service()
    body = raw_body(ingest_router)
    if not body:
        raise BadLogRecord([FieldError(("body",), "the request has no body")])
    batch = decode(
        kind,
        body,
        content_type=_header("Content-Type"),
        content_encoding=_header("Content-Encoding"),
        bounds=service.ingest_bounds(),
        now_ns=service.now_ns(),
    )
    return service.write(principal, batch)


@ingest_router.post("/v1/logs")
def otlp_logs() -> Response[str]:
    _ingest("otlp")
    # An empty ExportLogsServiceResponse, in the encoding of the request.
    if (_header("Content-Type") or "").startswith("application/json"):
        return Response(200, content_type="application/json", body="{}")
    return Response(200, content_type="application/x-protobuf", body="")


@ingest_router.post("/loki/api/v1/push")
def loki_push() -> Response[None]:
    _ingest("loki")
    return Response(status_code=204)


@ingest_router.post("/api/v1/logs/ingest")
def json_lines() -> Response[str]:
    accepted = _ingest("jsonl")
    return Response(200, content_type="application/json", body=json.dumps({"accepted": accepted}))


# -- search -------------------------------------------------------------------------------
class LogLineOut(BaseModel):
    timestamp: str  # Unix nanoseconds, as a decimal string (exact, unlike a JSON number)
    labels: dict[str, str]
    line: str
    metadata: dict[str, Any] | None = None


class LogPageOut(BaseModel):
    items: list[LogLineOut]
    next_cursor: str | None


def encode_cursor(position: LogPosition) -> str:
    raw = json.dumps([str(position.ts), str(position.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> LogPosition:
    try:
        ts, id_ = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        position = LogPosition(int(ts), int(id_))
        if not all(-(2**63) <= n < 2**63 for n in (position.ts, position.id)):
            raise ValueError("out of range")
        return position
    except (ValueError, TypeError) as exc:
        raise LogQueryError.at("cursor", "is not a valid cursor") from exc


def line_out(record: LogRecord) -> LogLineOut:
    return LogLineOut(
        timestamp=str(record.ts), labels=dict(record.labels), line=record.line,
        metadata=record.metadata,
    )  # fmt: skip


@router.get(
    "/api/v1/logs/query",
    tags=["logs"],
    summary="Search log lines: stream selector, line filters, full-text words, live tail",
)
def search_logs(
    query: Annotated[
        str,
        Query(
            min_length=1,
            max_length=16384,
            description='LogQL stream selector and line filters: {app="api"} |= "error"',
        ),
    ],
    q: Annotated[
        str | None, Query(max_length=1000, description="Full-text words, all of which must occur")
    ] = None,
    start: Annotated[str | None, Query(max_length=40, description="Default: end - 1 h")] = None,
    end: Annotated[str | None, Query(max_length=40, description="Exclusive; default: now")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    direction: Annotated[Literal["backward", "forward"], Query()] = "backward",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    wait: Annotated[
        float,
        Query(ge=0, le=20, description="Live tail: seconds to wait for new lines (forward only)"),
    ] = 0,
) -> LogPageOut:
    service = log_service()
    selector = parse_query(query)
    if not isinstance(selector, LogSelector):
        raise LogQueryError.at("query", "must be a log query (a stream selector and filters)")
    if q:
        selector = LogSelector(selector.matchers, selector.filters, q)
    end_ns = time_ns("end", end, 0) if end else None
    start_ns = time_ns("start", start, (end_ns or service.now_ns()) - DEFAULT_WINDOW_NS)
    if wait and direction != "forward":
        raise LogQueryError.at("wait", "a live tail reads forward: add direction=forward")
    hits = service.search(
        current_principal(router),
        selector,
        start_ns,
        end_ns,
        limit=limit,
        direction=direction,
        after=decode_cursor(cursor) if cursor else None,
        wait_s=wait,
    )
    return LogPageOut(
        items=[line_out(r) for r in hits.records],
        next_cursor=encode_cursor(hits.next_position) if hits.next_position else None,
    )
