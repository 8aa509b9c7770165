"""The Prometheus HTTP query API, under /api/v1/metrics/… and again under /prometheus/api/v1/….

Grafana and other Prometheus clients use these unchanged, so bodies, parameters and status
codes are Prometheus' own — `{"status":"success","data":…}` or
`{"status":"error","errorType":…,"error":…}` — not the problem+json of the rest of the API.
GET takes parameters in the query string, POST also as a form body.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from orchestrix import bootstrap
from orchestrix.adapters.http.context import current_principal, request_id_of
from orchestrix.adapters.http.routes import prometheus_params as p
from orchestrix.adapters.http.routes.metrics import metrics_service
from orchestrix.domain.errors import DomainError
from orchestrix.promql import PromQLError, render_json

log = logging.getLogger(__name__)

PREFIXES = ("/api/v1/metrics", "/prometheus/api/v1")
_LABEL_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
# Prometheus' status code for each errorType (web/api/v1/api.go).
_STATUS = {"bad_data": 400, "execution": 422, "timeout": 503, "canceled": 499,
           "unavailable": 503, "not_found": 404, "internal": 500}  # fmt: skip

_INT64 = re.compile(r"[+-]?[0-9]{1,19}")
router = Router()


def _json(status: int, body: Any) -> Response[str]:
    text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
    return Response(status_code=status, content_type="application/json", body=text)


def _success(data: Any) -> Response[str]:
    return _json(200, {"status": "success", "data": data})


def _error(error_type: str, message: str, status: int | None = None) -> Response[str]:
    body = {"status": "error", "errorType": error_type, "error": message}
    return _json(status or _STATUS.get(error_type, 400), body)


def _params() -> dict[str, list[str]]:
    return p.from_event(router.current_event)


def _now_ms() -> int:
    # The Clock port, not the wall clock: locally `orchestrix tick --advance` moves "now" for
    # imports and rule evaluation, and a query without `time` must see what they stamped.
    return int(bootstrap.clock().now().timestamp() * 1000)


def _timeout_s(params: p.Params) -> float | None:
    timeout = p.duration_param(params, "timeout")
    return None if timeout is None or timeout <= 0 else timeout / 1000


def query() -> Response[str]:
    params = _params()
    at = p.time_param(params, "time", _now_ms())
    result = metrics_service().query(
        current_principal(router), p.first(params, "query") or "", at, _timeout_s(params)
    )
    return _json(200, render_json(result))


def query_range() -> Response[str]:
    params = _params()
    start, end, step = p.range_params(params)
    result = metrics_service().query_range(
        current_principal(router),
        p.first(params, "query") or "",
        start,
        end,
        step,
        _timeout_s(params),
    )
    return _json(200, render_json(result))


def _window(params: p.Params) -> tuple[int, int]:
    return p.time_param(params, "start", p.MIN_TIME_MS), p.time_param(params, "end", p.MAX_TIME_MS)


def labels() -> Response[str]:
    params = _params()
    start, end = _window(params)
    names = metrics_service().label_names(
        current_principal(router), p.selectors(params), start, end
    )
    return _success(names)


def label_values(name: str) -> Response[str]:
    # API Gateway's pathParameters are URL-decoded; the event's `path` (which the route
    # argument comes from) is not: `label/%5F%5Fname%5F%5F/values` means `__name__`.
    name = (router.current_event.raw_event.get("pathParameters") or {}).get("name", name)
    params = _params()
    if not name or name[0].isdigit() or not set(name) <= _LABEL_NAME_CHARS:
        return _error("bad_data", f'invalid label name: "{name}"')
    start, end = _window(params)
    values = metrics_service().label_values(
        current_principal(router), name, p.selectors(params), start, end
    )
    return _success(values)


def series() -> Response[str]:
    params = _params()
    selectors = p.selectors(params)
    if not selectors:
        return _error("bad_data", "no match[] parameter provided")
    start, end = _window(params)
    found = metrics_service().series(current_principal(router), selectors, start, end)
    return _success([dict(labels) for labels in found])


def metadata() -> Response[str]:
    params = _params()
    limit_text = p.first(params, "limit")
    if len(params.get("limit") or ()) > 1:
        return _error("bad_data", 'invalid parameter "limit": given more than once')
    # As Go's strconv.Atoi: ASCII digits, and the result must fit an int64.
    if limit_text and not _INT64.fullmatch(limit_text):
        return _error("bad_data", f'invalid parameter "limit": cannot parse "{limit_text}"')
    limit = int(limit_text) if limit_text else None
    if limit is not None and not -(2**63) <= limit < 2**63:
        return _error("bad_data", f'invalid parameter "limit": "{limit_text}" out of range')
    if limit is not None and limit < 0:
        limit = None  # Prometheus: a negative limit means no limit
    found = metrics_service().metadata(
        current_principal(router), p.first(params, "metric") or None, limit
    )
    data: dict[str, list[dict[str, str]]] = {}
    for meta in found:
        data.setdefault(meta.family, []).append(
            {"type": meta.type, "help": meta.help, "unit": meta.unit}
        )
    return _success(data)


_ROUTES: tuple[tuple[str, Callable[..., Response[str]]], ...] = (
    ("/query", query),
    ("/query_range", query_range),
    ("/labels", labels),
    ("/label/<name>/values", label_values),
    ("/series", series),
    ("/metadata", metadata),
)
for _prefix in PREFIXES:
    for _suffix, _view in _ROUTES:
        router.route(
            _prefix + _suffix, method=["GET", "POST"], tags=["metrics query"], summary=_suffix
        )(_view)


def prometheus_resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()
    app.include_router(router)

    @app.exception_handler(PromQLError)
    def _promql(exc: PromQLError) -> Response[str]:
        return _error(exc.error_type, exc.message)

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response[str]:
        error_type = "unavailable" if exc.status == 503 else "bad_data"
        return _error(error_type, exc.detail, exc.status)

    @app.exception_handler(NotFoundError)
    def _no_route(exc: NotFoundError) -> Response[str]:
        return _error("not_found", f"no route for {app.current_event.path}")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        log.exception("unhandled error")
        return _error("internal", "internal error; the request id identifies it in our logs")

    return app


def handle_query(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> Any:
    response: dict[str, Any] = app.resolve(event, context)
    multi = response.get("multiValueHeaders") or {}
    multi["X-Request-Id"] = [request_id_of(event)]
    response["multiValueHeaders"] = multi
    return response
