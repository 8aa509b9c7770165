"""Outbound HTTP for workflow steps and webhooks (stdlib only).

Redirects are followed by hand so every hop passes the egress policy, and each connection
goes to an address the policy vetted (never to a fresh DNS answer), which defeats DNS
rebinding. TLS still verifies the certificate against the host name.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from urllib.parse import urljoin, urlsplit

from orchestrix.domain.egress import EgressPolicy, IPAddress, VettedTarget
from orchestrix.domain.workflow.errors import HttpTimeout, HttpTransportError
from orchestrix.domain.workflow.http import OutboundRequest, OutboundResponse

MAX_REDIRECTS = 5
MAX_BODY_BYTES = 1 << 20
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_USER_AGENT = "Orchestrix-Workflow/1"


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: VettedTarget, address: IPAddress, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self._address), self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: VettedTarget, address: IPAddress, timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = address
        self._tls = ssl.create_default_context()

    def connect(self) -> None:
        raw = socket.create_connection((str(self._address), self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def send(request: OutboundRequest, egress: EgressPolicy) -> OutboundResponse:
    """Send `request`, following up to MAX_REDIRECTS redirects, each one vetted."""
    method, url, body = request.method.upper(), request.url, request.body
    headers = {"User-Agent": _USER_AGENT, **request.headers}
    for _ in range(MAX_REDIRECTS + 1):
        target = egress.vet(url)
        status, response_headers, payload = _once(target, method, url, headers, body, request)
        location = response_headers.get("location")
        if status not in _REDIRECTS or not location:
            return OutboundResponse(status, response_headers, payload, url)
        url = urljoin(url, location)
        if status == 303 or (status in (301, 302) and method == "POST"):
            method, body = ("HEAD" if method == "HEAD" else "GET"), None
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    raise HttpTransportError(f"{request.method} {request.url}: more than {MAX_REDIRECTS} redirects")


def _once(
    target: VettedTarget,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    request: OutboundRequest,
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    last_error: OSError | None = None
    for address in target.addresses:
        connection = kind(target, address, request.timeout_seconds)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read(MAX_BODY_BYTES)
            found = {name.lower(): value for name, value in response.getheaders()}
            return response.status, found, payload
        except TimeoutError as exc:
            raise HttpTimeout(
                f"{request.method} {request.url}: no answer within {request.timeout_seconds:g}s"
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            last_error = exc if isinstance(exc, OSError) else OSError(str(exc))
        finally:
            connection.close()
    raise HttpTransportError(f"{request.method} {request.url}: {last_error}")
