"""The gateway emulator builds the proxy events API Gateway would."""

from __future__ import annotations

import base64
from typing import Any

from orchestrix import wiring
from orchestrix.local.gateway import Gateway


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, name: str, event: dict[str, Any]) -> dict[str, Any]:
        if name == "authorizer":
            return {
                "principalId": "u1",
                "policyDocument": {"Statement": [{"Effect": "Allow"}]},
                "context": {"tenant_id": "acme", "roles": "admin"},
            }
        self.events.append(event)
        return {"statusCode": 204, "headers": {}, "body": ""}


ROUTES = (
    wiring.Route("POST", "/api/v1/things/{thing_id}", "fn"),
    wiring.Route("POST", "/api/v1/things/special", "fn"),
)


def test_binary_bodies_are_base64_and_path_parameters_extracted():
    host = Recorder()
    gateway = Gateway(host, routes=ROUTES)  # type: ignore[arg-type]
    payload = bytes(range(256))
    status, _, _ = gateway.dispatch(
        "POST",
        "/api/v1/things/t-1?a=1&a=2",
        [("Content-Type", "application/x-protobuf"), ("Authorization", "Bearer x")],
        payload,
    )
    event = host.events[-1]
    assert status == 204
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload
    assert event["pathParameters"] == {"thing_id": "t-1"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["resource"] == "/api/v1/things/{thing_id}"
    assert event["requestContext"]["authorizer"]["tenant_id"] == "acme"


def test_literal_segments_win_over_parameters():
    host = Recorder()
    gateway = Gateway(host, routes=ROUTES)  # type: ignore[arg-type]
    gateway.dispatch("POST", "/api/v1/things/special", [("Authorization", "Bearer x")], b"{}")
    assert host.events[-1]["resource"] == "/api/v1/things/special"
    assert host.events[-1]["body"] == "{}"


def test_a_request_id_with_a_trailing_newline_is_not_echoed():
    from orchestrix.adapters.http.context import request_id_of

    event = {"headers": {"X-Request-Id": "abc\n"}, "requestContext": {"requestId": "gw-1"}}

    assert request_id_of(event) == "gw-1"


def test_local_route_with_a_malformed_body_is_a_400_problem() -> None:
    seen: list[dict[str, Any]] = []

    def tick(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        seen.append(body)
        return 200, {}

    gateway = Gateway(Recorder(), routes=ROUTES, local_routes={("POST", "/_local/tick"): tick})  # type: ignore[arg-type]

    for body in (b"{not json", b"[1, 2]", b"[" * 10_000):
        status, headers, out = gateway.dispatch("POST", "/_local/tick", [], body)
        assert status == 400, out
        assert ("Content-Type", "application/problem+json") in headers
    assert seen == []
