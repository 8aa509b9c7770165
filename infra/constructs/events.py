"""The `orchestrix-<stage>` event bus, EventBridge rules and Scheduler schedules from wiring.

Built in two steps because functions need the bus, group and role names in their
environment, while rules and schedules need the functions: `Events(...)` creates the shared
resources, `connect(functions)` adds one rule per `wiring.EVENT_RULES` entry and one schedule
per `wiring.SCHEDULES` entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import StageConfig
from infra.nag import acknowledge_wildcards
from orchestrix import wiring

# EventPattern keyword for each top-level key of an EventBridge pattern.
_PATTERN_KEYS = {
    "source": "source",
    "detail-type": "detail_type",
    "detail": "detail",
    "account": "account",
    "region": "region",
    "resources": "resources",
    "id": "id",
    "time": "time",
    "version": "version",
}


class Events(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        self._config = config
        self.bus = events.EventBus(self, "Bus", event_bus_name=config.prefix)
        if config.event_archive_days:
            self.bus.archive(
                "Archive",
                archive_name=config.prefix,
                event_pattern=events.EventPattern(account=[cdk.Stack.of(self).account]),
                retention=cdk.Duration.days(config.event_archive_days),
            )
        # Destroyed with the stack (the L2 retains it by default): a retained group of the same
        # name makes the next deploy of the stage fail with "already exists".
        self.schedule_group = scheduler.ScheduleGroup(
            self,
            "ScheduleGroup",
            schedule_group_name=config.prefix,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.scheduler_role = self._build_scheduler_role()
        self.rules: dict[str, events.Rule] = {}
        self.schedules: dict[str, scheduler.Schedule] = {}

    @property
    def target_prefix(self) -> str:
        """ARN prefix of the functions one-time schedules may target."""
        stack = cdk.Stack.of(self)
        arn = f"arn:{stack.partition}:lambda:{stack.region}:{stack.account}"
        return f"{arn}:function:{self._config.prefix}-"

    @property
    def state_machine_arn_prefix(self) -> str:
        """ARN prefix of this stage's state machines (declared and per-workflow ones)."""
        stack = cdk.Stack.of(self)
        arn = f"arn:{stack.partition}:states:{stack.region}:{stack.account}"
        return f"{arn}:stateMachine:{self._config.prefix}-"

    def _build_scheduler_role(self) -> iam.Role:
        """The role one-time escalation schedules (created at run time) invoke functions with."""
        role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account}},
            ),
            description="EventBridge Scheduler invokes Orchestrix functions",
        )
        resources = [f"{self.target_prefix}*"]
        role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=resources)
        )
        acknowledge_wildcards(
            role,
            resources,
            "Escalation schedules are created at run time and may target any function of this "
            "stage; all of them, and only them, share the orchestrix-<stage>- name prefix.",
        )
        return role

    def connect(
        self,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queue: sqs.IQueue,
        rules: Iterable[wiring.EventRule] = wiring.EVENT_RULES,
        schedules: Iterable[wiring.Schedule] = wiring.SCHEDULES,
    ) -> None:
        for rule in rules:
            self.rules[rule.name] = self._build_rule(
                rule, functions[rule.function], dead_letter_queue
            )
        for entry in schedules:
            self.schedules[entry.name] = self._build_schedule(
                entry, functions[entry.function], dead_letter_queue
            )

    def _build_rule(
        self, rule: wiring.EventRule, fn: lambda_.IFunction, dlq: sqs.IQueue
    ) -> events.Rule:
        bus = self.bus if rule.bus == "orchestrix" else None  # None: the account's default bus
        return events.Rule(
            self,
            f"Rule-{rule.name}",
            rule_name=f"{self._config.prefix}-{rule.name}",
            description=rule.description or None,
            event_bus=bus,
            event_pattern=event_pattern(
                rule.pattern_for(self._config.stage, self.state_machine_arn_prefix)
            ),
            targets=[
                events_targets.LambdaFunction(
                    fn,
                    dead_letter_queue=dlq,
                    retry_attempts=4,
                    max_event_age=cdk.Duration.hours(2),
                )
            ],
        )

    def _build_schedule(
        self, entry: wiring.Schedule, fn: lambda_.IFunction, dlq: sqs.IQueue
    ) -> scheduler.Schedule:
        acknowledge_wildcards(
            self.scheduler_role,
            [f"{fn.function_arn}:*"],
            "CDK's invoke grant also covers the function's versions and aliases.",
        )
        return scheduler.Schedule(
            self,
            f"Schedule-{entry.name}",
            schedule_name=f"{self._config.prefix}-{entry.name}",
            schedule_group=self.schedule_group,
            description=entry.description or None,
            schedule=scheduler.ScheduleExpression.expression(entry.expression),
            target=scheduler_targets.LambdaInvoke(
                fn,
                role=self.scheduler_role,
                dead_letter_queue=dlq,
                retry_attempts=2,
                max_event_age=cdk.Duration.minutes(15),
            ),
        )


def event_pattern(pattern: Mapping[str, Any]) -> events.EventPattern:
    """wiring's plain-dict pattern as an EventPattern; an unknown key is a wiring bug."""
    unknown = set(pattern) - set(_PATTERN_KEYS)
    if unknown:
        raise ValueError(f"unsupported EventBridge pattern keys: {sorted(unknown)}")
    return events.EventPattern(**{_PATTERN_KEYS[key]: value for key, value in pattern.items()})
