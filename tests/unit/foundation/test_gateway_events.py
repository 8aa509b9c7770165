"""The gateway emulator builds the proxy events API Gateway would."""

from __future__ import annotations

import base64
import json
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


def test_chunked_bodies_are_read_whole_and_keep_alive_stays_in_step() -> None:
    # A client streaming its body sends it chunked; left unread, the chunks were parsed as the
    # next request and the client read an HTML error page as its next response.
    import http.client
    import threading

    from orchestrix.local.gateway import GatewayServer

    host = Recorder()
    server = GatewayServer(Gateway(host, routes=ROUTES), 0)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        headers = {"Authorization": "Bearer x", "Content-Type": "application/json"}
        conn.request("POST", "/api/v1/things/t-1", body=iter([b'{"a":', b" 1}"]),
                     headers=headers, encode_chunked=True)  # fmt: skip
        first = conn.getresponse()
        first.read()
        conn.request("POST", "/api/v1/things/t-2", body=b"{}", headers=headers)
        second = conn.getresponse()
        second.read()
        conn.request("POST", "/api/v1/things/t-3", body=b"zz\r\n",
                     headers={**headers, "Transfer-Encoding": "chunked"})  # fmt: skip
        broken = conn.getresponse()
        broken.read()
    finally:
        server.shutdown()
        server.server_close()

    assert (first.status, second.status) == (204, 204)
    assert json.loads(host.events[0]["body"]) == {"a": 1}
    assert [e["pathParameters"]["thing_id"] for e in host.events] == ["t-1", "t-2"]
    assert broken.status == 400 and broken.getheader("Connection") == "close"


def test_a_client_that_stops_sending_is_disconnected() -> None:
    """An idle or stalled connection must not hold a gateway thread forever."""
    import socket
    import threading

    from orchestrix.local.gateway import GatewayServer

    server = GatewayServer(Gateway(Recorder(), routes=ROUTES), 0, read_timeout_s=0.2)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=30) as s:
            s.sendall(b"POST /api/v1/things/t-1 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{")
            # the body never completes: the server gives up and closes the connection
            leftover = b""
            while chunk := s.recv(4096):
                leftover += chunk
    finally:
        server.shutdown()
        server.server_close()

    assert b"204" not in leftover  # nothing was handled with half a body


def test_a_request_line_over_64_kib_is_a_414_problem() -> None:
    # http.server refuses such a line itself; the client still gets problem+json, not HTML.
    import http.client
    import threading

    from orchestrix.local.gateway import GatewayServer

    server = GatewayServer(Gateway(Recorder(), routes=ROUTES), 0)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        conn.request("GET", "/api/v1/things/t-1?q=" + "x" * 70_000)
        reply = conn.getresponse()
        body = json.loads(reply.read())
    finally:
        server.shutdown()
        server.server_close()

    assert reply.status == 414
    assert reply.getheader("Content-Type") == "application/problem+json"
    assert body["status"] == 414 and body["title"]
