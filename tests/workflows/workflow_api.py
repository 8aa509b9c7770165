"""The workflows API in process on moto's Step Functions engine: real gateway, authorizer,
handlers and PostgreSQL; every wiring function runs in-process behind moto's Lambda."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orchestrix import bootstrap
from orchestrix.adapters.clock import AdjustableClock
from orchestrix.local import devkeys, workflow_functions
from orchestrix.local.functions import FunctionHost
from orchestrix.local.gateway import Gateway
from orchestrix.local.home import LOCAL_AUDIENCE, LOCAL_ISSUER
from orchestrix.settings import Settings
from tests.api.conftest import Client, Reply

REGION = "us-east-1"
FINAL = ("succeeded", "failed", "cancelled", "timed_out")


@dataclass
class Api:
    client: Client
    events: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def token(self, tenant: str, role: str = "editor") -> str:
        return devkeys.mint_token(tenant, [role])

    def call(
        self,
        method: str,
        path: str,
        tenant: str,
        role: str = "editor",
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        return self.client.request(method, path, self.token(tenant, role), body, headers=headers)

    def create(self, tenant: str, definition: dict[str, Any]) -> str:
        reply = self.call("POST", "/api/v1/workflows", tenant, body=definition)
        assert reply.status == 201, reply.json
        return str(reply.json["id"])

    def execute(self, tenant: str, workflow_id: str, inputs: dict[str, Any]) -> str:
        reply = self.call(
            "POST",
            f"/api/v1/workflows/{workflow_id}/execute",
            tenant,
            "responder",
            {"input": inputs},
        )
        assert reply.status == 201, reply.json
        return str(reply.json["id"])

    def execution(self, tenant: str, execution_id: str) -> dict[str, Any]:
        reply = self.call("GET", f"/api/v1/executions/{execution_id}", tenant, "viewer")
        assert reply.status == 200, reply.json
        result: dict[str, Any] = reply.json
        return result

    def wait_for(self, tenant: str, execution_id: str, *statuses: str) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            shown = self.execution(tenant, execution_id)
            if shown["status"] in statuses:
                return shown
            if shown["status"] in FINAL:
                raise AssertionError(f"ended {shown['status']}, expected {statuses}: {shown}")
            time.sleep(0.05)
        raise AssertionError(f"{execution_id} not {statuses} after 30 s: {shown}")

    def published(self, execution_id: str) -> list[str]:
        with self.lock:
            return [
                e["detail-type"] for e in self.events if e["detail"]["execution_id"] == execution_id
            ]


@pytest.fixture
def api(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "ORCHESTRIX_HOME": os.environ.get("ORCHESTRIX_HOME") or str(tmp_path),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    saved = dict(bootstrap._overrides)
    holder: list[Api] = []

    def record(bus: str, envelope: dict[str, Any]) -> None:
        with holder[0].lock:
            holder[0].events.append(envelope)

    settings = Settings(
        local=True,
        database_url=database_url,
        oidc_issuer=LOCAL_ISSUER,
        oidc_audience=LOCAL_AUDIENCE,
        oidc_jwks_url=devkeys.jwks_url(),
    )
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        bootstrap.configure(settings=settings, clock=AdjustableClock(), event_dispatch=record)
        boto3.client("events", region_name=REGION).create_event_bus(Name=settings.event_bus_name)
        host = FunctionHost()
        workflow_functions.register_functions(host.invoke)
        holder.append(Api(Client(Gateway(host, authorizer_cache_seconds=0))))
        try:
            yield holder[0]
        finally:
            workflow_functions.stop_executions()
            bootstrap.database().close()
            bootstrap._overrides.clear()
            bootstrap.configure(**saved)
