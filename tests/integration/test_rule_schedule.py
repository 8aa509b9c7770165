"""The every-minute rule evaluation schedule is on exactly while some tenant has an enabled
rule (real PostgreSQL, EventBridge Scheduler in moto): an idle stage lets Aurora pause."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from orchestrix.adapters.aws.scheduler import EventBridgeRecurringSchedule
from orchestrix.adapters.postgres.alerting_components import repos
from orchestrix.domain.identity import Principal, Role
from orchestrix.services.rule_schedule import RuleScheduleService
from orchestrix.services.rule_service import RuleService
from orchestrix.services.rule_validation import RuleDraft
from tests.api.conftest import in_process_aws

GROUP = "orchestrix-it"
NAME = f"{GROUP}-evaluate-rules"
TARGET = {
    "Arn": "arn:aws:lambda:us-east-1:123456789012:function:orchestrix-it-evaluate_rules",
    "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
    "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 900},
}


@pytest.fixture
def scheduler() -> Iterator[Any]:
    with in_process_aws():
        client = boto3.client("scheduler")
        client.create_schedule_group(Name=GROUP)
        # As the stack creates it: enabled, every minute
        client.create_schedule(
            Name=NAME,
            GroupName=GROUP,
            ScheduleExpression="rate(1 minute)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target=TARGET,
            State="ENABLED",
        )
        yield client


def state(client: Any) -> str:
    return str(client.get_schedule(Name=NAME, GroupName=GROUP)["State"])


def editor(tenant: str) -> Principal:
    return Principal(tenant, "user-1", roles=frozenset({Role.EDITOR}))


def test_schedule_is_on_only_while_a_tenant_has_an_enabled_rule(
    scheduler: Any, uow: Any, clock: Any, tenant: str
) -> None:
    switch = RuleScheduleService(uow, repos, EventBridgeRecurringSchedule(scheduler, GROUP, NAME))
    rules = RuleService(uow, repos, clock, schedule=lambda: switch)
    tenants = lambda: [tenant]  # noqa: E731 - this test's tenant stands for "every tenant"

    # No rules anywhere: the evaluator's settle switches its own schedule off
    assert switch.settle(tenants) is False
    assert state(scheduler) == "DISABLED"
    # ... and keeps everything else of the schedule as the stack made it
    kept = scheduler.get_schedule(Name=NAME, GroupName=GROUP)
    assert kept["ScheduleExpression"] == "rate(1 minute)"
    assert kept["Target"]["Arn"] == TARGET["Arn"]

    # A disabled rule needs no evaluation
    rules.create(editor(tenant), RuleDraft(name="Off", expr="up == 0", enabled=False))
    assert state(scheduler) == "DISABLED"

    # Creating an enabled rule switches it on at once
    rule = rules.create(editor(tenant), RuleDraft(name="Down", expr="up == 0"))
    assert state(scheduler) == "ENABLED"
    assert switch.settle(tenants) is True
    assert state(scheduler) == "ENABLED"

    # Deleting the last enabled rule: the next settle switches it off again
    rules.delete(editor(tenant), rule.id)
    assert switch.settle(tenants) is False
    assert state(scheduler) == "DISABLED"

    # Importing a rule file switches it on too
    rules.import_file(
        editor(tenant),
        "groups:\n- name: g\n  rules:\n  - alert: Up\n    expr: up == 1\n",
    )
    assert state(scheduler) == "ENABLED"


def test_a_rule_committed_while_settling_is_not_lost(
    scheduler: Any, uow: Any, clock: Any, tenant: str
) -> None:
    switch = RuleScheduleService(uow, repos, EventBridgeRecurringSchedule(scheduler, GROUP, NAME))
    rules = RuleService(uow, repos, clock)  # its own enable is the one that could come early
    looks = []

    def tenants() -> list[str]:
        # Between settle's first look (no rules) and its second, another request commits
        # a rule whose enable happened before settle's disable.
        if looks:
            rules.create(editor(tenant), RuleDraft(name="Late", expr="up == 0"))
        looks.append(1)
        return [tenant]

    assert switch.settle(tenants) is True
    assert state(scheduler) == "ENABLED"


def test_a_missing_schedule_is_nothing_to_switch(scheduler: Any) -> None:
    missing = EventBridgeRecurringSchedule(scheduler, GROUP, f"{GROUP}-nope")

    assert missing.set_enabled(False) is False
