"""The shape of an outbound HTTP call, shared by the step logic and the HTTP client adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from orchestrix.domain.egress import EgressPolicy


@dataclass(frozen=True)
class OutboundRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes
    url: str  # after redirects


class HttpClient(Protocol):
    """Sends one request; every hop (redirects included) must pass `egress`.

    Raises EgressDenied, HttpTimeout or HttpTransportError; any status is a response.
    """

    def __call__(self, request: OutboundRequest, egress: EgressPolicy) -> OutboundResponse: ...
