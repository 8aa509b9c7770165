"""The stdlib HTTP client against a real server on 127.0.0.1."""

from __future__ import annotations

import socket

import pytest
from workflow_runtime import LocalHttp

from orchestrix.adapters.http_client import send
from orchestrix.domain.egress import EgressDenied, EgressPolicy
from orchestrix.domain.workflow.errors import HttpTimeout, HttpTransportError
from orchestrix.domain.workflow.http import OutboundRequest

pytestmark = pytest.mark.xdist_group("moto-sfn")

LOCAL = EgressPolicy.for_stage(local=True)


def get(url: str, timeout: float = 5.0) -> OutboundRequest:
    return OutboundRequest("GET", url, {}, None, timeout)


def test_redirect_is_followed_when_every_hop_is_allowed(local_http: LocalHttp) -> None:
    local_http.redirects["/old"] = "/new"
    local_http.answer("/new", 200)

    response = send(get(f"{local_http.url}/old"), LOCAL)

    assert (response.status, response.url) == (200, f"{local_http.url}/new")
    assert [path for _, path, _ in local_http.received] == ["/old", "/new"]


def test_redirect_to_a_refused_target_is_stopped_before_it_is_called(
    local_http: LocalHttp,
) -> None:
    local_http.redirects["/sneaky"] = "http://169.254.169.254/latest/meta-data/"

    with pytest.raises(EgressDenied, match="link-local"):
        send(get(f"{local_http.url}/sneaky"), LOCAL)


def test_loopback_is_refused_outside_local_mode(local_http: LocalHttp) -> None:
    with pytest.raises(EgressDenied, match="loopback"):
        send(get(f"{local_http.url}/health"), EgressPolicy())
    assert local_http.received == []


def test_redirect_loop_is_a_transport_error(local_http: LocalHttp) -> None:
    local_http.redirects["/loop"] = "/loop"

    with pytest.raises(HttpTransportError, match="more than 5 redirects"):
        send(get(f"{local_http.url}/loop"), LOCAL)


def test_slow_target_is_a_timeout(local_http: LocalHttp) -> None:
    local_http.delays["/slow"] = 0.5

    with pytest.raises(HttpTimeout, match="no answer within 0.1s"):
        send(get(f"{local_http.url}/slow", timeout=0.1), LOCAL)


def test_closed_port_is_a_transport_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(HttpTransportError, match="GET http://127.0.0.1"):
        send(get(f"http://127.0.0.1:{port}/"), LOCAL)
