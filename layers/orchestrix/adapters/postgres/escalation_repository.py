"""Escalation policies, the steps of running escalations, and who their targets reach."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from orchestrix.adapters.postgres.oncall import PostgresScheduleRepository
from orchestrix.adapters.postgres.paging import keyset_page, keyset_params
from orchestrix.domain.escalation import EscalationPolicy, Level, Step
from orchestrix.domain.oncall import on_call_at
from orchestrix.domain.pagination import Page, PageRequest

_COLUMNS = (
    "id, tenant_id, name, description, repeat, owner_member_id, levels, created_at,"
    " updated_at, created_by"
)
INSERT_POLICY = f"""
INSERT INTO escalation_policies ({_COLUMNS})
VALUES (%(id)s, %(tenant_id)s, %(name)s, %(description)s, %(repeat)s, %(owner_member_id)s,
        %(levels)s, %(created_at)s, %(updated_at)s, %(created_by)s)
"""
UPDATE_POLICY = """
UPDATE escalation_policies
SET name = %(name)s, description = %(description)s, repeat = %(repeat)s,
    owner_member_id = %(owner_member_id)s, levels = %(levels)s, updated_at = %(updated_at)s
WHERE id = %(id)s
"""
GET_POLICY = f"SELECT {_COLUMNS} FROM escalation_policies WHERE id = %(id)s"
DELETE_POLICY = "DELETE FROM escalation_policies WHERE id = %(id)s"
LIST_POLICIES = f"""
SELECT {_COLUMNS} FROM escalation_policies
WHERE (%(after_at)s::timestamptz IS NULL OR (created_at, id) < (%(after_at)s, %(after_id)s))
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s
"""

ADD_STEP = """
INSERT INTO escalation_steps (tenant_id, incident_id, round, level, status, schedule_name,
                              due_at)
VALUES (%(tenant_id)s, %(incident_id)s, %(round)s, %(level)s, 'scheduled', %(schedule_name)s,
        %(due_at)s)
ON CONFLICT DO NOTHING
"""
# The claim is the idempotency guard: only one invocation flips a step to done.
CLAIM_STEP = """
UPDATE escalation_steps SET status = 'done', done_at = %(at)s
WHERE incident_id = %(incident_id)s AND round = %(round)s AND level = %(level)s
  AND status = 'scheduled'
RETURNING 1
"""
CANCEL_STEPS = """
UPDATE escalation_steps SET status = 'cancelled', done_at = %(at)s
WHERE incident_id = %(incident_id)s AND status = 'scheduled'
RETURNING schedule_name
"""

TEAM_MEMBERS = """
SELECT t.id, coalesce(array_agg(m.member_id ORDER BY m.position)
                      FILTER (WHERE m.member_id IS NOT NULL), '{}') AS member_ids
FROM teams t LEFT JOIN team_members m ON m.tenant_id = t.tenant_id AND m.team_id = t.id
WHERE t.id = %(id)s GROUP BY t.id
"""
MEMBER_EXISTS = "SELECT 1 FROM members WHERE id = %(id)s"


def _to_policy(row: dict[str, Any]) -> EscalationPolicy:
    levels = tuple(Level.model_validate(level) for level in row["levels"])
    return EscalationPolicy(**{**row, "levels": levels})


def _policy_params(policy: EscalationPolicy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "tenant_id": policy.tenant_id,
        "name": policy.name,
        "description": policy.description,
        "repeat": policy.repeat,
        "owner_member_id": policy.owner_member_id,
        "levels": Jsonb([level.model_dump(mode="json") for level in policy.levels]),
        "created_at": policy.created_at,
        "updated_at": policy.updated_at,
        "created_by": policy.created_by,
    }


class PostgresEscalationPolicyRepository:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def _cursor(self) -> psycopg.Cursor[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row)

    def add(self, policy: EscalationPolicy) -> None:
        self._conn.execute(INSERT_POLICY, _policy_params(policy))

    def save(self, policy: EscalationPolicy) -> None:
        self._conn.execute(UPDATE_POLICY, _policy_params(policy))

    def get(self, policy_id: str) -> EscalationPolicy | None:
        row = self._cursor().execute(GET_POLICY, {"id": policy_id}).fetchone()
        return _to_policy(row) if row else None

    def delete(self, policy_id: str) -> None:
        self._conn.execute(DELETE_POLICY, {"id": policy_id})

    def list(self, page: PageRequest) -> Page[EscalationPolicy]:
        rows = self._cursor().execute(LIST_POLICIES, keyset_params(page)).fetchall()
        return keyset_page(rows, page, _to_policy, lambda p: (p.created_at, p.id))


class PostgresEscalationStepRepository:
    def __init__(self, conn: psycopg.Connection[Any], tenant_id: str) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    def add(self, incident_id: str, step: Step, schedule_name: str, due_at: datetime) -> None:
        self._conn.execute(
            ADD_STEP,
            {
                "tenant_id": self._tenant_id,
                "incident_id": incident_id,
                "round": step.round,
                "level": step.level,
                "schedule_name": schedule_name,
                "due_at": due_at,
            },
        )

    def claim(self, incident_id: str, step: Step, at: datetime) -> bool:
        params = {"incident_id": incident_id, "round": step.round, "level": step.level, "at": at}
        return self._conn.execute(CLAIM_STEP, params).fetchone() is not None

    def cancel_scheduled(self, incident_id: str, at: datetime) -> list[str]:
        rows = self._conn.execute(CANCEL_STEPS, {"incident_id": incident_id, "at": at}).fetchall()
        return [str(r[0]) for r in rows]


class PostgresTargetDirectory:
    """Reads the people/on-call tables (same tenant, same transaction) to resolve targets."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn
        self._schedules = PostgresScheduleRepository(conn)

    def _cursor(self) -> psycopg.Cursor[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row)

    def on_call(self, schedule_id: str, at: datetime) -> list[str] | None:
        stored = self._schedules.get(schedule_id)
        if stored is None:
            return None
        overrides = self._schedules.overrides(schedule_id, at, at + timedelta(seconds=1))
        return on_call_at(stored.schedule, overrides, at)

    def team_members(self, team_id: str) -> list[str] | None:
        row = self._cursor().execute(TEAM_MEMBERS, {"id": team_id}).fetchone()
        return list(row["member_ids"]) if row else None

    def member_exists(self, member_id: str) -> bool:
        return self._cursor().execute(MEMBER_EXISTS, {"id": member_id}).fetchone() is not None
