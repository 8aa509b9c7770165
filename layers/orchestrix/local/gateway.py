"""An API Gateway REST API (v1 proxy integration) emulator on 127.0.0.1.

Each HTTP request becomes the proxy event API Gateway would send — the route's resource
path, path parameters, multi-value headers and query strings, `requestContext.authorizer`
from the real authorizer function, base64 bodies for binary media types — and the real
handler module answers it. Gateway-level errors use the same problem+json bodies as the
deployed API's gateway responses.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from orchestrix import wiring
from orchestrix.adapters.http.problems import PROBLEM_JSON, problem_body
from orchestrix.local.functions import FunctionHost
from orchestrix.local.throttle import Throttles

STAGE = "local"
API_ID = "local"
ACCOUNT = "123456789012"
MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's own limit

LocalRoute = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class CompiledRoute:
    route: wiring.Route
    pattern: re.Pattern[str]


def compile_routes(routes: tuple[wiring.Route, ...]) -> list[CompiledRoute]:
    compiled = []
    for route in routes:
        regex = ""
        for part in route.path.strip("/").split("/"):
            if part.startswith("{") and part.endswith("+}"):
                regex += f"/(?P<{part[1:-2]}>.+)"
            elif part.startswith("{") and part.endswith("}"):
                regex += f"/(?P<{part[1:-1]}>[^/]+)"
            else:
                regex += "/" + re.escape(part)
        compiled.append(CompiledRoute(route, re.compile(f"^{regex or '/'}$")))
    # Literal segments beat parameters, as in API Gateway.
    compiled.sort(key=lambda c: c.route.path.count("{"))
    return compiled


class AuthorizerCache:
    def __init__(self, ttl_seconds: int) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            hit = self._entries.get(token)
            if hit and hit[0] > time.monotonic():
                return hit[1]
            return None

    def put(self, token: str, policy: dict[str, Any]) -> None:
        with self._lock:
            self._entries[token] = (time.monotonic() + self._ttl, policy)


class Gateway:
    def __init__(
        self,
        host: FunctionHost,
        routes: tuple[wiring.Route, ...] = wiring.ROUTES,
        local_routes: dict[tuple[str, str], LocalRoute] | None = None,
        authorizer_cache_seconds: int = wiring.AUTHORIZER_CACHE_SECONDS,
    ) -> None:
        self.host = host
        self.routes = compile_routes(routes)
        self.local_routes = local_routes or {}
        self.cache = AuthorizerCache(authorizer_cache_seconds)
        self.throttles = Throttles(routes)

    # -- request -> proxy event -------------------------------------------------------------
    def dispatch(
        self, method: str, raw_path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        request_id = str(uuid.uuid4())
        split = urlsplit(raw_path)
        path = split.path or "/"
        if len(body) > MAX_PAYLOAD:
            return _problem(413, f"request body exceeds {MAX_PAYLOAD} bytes", request_id)
        local = self.local_routes.get((method, path))
        if local is not None:
            try:
                parsed = json.loads(body or b"{}")
            except (ValueError, RecursionError):
                return _problem(400, "the body is not valid JSON", request_id)
            if not isinstance(parsed, dict):
                return _problem(400, "the body must be a JSON object", request_id)
            status, payload = local(parsed)
            return status, [("Content-Type", "application/json")], json.dumps(payload).encode()
        match = self._match(method, path)
        if match is None:
            return _problem(404, f"no route for {method} {path}", request_id)
        compiled, params = match
        wait = self.throttles.wait(compiled.route)
        if wait is not None:
            throttled = _problem(429, "too many requests to this route", request_id)
            return (
                throttled[0],
                [*throttled[1], ("Retry-After", str(max(1, round(wait))))],
                throttled[2],
            )
        event = self._event(method, path, split.query, headers, body, compiled.route, params)
        event["requestContext"]["requestId"] = request_id
        if compiled.route.auth:
            denied = self._authorize(event, request_id)
            if denied is not None:
                return denied
        try:
            response = self.host.invoke(compiled.route.function, event)
        except Exception:  # a crashed Lambda is a 502 at API Gateway
            return _problem(502, "internal server error", request_id, title="Bad Gateway")
        return _to_http(response)

    def _match(self, method: str, path: str) -> tuple[CompiledRoute, dict[str, str]] | None:
        for compiled in self.routes:
            if compiled.route.method != method:
                continue
            m = compiled.pattern.match(path)
            if m:
                # Routing sees the raw path (so %2F stays inside one segment); the handler
                # gets the parameters URL-decoded, as API Gateway sends `pathParameters`.
                return compiled, {k: unquote(v) for k, v in m.groupdict().items()}
        return None

    def _event(
        self,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        route: wiring.Route,
        params: dict[str, str],
    ) -> dict[str, Any]:
        multi_headers: dict[str, list[str]] = {}
        for name, value in headers:
            multi_headers.setdefault(name, []).append(value)
        multi_query: dict[str, list[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            multi_query.setdefault(name, []).append(value)
        content_type = (
            next((v for k, v in headers if k.lower() == "content-type"), "")
            .split(";")[0]
            .strip()
            .lower()
        )
        binary = content_type in wiring.BINARY_MEDIA_TYPES
        text_body: str | None
        if not body:
            text_body = None
        elif binary:
            text_body = base64.b64encode(body).decode()
        else:
            try:
                text_body = body.decode("utf-8")
            except UnicodeDecodeError:
                text_body, binary = base64.b64encode(body).decode(), True
        source_ip = next((v for k, v in headers if k.lower() == "x-forwarded-for"), "127.0.0.1")
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": {k: v[-1] for k, v in multi_headers.items()},
            "multiValueHeaders": multi_headers,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": method,
                "path": f"/{STAGE}{path}",
                "stage": STAGE,
                "accountId": ACCOUNT,
                "apiId": API_ID,
                "protocol": "HTTP/1.1",
                "domainName": "127.0.0.1",
                "requestTimeEpoch": int(time.time() * 1000),
                "identity": {
                    "sourceIp": source_ip.split(",")[0].strip(),
                    "userAgent": next((v for k, v in headers if k.lower() == "user-agent"), ""),
                },
            },
            "body": text_body,
            "isBase64Encoded": binary,
        }

    def _authorize(
        self, event: dict[str, Any], request_id: str
    ) -> tuple[int, list[tuple[str, str]], bytes] | None:
        token = next((v for k, v in event["headers"].items() if k.lower() == "authorization"), "")
        if not token:
            # API Gateway answers a TOKEN authorizer's missing identity source itself.
            return _problem(401, "missing Authorization header", request_id)
        result = self.cache.get(token)
        if result is None:
            method_arn = (
                f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{API_ID}/{STAGE}/"
                f"{event['httpMethod']}{event['resource']}"
            )
            authorizer_event = {
                "type": "TOKEN",
                "authorizationToken": token,
                "methodArn": method_arn,
            }
            try:
                result = self.host.invoke(wiring.AUTHORIZER_FUNCTION, authorizer_event)
            except Exception as exc:
                if str(exc) == "Unauthorized":
                    return _problem(401, "invalid or expired credentials", request_id)
                return _problem(500, "authorizer failed", request_id)
            self.cache.put(token, result)
        statements = result.get("policyDocument", {}).get("Statement", [])
        if not any(s.get("Effect") == "Allow" for s in statements):
            return _problem(403, "not allowed", request_id)
        context = dict(result.get("context") or {})
        context["principalId"] = result.get("principalId")
        event["requestContext"]["authorizer"] = context
        return None


def _problem(
    status: int, detail: str, request_id: str, title: str | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps(problem_body(status, detail, title=title)).encode()
    return status, [("Content-Type", PROBLEM_JSON), ("X-Request-Id", request_id)], body


def _to_http(response: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    headers: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, values in (response.get("multiValueHeaders") or {}).items():
        seen.add(name.lower())
        headers.extend((name, str(v)) for v in values)
    for name, value in (response.get("headers") or {}).items():
        if name.lower() not in seen:
            headers.append((name, str(value)))
    raw = response.get("body") or ""
    body = base64.b64decode(raw) if response.get("isBase64Encoded") else str(raw).encode()
    return int(response.get("statusCode", 200)), headers, body


class _TooLarge(Exception):
    pass


class _RequestHandler(BaseHTTPRequestHandler):
    server: GatewayServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        # A client that stops sending (idle keep-alive, a stalled body) is dropped after this
        # long instead of holding its thread forever; API Gateway's own idle limit is similar.
        super().setup()
        self.connection.settimeout(self.server.read_timeout_s)
        # Headers and body go out as separate writes; without this, Nagle's algorithm and
        # delayed ACKs add ~40 ms to every keep-alive response.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # What http.server itself refuses (a request line over 64 KiB: 414, a malformed one:
        # 400) is answered like every other error, in problem+json, not its HTML page.
        status, headers, payload = _problem(
            code, message or HTTPStatus(code).phrase, str(uuid.uuid4())
        )
        self.close_connection = True
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(payload)

    def _read_body(self) -> bytes:
        """The request body, chunked or sized. Broken framing (ValueError) or a body over the
        limit (_TooLarge) closes the connection: the rest of the stream cannot be trusted."""
        try:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                return self._read_chunked()
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0:
                raise ValueError("negative Content-Length")
            if length > MAX_PAYLOAD:
                raise _TooLarge
            return self.rfile.read(length) if length else b""
        except (ValueError, _TooLarge):
            self.close_connection = True  # the unread rest must not become the next request
            raise

    def _read_chunked(self) -> bytes:
        # Clients that stream a body (requests with a generator, curl -T -) send it chunked;
        # left unread, its chunks would be parsed as the next request on the connection.
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline(1024).split(b";", 1)[0].strip() or b"x", 16)
            if size == 0:
                while self.rfile.readline(65536).strip():  # trailers, up to the blank line
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_PAYLOAD:
                raise _TooLarge
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)  # the CRLF after each chunk

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except _TooLarge:
            status, headers, payload = _problem(
                413, f"request body exceeds {MAX_PAYLOAD} bytes", str(uuid.uuid4())
            )
        except ValueError:
            status, headers, payload = _problem(
                400, "malformed Content-Length or chunked body", str(uuid.uuid4())
            )
        else:
            status, headers, payload = self.server.gateway.dispatch(
                self.command, self.path, list(self.headers.items()), body
            )
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_TRACE = _serve

    def do_HEAD(self) -> None:
        # Routes are declared per method; like API Gateway, an undeclared HEAD is not found.
        with contextlib.suppress(ValueError, _TooLarge):
            self._read_body()  # a body sent with HEAD must not be parsed as the next request
        status, headers, _ = self.server.gateway.dispatch(
            "HEAD", self.path, list(self.headers.items()), b""
        )
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()

    def __getattr__(self, name: str) -> Any:
        # Any other method (QUERY, PROPFIND, ...) reaches routing and is answered there.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, gateway: Gateway, port: int, verbose: bool = False, read_timeout_s: float = 60.0
    ) -> None:
        self.gateway = gateway
        self.verbose = verbose
        self.read_timeout_s = read_timeout_s
        super().__init__(("127.0.0.1", port), _RequestHandler)
