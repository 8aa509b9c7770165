"""RFC 9457 problem details — the body of every error response."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

PROBLEM_JSON = "application/problem+json"

# RFC 9110 renamed these; Python's HTTPStatus still has the RFC 7231 phrases.
_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


def problem_body(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    type_: str = "about:blank",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": type_,
        "title": title or _TITLES.get(status) or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return body


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    return Response(
        status_code=status,
        content_type=PROBLEM_JSON,
        body=json.dumps(
            problem_body(status, detail, title=title, instance=instance, errors=errors)
        ),
        headers=headers,
    )


def proxy_problem(
    status: int,
    detail: str,
    request_id: str | None = None,
    *,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A complete Lambda proxy response, for code paths outside the resolver."""
    headers = {"Content-Type": PROBLEM_JSON}
    if request_id:
        headers["X-Request-Id"] = request_id
    return {
        "statusCode": status,
        "headers": headers,
        "body": json.dumps(problem_body(status, detail, title=title, errors=errors)),
        "isBase64Encoded": False,
    }
