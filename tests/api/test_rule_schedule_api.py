"""Saving an enabled rule through the API switches rule evaluation on (it is off while no
tenant has rules, so that an idle stage lets its database pause)."""

from __future__ import annotations

import uuid

from orchestrix import bootstrap
from orchestrix.local.scheduler import ScheduleSwitches
from tests.api.conftest import Client, token


def evaluation_on() -> bool:
    switches = bootstrap._overrides["schedule_switches"]
    assert isinstance(switches, ScheduleSwitches)
    return switches.enabled("evaluate-rules")


def test_creating_an_enabled_rule_switches_evaluation_on(client: Client) -> None:
    admin = token(f"sched-{uuid.uuid4().hex[:8]}", "admin")
    bootstrap.evaluation_schedule().set_enabled(False)  # as the evaluator leaves an idle stage

    off = client.post("/api/v1/alert-rules", admin, {"name": "Off", "expr": "up == 0",
                                                     "enabled": False})  # fmt: skip
    assert off.status == 201, off.json
    assert evaluation_on() is False

    on = client.post("/api/v1/alert-rules", admin, {"name": "Down", "expr": "up == 0"})
    assert on.status == 201, on.json
    assert evaluation_on() is True
