"""Two overlapping runs of a scheduled job: the first does the work, the second skips and
says so. The real handlers on the real database; only the hold point inside the first run
is added by the test."""

from __future__ import annotations

import importlib.util
import threading
import uuid
from types import ModuleType
from typing import Any

import pytest

from orchestrix import bootstrap
from orchestrix.adapters.postgres.job_lock import PostgresJobLock
from orchestrix.local.functions import LambdaContext, functions_dir
from tests.api.conftest import Client, token
from tests.api.test_alerting_api import RecordedEvents


def load(name: str) -> ModuleType:
    """A fresh copy of the function's handler module (the gateway's host runs one invocation
    per function at a time, like one container; two containers are two copies)."""
    path = functions_dir() / name / "handler.py"
    spec = importlib.util.spec_from_file_location(f"test_fn_{name}_{uuid.uuid4().hex}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(module: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = module.handler(event, LambdaContext("job", 128, 60))
    return result


@pytest.fixture
def api(client: Client) -> Client:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bootstrap, "event_publisher", RecordedEvents)
        yield client


def test_two_concurrent_rule_evaluations_one_evaluates_the_other_skips(
    api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = f"lock-{uuid.uuid4().hex[:8]}"
    created = api.post("/api/v1/alert-rules", token(tenant), {"name": "Down", "expr": "up == 0"})
    assert created.status == 201, created.body
    first_container, second_container = load("evaluate_rules"), load("evaluate_rules")
    inside, leave = threading.Event(), threading.Event()
    real_service = first_container.evaluation_service

    class HeldInsideTheLock:
        def __init__(self) -> None:
            self._service = real_service()

        def tick(self, tenant_id: str, at: Any) -> Any:
            inside.set()
            leave.wait(30)
            return self._service.tick(tenant_id, at)

    monkeypatch.setattr(first_container, "evaluation_service", HeldInsideTheLock)
    first: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: first.update(run(first_container, {})))
    thread.start()
    assert inside.wait(30)

    second = run(second_container, {})
    leave.set()
    thread.join(30)

    assert second["skipped"] == "another evaluation holds the lock"
    assert "skipped" not in first
    assert first["tenants"] >= 1
    # the lock went with the first run: the next tick evaluates again
    assert "skipped" not in run(second_container, {})


def test_housekeeping_skips_while_another_run_holds_the_lock(api: Client) -> None:
    housekeeping = load("housekeeping")

    with PostgresJobLock(bootstrap.database()).hold("housekeeping") as taken:
        assert taken
        while_held = run(housekeeping, {})
    after = run(housekeeping, {})

    assert while_held == {"skipped": "another housekeeping run holds the lock"}
    assert "purged_api_keys" in after
