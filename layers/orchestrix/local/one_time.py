"""Reads the one-time `at()` schedules services created in moto's EventBridge Scheduler,
so the local scheduler can fire them on the adjustable clock (moto never fires them)."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class DueSchedule:
    name: str
    at: datetime
    function: str
    payload: dict[str, Any]


class MotoOneTimeSchedules:
    def __init__(self, client: Any, group: str) -> None:
        self._client = client
        self._group = group

    def pending(self) -> list[DueSchedule]:
        found = []
        pages = self._client.get_paginator("list_schedules").paginate(GroupName=self._group)
        for page in pages:
            for summary in page["Schedules"]:
                detail = self._client.get_schedule(Name=summary["Name"], GroupName=self._group)
                expression = detail["ScheduleExpression"]
                if not expression.startswith("at("):
                    continue
                at = datetime.fromisoformat(expression[3:-1]).replace(tzinfo=UTC)
                target = detail["Target"]
                found.append(
                    DueSchedule(
                        name=summary["Name"],
                        at=at,
                        function=target["Arn"].rsplit(":", 1)[-1],
                        payload=json.loads(target.get("Input") or "{}"),
                    )
                )
        return sorted(found, key=lambda d: d.at)

    def complete(self, name: str) -> None:
        # Already gone is fine: the run it triggered may have cancelled it.
        with contextlib.suppress(self._client.exceptions.ResourceNotFoundException):
            self._client.delete_schedule(Name=name, GroupName=self._group)
