"""A stand-in for Amazon Managed Service for Prometheus: a real Prometheus (remote-write
receiver on) behind a small proxy that checks each request's SigV4 signature the way AMP
does (service `aps`, the region, fixed credentials) and maps AMP's paths onto Prometheus':
`/workspaces/<id>/api/v1/remote_write` → `/api/v1/write`, `/workspaces/<id>/api/v1/<x>` →
`/api/v1/<x>`. Everything binds to 127.0.0.1 and stops with the context manager."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from orchestrix.local.aws import free_port
from tests.compat.test_alertmanager_peers import _start, _stop

PROMETHEUS = shutil.which("prometheus")
WORKSPACE = "ws-standin"
REGION = "eu-west-1"
ACCESS_KEY = "AKIDSTANDIN"
SECRET_KEY = "standin-secret"
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})\Z"
)


@dataclass
class Forwarded:
    method: str
    path: str  # Prometheus' path
    params: list[tuple[str, str]]  # query string and form body


@dataclass
class StandIn:
    endpoint: str  # what AMP_ENDPOINT_URL points at
    prometheus: str  # Prometheus itself, unsigned, for checks behind our back
    forwarded: list[Forwarded] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def raw_query(self, query: str, at_s: float) -> list[dict[str, object]]:
        """A query straight to Prometheus, bypassing Orchestrix and its confinement."""
        url = f"{self.prometheus}/api/v1/query?" + urlencode(
            {"query": query, "time": f"{at_s:.3f}"}
        )
        with urllib.request.urlopen(url, timeout=10) as reply:
            return json.loads(reply.read())["data"]["result"]  # type: ignore[no-any-return]


def signature_problem(method: str, url: str, headers: dict[str, str], body: bytes) -> str | None:
    """Why a request's SigV4 signature is not AMP's, or None when it is."""
    match = _AUTH.match(headers.get("authorization", ""))
    if match is None:
        return f"malformed Authorization header: {headers.get('authorization')!r}"
    if (match["key"], match["region"], match["service"]) != (ACCESS_KEY, REGION, "aps"):
        return f"wrong credential scope: {match.group(0)[:120]}"
    signed = match["signed"].split(";")
    if "host" not in signed or "x-amz-date" not in signed:
        return f"host and x-amz-date must be signed: {signed}"
    request = AWSRequest(
        method=method, url=url, data=body, headers={name: headers[name] for name in signed}
    )
    request.context["timestamp"] = headers["x-amz-date"]
    auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "aps", REGION)
    expected = auth.signature(
        auth.string_to_sign(request, auth.canonical_request(request)), request
    )
    return None if expected == match["signature"] else "signature mismatch"


def _handler(state: StandIn) -> type[BaseHTTPRequestHandler]:
    prefix = f"/workspaces/{WORKSPACE}"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            url = f"http://{headers.get('host')}{self.path}"
            problem = signature_problem(self.command, url, headers, body)
            if problem is not None:
                state.refused.append(problem)
                message = json.dumps({"message": problem}).encode()
                return self._reply(403, message, "application/json")
            parts = urlsplit(self.path)
            if not parts.path.startswith(prefix + "/api/v1/"):
                return self._reply(404, b'{"message":"no such workspace"}', "application/json")
            path = parts.path[len(prefix) :]
            if path == "/api/v1/remote_write":
                path = "/api/v1/write"
            params = parse_qsl(parts.query, keep_blank_values=True)
            if "x-www-form-urlencoded" in headers.get("content-type", ""):
                params += parse_qsl(body.decode(), keep_blank_values=True)
            state.forwarded.append(Forwarded(self.command, path, params))
            target = state.prometheus + path + (f"?{parts.query}" if parts.query else "")
            sent = {k: v for k, v in headers.items() if k.startswith("content-")}
            sent.update({k: v for k, v in headers.items() if k.startswith("x-prometheus")})
            request = urllib.request.Request(target, data=body or None, headers=sent)
            request.method = self.command
            try:
                with urllib.request.urlopen(request, timeout=30) as reply:
                    status, out, kind = reply.status, reply.read(), reply.headers["Content-Type"]
            except urllib.error.HTTPError as exc:
                status, out, kind = exc.code, exc.read(), exc.headers["Content-Type"]
            self._reply(status, out, kind or "text/plain")

        do_GET = do_POST = _handle

    return Handler


@contextmanager
def amp_standin(work: Path) -> Iterator[StandIn]:
    assert PROMETHEUS is not None
    port = free_port()
    (work / "prometheus.yml").write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
    process = _start(
        [
            PROMETHEUS,
            f"--config.file={work / 'prometheus.yml'}",
            f"--storage.tsdb.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-remote-write-receiver",
        ],
        work / "prometheus.log",
    )
    server: ThreadingHTTPServer | None = None
    try:
        state = StandIn("", f"http://127.0.0.1:{port}")
        _wait_ready(state.prometheus, process)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        state.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        yield state
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        _stop(process)


def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("prometheus exited at start-up (see prometheus.log)")
        try:
            with urllib.request.urlopen(f"{base}/-/ready", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.2)
    raise RuntimeError("prometheus did not become ready within 30 s")
