"""One-time invocations through EventBridge Scheduler `at()` schedules."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


class EventBridgeOneTimeScheduler:
    def __init__(
        self,
        client: Any,
        group: str,
        role_arn: str,
        function_arn: Any,  # Callable[[str], str]: function name -> ARN
    ) -> None:
        self._client = client
        self._group = group
        self._role_arn = role_arn
        self._function_arn = function_arn

    def schedule(self, name: str, at: datetime, function: str, payload: dict[str, Any]) -> None:
        # at() takes whole seconds; truncating means a run may start up to 1 s early, so
        # that `orchestrix tick --advance 5m` fires what was scheduled 5 minutes ahead.
        when = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        target = {
            "Arn": self._function_arn(function),
            "RoleArn": self._role_arn,
            "Input": json.dumps(payload),
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
        }
        args = {
            "Name": name,
            "GroupName": self._group,
            "ScheduleExpression": f"at({when})",
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": target,
            "ActionAfterCompletion": "DELETE",
        }
        try:
            self._client.create_schedule(**args)
        except self._client.exceptions.ConflictException:
            self._client.update_schedule(**{k: v for k, v in args.items()})

    def cancel(self, name: str) -> bool:
        try:
            self._client.delete_schedule(Name=name, GroupName=self._group)
        except self._client.exceptions.ResourceNotFoundException:
            return False
        return True


# What UpdateSchedule accepts; it replaces the whole schedule, so every field GetSchedule
# returned must be sent back with the new State.
_SCHEDULE_FIELDS = (
    "Name",
    "GroupName",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "StartDate",
    "EndDate",
    "Description",
    "FlexibleTimeWindow",
    "Target",
    "KmsKeyArn",
    "ActionAfterCompletion",
)


class EventBridgeRecurringSchedule:
    """Enables/disables one recurring schedule the stack created (EvaluationSchedule)."""

    def __init__(self, client: Any, group: str, name: str) -> None:
        self._client = client
        self._group = group
        self._name = name

    def set_enabled(self, enabled: bool) -> bool:
        state = "ENABLED" if enabled else "DISABLED"
        try:
            current = self._client.get_schedule(Name=self._name, GroupName=self._group)
        except self._client.exceptions.ResourceNotFoundException:
            return False  # not deployed (a stack without it): nothing to switch
        if current.get("State") == state:
            return False
        args = {key: current[key] for key in _SCHEDULE_FIELDS if current.get(key) is not None}
        self._client.update_schedule(**args, State=state)
        return True
