"""Loki's read routes take their parameters as a POSTed form, as Loki's own API does.

Grafana's Loki data source and logcli POST `application/x-www-form-urlencoded` bodies to
`/loki/api/v1/series`, `/index/stats`, `/query_range`, ... with the fields a GET carries in
its query string (`match[]` repeated, `query`, `start`, `end`, ...): long selectors do not fit
in a URL. Before the resolver validates a route's query parameters, such a body's fields join
the query string — read by the Prometheus API's own parser — and the body is dropped, so GET
and POST are one code path with the same checks and the same answers.
"""

from __future__ import annotations

from typing import Any

from orchestrix import wiring
from orchestrix.adapters.http.resolver import MAX_JSON_BODY
from orchestrix.adapters.http.routes.prometheus_params import (
    posts_form,
    request_params,
    with_nul,
)
from orchestrix.services.logs import LogQueryError

_READS = frozenset(wiring.LOKI_READS)


def form_as_query(event: dict[str, Any]) -> dict[str, Any]:
    """The event of a form POSTed to a Loki read route with the form's fields in its query
    string (after those already there); any other event unchanged. LogQueryError (400, naming
    the field) for a value PostgreSQL cannot hold."""
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

    body = event.get("body")
    if event.get("resource") not in _READS or not body:
        return event
    proxy = APIGatewayProxyEvent(event)
    if not posts_form(proxy):
        return event
    if len(body) > MAX_JSON_BODY * (4 / 3 if event.get("isBase64Encoded") else 1):
        return event  # refused as too large by the resolver's own checks (413)
    params = request_params(proxy)
    name = with_nul(params)
    if name is not None:
        raise LogQueryError.at(name, "NUL characters are not allowed")
    return {
        **event,
        "queryStringParameters": {name: values[-1] for name, values in params.items()} or None,
        "multiValueQueryStringParameters": params or None,
        "body": None,
        "isBase64Encoded": False,
    }
