"""The REST resolver every API function uses: validation, problem+json, request ids, docs."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from orchestrix.adapters.http import openapi
from orchestrix.adapters.http.context import request_id_of
from orchestrix.adapters.http.problems import problem, proxy_problem
from orchestrix.domain import storable
from orchestrix.domain.errors import DomainError, ValidationFailed

log = logging.getLogger(__name__)

# The management API takes JSON; larger bodies are a client error, not our memory problem.
MAX_JSON_BODY = 1024 * 1024
# No document we accept nests anywhere near this; deeper bodies are refused before parsing
# models (pydantic and json.dumps recurse).
MAX_JSON_DEPTH = storable.MAX_DEPTH


def _loc(loc: Sequence[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def _on_validation_error(exc: RequestValidationError) -> Response[str]:
    errors = []
    for error in exc.errors():
        msg = str(error.get("msg") or error.get("type") or "invalid")
        errors.append({"loc": _loc(error.get("loc", ())), "msg": msg})
    first = errors[0] if errors else None
    detail = f"{'.'.join(map(str, first['loc']))}: {first['msg']}" if first else "invalid request"
    return problem(422, detail, errors=errors)


def _on_domain_error(exc: DomainError) -> Response[str]:
    errors = None
    if isinstance(exc, ValidationFailed):
        errors = [{"loc": list(e.loc), "msg": e.msg} for e in exc.errors]
    return problem(exc.status, exc.detail, title=exc.title, errors=errors)


def new_resolver(routers: Sequence[Router], *, docs: bool = True) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    for router in routers:
        app.include_router(router)
    if docs:
        openapi.add_document_routes(app)

    app.exception_handler(RequestValidationError)(_on_validation_error)
    app.exception_handler(DomainError)(_on_domain_error)

    @app.exception_handler(NotFoundError)
    def _no_route(exc: NotFoundError) -> Response[str]:
        event = app.current_event
        return problem(404, f"no route for {event.http_method} {event.path}")

    @app.exception_handler(ServiceError)
    def _service_error(exc: ServiceError) -> Response[str]:
        return problem(exc.status_code, str(exc.msg))

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        log.exception("unhandled error")
        return problem(500, "internal error; the request id identifies it in our logs")

    return app


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def _precheck(event: dict[str, Any]) -> tuple[int, str] | None:
    """Size and media-type checks API Gateway does not do for us."""
    body = event.get("body")
    if body is None or event.get("httpMethod") not in ("POST", "PUT", "PATCH"):
        return None
    if len(body) > MAX_JSON_BODY * (4 / 3 if event.get("isBase64Encoded") else 1):
        return 413, f"request body exceeds {MAX_JSON_BODY} bytes"
    content_type = (_header(event, "content-type") or "application/json").split(";")[0].strip()
    if body and content_type.lower() not in ("application/json", "application/merge-patch+json"):
        return 415, f"send JSON (Content-Type: application/json), not {content_type!r}"
    if event.get("isBase64Encoded"):
        import base64

        event["body"] = base64.b64decode(body).decode("utf-8", "replace")
        event["isBase64Encoded"] = False
    return None


def _unstorable_text(value: Any, loc: list[str | int]) -> tuple[int, str] | None:
    """Text PostgreSQL cannot store (NUL, unpaired surrogates) is a 422 caught here once,
    not a driver exception in every repository; nesting deeper than MAX_JSON_DEPTH is a 400
    before recursive code behind (validation, serialisation) exhausts the stack."""
    found = storable.first_problem(value, tuple(loc), max_depth=MAX_JSON_DEPTH)
    if found is None:
        return None
    where, problem = found
    status = 422 if isinstance(problem, storable.BadText) else 400
    return status, f"{'.'.join(map(str, where))}: {problem}"


def parse_json_body(text: str) -> tuple[Any, str | None]:
    """The body as JSON, or the 400 detail saying why it is not acceptable JSON."""
    try:
        return json.loads(text), None
    except ValueError as exc:
        return None, f"request body is not valid JSON: {exc}"
    except RecursionError:
        # The C decoder gives up around 1,000 levels with RecursionError, not ValueError.
        return None, f"request body is nested deeper than {MAX_JSON_DEPTH} levels"


def handle(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve one proxy event; every response, error or not, carries X-Request-Id."""
    request_id = request_id_of(event)
    early = _precheck(event)
    if early is not None:
        return proxy_problem(early[0], early[1], request_id)
    if event.get("body"):
        body, invalid = parse_json_body(event["body"])
        if invalid is not None:
            return proxy_problem(400, invalid, request_id)
        bad = _unstorable_text(body, ["body"])
        if bad is not None:
            return proxy_problem(*bad, request_id)
    params = {
        **{("query", k): v for k, v in (event.get("queryStringParameters") or {}).items()},
        **{("path", k): v for k, v in (event.get("pathParameters") or {}).items()},
    }
    for (where, name), value in params.items():
        bad = _unstorable_text(value, [where, name])
        if bad is not None:
            return proxy_problem(*bad, request_id)
    response: dict[str, Any] = app.resolve(event, context)
    multi = response.setdefault("multiValueHeaders", {}) or {}
    response["multiValueHeaders"] = multi
    multi["X-Request-Id"] = [request_id]
    return response
