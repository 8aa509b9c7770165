"""Tenant http/notify steps against a real `orchestrix dev`: the local AWS emulator (every
tenant's data and functions) and the server's own port (`/_local/tick`, the shared clock) are
out of reach, however the address is spelled or redirected; a loopback receiver on another
port still works."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import DevServer
from tests.e2e.receivers import Receiver

pytestmark = pytest.mark.e2e
INVOKE_API = "/2015-03-31/functions/api/invocations"


def emulator_port(dev: DevServer) -> int:
    port = urlsplit(json.loads((dev.home / "aws.json").read_text())["endpoint_url"]).port
    assert port is not None
    return port


def gateway_port(dev: DevServer) -> int:
    port = urlsplit(dev.url).port
    assert port is not None
    return port


def clock_offset(dev: DevServer) -> float:
    code, _, body = dev.request("POST", "/_local/tick", None, {"advance": "0s"})
    assert code == 200, body
    return float(body["offset_seconds"])


def probe(url: str) -> dict[str, Any]:
    victim = {"tenant_id": "victim", "roles": "admin"}
    forged = {
        "httpMethod": "GET",
        "path": "/api/v1/members",
        "requestContext": {"authorizer": victim},
    }
    return {
        "name": f"probe-{uuid.uuid4().hex[:6]}",
        "inputs": {"type": "object", "properties": {"target": {"type": "string"}}},
        "steps": [
            {
                "id": "call",
                "type": "http",
                "request": {"method": "POST", "url": url, "body": forged},
            }
        ],
    }


def run(dev: DevServer, tenant: str, definition: dict[str, Any], inputs: dict[str, Any]) -> Any:
    editor = dev.token(tenant, "editor")
    code, _, created = dev.request("POST", "/api/v1/workflows", editor, definition)
    assert code == 201, created
    code, _, started = dev.request(
        "POST", f"/api/v1/workflows/{created['id']}/execute", editor, {"input": inputs}
    )
    assert code == 201, started
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        code, _, shown = dev.request("GET", f"/api/v1/executions/{started['id']}", editor)
        assert code == 200, shown
        if shown["status"] not in ("running", "waiting_approval"):
            return shown
        time.sleep(0.1)
    raise AssertionError(f"still running after 30 s: {shown}")


@pytest.fixture
def redirector() -> Iterator[tuple[str, list[str]]]:
    """A loopback service whose every answer is a 302 to the Location the path names."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _redirect(self) -> None:
            seen.append(self.path)
            self.send_response(302)
            self.send_header("Location", "http://" + self.path.removeprefix("/to/"))
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _redirect

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()
    thread.join()


def test_literal_urls_to_the_emulator_or_the_tick_route_are_refused_at_save(
    dev: DevServer,
) -> None:
    editor = dev.token(f"eg-{uuid.uuid4().hex[:8]}", "editor")
    for url in (
        f"http://127.0.0.1:{emulator_port(dev)}{INVOKE_API}",
        f"http://localhost:{gateway_port(dev)}/_local/tick",
    ):
        code, headers, body = dev.request("POST", "/api/v1/workflows", editor, probe(url))

        assert code == 422, body
        assert headers["Content-Type"] == "application/problem+json"
        (error,) = body["errors"]
        assert error["loc"] == ["steps", 0, "request", "url"]
        assert "is an Orchestrix service" in error["msg"]


@pytest.mark.parametrize(
    ("spelling", "port_of"),
    [
        ("127.0.0.1", emulator_port),
        ("localhost", emulator_port),
        ("[::ffff:127.0.0.1]", emulator_port),
        ("2130706433", gateway_port),  # 127.0.0.1 as one decimal number
        ("0.0.0.0", gateway_port),
    ],
)
def test_templated_urls_to_orchestrix_fail_at_run_and_leave_the_clock_alone(
    dev: DevServer, spelling: str, port_of: Any
) -> None:
    # given a workflow whose URL only becomes the emulator/gateway at run time
    path = INVOKE_API if port_of is emulator_port else "/_local/tick"
    before = clock_offset(dev)

    # when it runs
    done = run(
        dev,
        f"eg-{uuid.uuid4().hex[:8]}",
        probe("http://{{ inputs.target }}" + path),
        {"target": f"{spelling}:{port_of(dev)}"},
    )

    # then the step is refused by the egress policy and nothing moved
    (call,) = done["steps"]
    assert (done["status"], call["error"]["error"]) == ("failed", "EgressDenied"), done
    assert "is an Orchestrix service" in call["error"]["cause"]
    assert clock_offset(dev) == before


def test_redirect_to_the_emulator_is_refused(
    dev: DevServer, redirector: tuple[str, list[str]]
) -> None:
    host, seen = redirector
    target = f"127.0.0.1:{emulator_port(dev)}{INVOKE_API}"

    done = run(dev, f"eg-{uuid.uuid4().hex[:8]}", probe(f"http://{host}/to/{target}"), {})

    (call,) = done["steps"]
    assert seen == [f"/to/{target}"]  # the first hop went out, the redirect did not
    assert (done["status"], call["error"]["error"]) == ("failed", "EgressDenied"), done
    assert "is an Orchestrix service" in call["error"]["cause"]


def test_loopback_receiver_on_another_port_still_gets_http_and_notify_steps(
    dev: DevServer,
) -> None:
    receiver = Receiver()
    try:
        definition = probe(f"{receiver.url}/probe")
        definition["steps"][0]["next"] = "tell"
        definition["steps"].append(
            {
                "id": "tell",
                "type": "notify",
                "channel": {"type": "webhook", "url": f"{receiver.url}/hook"},
                "message": "probed: {{ steps.call.status }}",
            }
        )

        done = run(dev, f"eg-{uuid.uuid4().hex[:8]}", definition, {})

        assert done["status"] == "succeeded", done
        assert receiver.paths() == ["/probe", "/hook"]
    finally:
        receiver.close()
