"""HTTP to one Amazon Managed Service for Prometheus workspace, signed with SigV4.

Requests are signed for the service `aps` with the function role's credentials (botocore's
SigV4Auth; botocore is in the Lambda runtime already, so no new dependency) and sent over
botocore's pooled urllib3 session. Failures a retry can cure (throttling, 5xx, the network)
become `ServiceUnavailable`, so remote-write senders back off and retry; what the workspace
refuses for good comes back as `AmpRefusal` with its status and message.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlencode

from orchestrix.domain.errors import ServiceUnavailable

SERVICE = "aps"
# Throttling and the workspace's own trouble: the sender should come back later.
_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# Our own deployment is wrong (credentials, permissions, workspace id): never the caller's
# fault, so never a 4xx to them.
_MISCONFIGURED = frozenset({401, 403, 404})


class Credentials(Protocol):
    """What botocore's credential providers return (refreshed as they expire)."""

    def get_frozen_credentials(self) -> Any: ...


class AmpRefusal(Exception):
    """The workspace answered 4xx: the request can never succeed as sent."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def workspace_url(region: str, workspace_id: str, endpoint_url: str | None = None) -> str:
    """`https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>` (or the same path
    under `endpoint_url`, a stand-in for tests and the local runtime)."""
    base = (
        endpoint_url.rstrip("/")
        if endpoint_url
        else f"https://aps-workspaces.{region}.amazonaws.com"
    )
    return f"{base}/workspaces/{workspace_id}"


class AmpClient:
    def __init__(
        self,
        base_url: str,
        region: str,
        credentials: Credentials,
        *,
        timeout_s: float = 30.0,
        session: Any = None,
    ) -> None:
        from botocore.httpsession import URLLib3Session

        self._base = base_url.rstrip("/")
        self._region = region
        self._credentials = credentials
        self._session = session or URLLib3Session(timeout=math.ceil(timeout_s))

    def remote_write(self, body: bytes) -> None:
        """POST a snappy-compressed remote write 1.0 `WriteRequest`."""
        headers = {
            "Content-Type": "application/x-protobuf",
            "Content-Encoding": "snappy",
            "X-Prometheus-Remote-Write-Version": "0.1.0",
        }
        self._send("POST", "/api/v1/remote_write", body, headers)

    def api(
        self, path: str, params: Sequence[tuple[str, str]], *, method: str = "POST"
    ) -> Mapping[str, Any]:
        """A Prometheus HTTP API call (`/api/v1/<path>`): its JSON reply, success or error."""
        encoded = urlencode(list(params))
        if method == "GET":
            status, payload = self._send("GET", f"/api/v1/{path}?{encoded}", b"", {})
        else:
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            status, payload = self._send("POST", f"/api/v1/{path}", encoded.encode(), headers)
        try:
            reply = json.loads(payload)
        except ValueError:
            reply = None
        if not isinstance(reply, Mapping):
            raise ServiceUnavailable(f"the metric store answered {status} without a JSON body")
        return reply

    def _send(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.exceptions import BotoCoreError, HTTPClientError

        request = AWSRequest(method=method, url=self._base + path, data=body, headers=headers)
        SigV4Auth(self._credentials.get_frozen_credentials(), SERVICE, self._region).add_auth(
            request
        )
        try:
            response = self._session.send(request.prepare())
        except (HTTPClientError, BotoCoreError) as exc:
            raise ServiceUnavailable(
                f"the metric store is unreachable ({type(exc).__name__})"
            ) from exc
        status, payload = int(response.status_code), bytes(response.content or b"")
        if status in _RETRYABLE_STATUS:
            raise ServiceUnavailable(f"the metric store answered {status}: {_text(payload)}")
        if status in _MISCONFIGURED:
            raise ServiceUnavailable(
                f"the metric store refused this stage ({status}: {_text(payload)}); check the "
                "workspace id, region and the functions' aps permissions"
            )
        if status >= 400 and not _is_api_error(payload):
            raise AmpRefusal(status, _text(payload))
        return status, payload


def _text(payload: bytes, limit: int = 500) -> str:
    return payload[:limit].decode("utf-8", "replace").strip()


def _is_api_error(payload: bytes) -> bool:
    """A Prometheus API error body (`{"status":"error",...}`), which the caller maps."""
    return payload.startswith(b"{") and b'"status"' in payload
