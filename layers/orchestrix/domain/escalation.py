"""Escalation policies: who is paged, in which order, how often, and who hears when nobody did.

A policy is an ordered list of levels. Level N is paged, then after its `delay_minutes` the
next level is paged, and so on; after the last level the whole list runs again `repeat`
more times; when that too is exhausted, the policy's owner is told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# The step after the last level of the last round: "nobody acknowledged, tell the owner".
EXHAUSTED_LEVEL = -1
MAX_LEVELS = 20
MAX_REPEAT = 9

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class TargetType(StrEnum):
    MEMBER = "member"
    SCHEDULE = "schedule"
    TEAM = "team"


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: TargetType
    id: Id


class Level(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    delay_minutes: int = Field(
        ge=1, le=24 * 60, description="Minutes to wait for an acknowledgement before escalating"
    )
    targets: tuple[Target, ...] = Field(min_length=1, max_length=20)


@dataclass(frozen=True)
class EscalationPolicy:
    id: str
    tenant_id: str
    name: str
    description: str
    repeat: int
    owner_member_id: str | None
    levels: tuple[Level, ...]
    created_at: datetime
    updated_at: datetime
    created_by: str


@dataclass(frozen=True)
class Step:
    """One point of an escalation: level index (or EXHAUSTED_LEVEL) in a given round."""

    round: int
    level: int

    @property
    def exhausted(self) -> bool:
        return self.level == EXHAUSTED_LEVEL

    @property
    def is_first(self) -> bool:
        return self.round == 0 and self.level == 0


FIRST_STEP = Step(0, 0)


def next_step(policy: EscalationPolicy, current: Step) -> Step | None:
    """The step after `current`, or None once the owner has been told."""
    if current.exhausted:
        return None
    if current.level + 1 < len(policy.levels):
        return Step(current.round, current.level + 1)
    if current.round < policy.repeat:
        return Step(current.round + 1, 0)
    return Step(current.round, EXHAUSTED_LEVEL)


def schedule_name(incident_id: str, step: Step) -> str:
    """Scheduler names are unique per stage; incident ids are globally unique ULIDs."""
    level = "x" if step.exhausted else str(step.level)
    return f"esc-{incident_id}-r{step.round}-l{level}"


def idempotency_key(incident_id: str, step: Step) -> str:
    level = "exhausted" if step.exhausted else f"l{step.level}"
    return f"incident:{incident_id}:r{step.round}:{level}"
