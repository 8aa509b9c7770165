"""POST /api/v1/metrics/write (remote write 1.0) and /api/v1/metrics/import (text formats).

Both answer 204 with no body. A body that can never be accepted is a 4xx problem+json
(Prometheus drops the batch and does not retry); only a failure a retry can cure, such as
the database being down, is a 5xx (Prometheus retries those with backoff). A request is
accepted or refused as a whole: one bad series or sample (a NUL in a label value, a
timestamp before 1970 or more than 10 minutes ahead) refuses it with a 400 naming the
field, and nothing of it is stored.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from orchestrix import bootstrap
from orchestrix.adapters.http.context import current_principal, header, raw_body, request_id_of
from orchestrix.adapters.http.problems import problem
from orchestrix.adapters.http.resolver import new_resolver
from orchestrix.adapters.metrics import MetricsIngestError, RemoteWriteDecoder, parse_exposition
from orchestrix.adapters.metrics.limits import timestamp_bounds
from orchestrix.domain.identity import Scope
from orchestrix.services.metrics import MetricsService

router = Router()

# One decoder per container: it caches validated series between requests.
_decoder = RemoteWriteDecoder()


def metrics_service() -> MetricsService:
    return bootstrap.metrics_service()


def _body() -> bytes:
    return raw_body(router)


def _now_ms() -> int:
    return int(bootstrap.clock().now().timestamp() * 1000)


def _header(name: str) -> str | None:
    return header(router, name)


@router.post(
    "/api/v1/metrics/write",
    tags=["metrics"],
    summary="Prometheus remote write 1.0 (snappy + protobuf WriteRequest)",
    responses={204: {"description": "stored"}},
)
def remote_write() -> Response[None]:
    principal = current_principal(router)
    principal.require_scope(Scope.METRICS_WRITE)  # before any decoding work for the caller
    batch = _decoder.decode(
        _body(),
        content_type=_header("Content-Type"),
        content_encoding=_header("Content-Encoding"),
        timestamp_bounds=timestamp_bounds(_now_ms(), _decoder.limits),
    )
    metrics_service().write(principal, batch)
    return Response(status_code=204)


@router.post(
    "/api/v1/metrics/import",
    tags=["metrics"],
    summary="Import Prometheus text format or OpenMetrics (optional timestamps)",
    responses={204: {"description": "stored"}},
)
def import_metrics() -> Response[None]:
    principal = current_principal(router)
    principal.require_scope(Scope.METRICS_WRITE)  # before any parsing work for the caller
    now_ms = _now_ms()
    batch = parse_exposition(
        _body(),
        content_type=_header("Content-Type"),
        now_ms=now_ms,
        timestamp_bounds=timestamp_bounds(now_ms),
    )
    metrics_service().write(principal, batch)
    return Response(status_code=204)


def _on_ingest_error(exc: MetricsIngestError) -> Response[str]:
    errors = [{"loc": list(exc.loc), "msg": exc.detail}] if exc.loc else None
    return problem(exc.status, exc.detail, title=exc.title, errors=errors)


def write_resolver() -> APIGatewayRestResolver:
    app = new_resolver([router], docs=False)
    app.exception_handler(MetricsIngestError)(_on_ingest_error)
    return app


def handle_write(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> Any:
    """Resolve a binary ingest request (the JSON API's body checks do not apply here)."""
    response: dict[str, Any] = app.resolve(event, context)
    multi = response.get("multiValueHeaders") or {}
    multi["X-Request-Id"] = [request_id_of(event)]
    response["multiValueHeaders"] = multi
    return response
