"""The API through the gateway emulator, in process: real authorizer, real handlers, real
PostgreSQL — everything but the socket."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrix import bootstrap
from orchestrix.adapters.clock import AdjustableClock
from orchestrix.local import devkeys
from orchestrix.local.functions import FunctionHost
from orchestrix.local.gateway import Gateway
from orchestrix.local.home import LOCAL_AUDIENCE, LOCAL_ISSUER
from orchestrix.settings import Settings


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class Client:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = token if " " in token else f"Bearer {token}"
        payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        status, out_headers, out = self.gateway.dispatch(method, path, list(sent.items()), payload)
        return Reply(status, {k.lower(): v for k, v in out_headers}, out)

    def get(self, path: str, token: str | None = None, **kw: Any) -> Reply:
        return self.request("GET", path, token, **kw)

    def post(self, path: str, token: str | None = None, body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, token, body, **kw)

    def delete(self, path: str, token: str | None = None, **kw: Any) -> Reply:
        return self.request("DELETE", path, token, **kw)


@pytest.fixture(scope="session")
def api_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("orchestrix-home")
    import os

    os.environ["ORCHESTRIX_HOME"] = str(home)
    return home


@pytest.fixture(scope="session")
def client(database_url: str, api_home: Path) -> Iterator[Client]:
    settings = Settings(
        local=True,
        database_url=database_url,
        oidc_issuer=LOCAL_ISSUER,
        oidc_audience=LOCAL_AUDIENCE,
        oidc_jwks_url=devkeys.jwks_url(),
    )
    bootstrap.configure(settings=settings, clock=AdjustableClock())
    # The authorizer's answers are cached as API Gateway caches them (wiring's TTL): a
    # revoked key must still be refused at once, by the handler's own check.
    yield Client(Gateway(FunctionHost()))
    bootstrap.database().close()


@pytest.fixture(scope="module")
def api(client: Client) -> Client:
    return client


@pytest.fixture
def tenants() -> tuple[str, str]:
    """Two fresh tenants: the one acting and the one that must see none of it."""
    suffix = uuid.uuid4().hex[:8]
    return f"a-{suffix}", f"b-{suffix}"


def token(tenant: str, role: str = "admin", subject: str | None = None) -> str:
    return devkeys.mint_token(tenant, [role], subject)


@contextmanager
def in_process_aws() -> Iterator[None]:
    """moto in this process (KMS for channel secrets, Scheduler, SES, SNS), with bootstrap's
    cached clients and sealed-secret boxes forgotten on the way in and out."""
    from moto import mock_aws

    from orchestrix.adapters.notify import components

    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("AWS_ENDPOINT_URL", raising=False)
        for name, value in (
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "x"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
        ):
            mp.setenv(name, value)
        with mock_aws():
            bootstrap.boto3_client.cache_clear()
            components._boxes.clear()
            yield
        bootstrap.boto3_client.cache_clear()
        components._boxes.clear()


@pytest.fixture(scope="module")
def incident_aws(client: Client) -> Iterator[None]:
    """moto with the stage's bus and schedule group: opening an incident publishes events and
    schedules its SLA checks."""
    with in_process_aws():
        import boto3

        settings = bootstrap.settings()
        boto3.client("events", region_name="us-east-1").create_event_bus(
            Name=settings.event_bus_name
        )
        boto3.client("scheduler", region_name="us-east-1").create_schedule_group(
            Name=settings.schedule_group_name
        )
        yield
