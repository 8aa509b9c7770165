"""Teams and their ordered member lists."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from orchestrix.adapters.postgres.paging import keyset_page, keyset_params
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.people import Team, TeamSpec

UPSERT = """
INSERT INTO teams (tenant_id, id, name, description, created_at, updated_at)
VALUES (%(tenant_id)s, %(id)s, %(name)s, %(description)s, %(created_at)s, %(updated_at)s)
ON CONFLICT (tenant_id, id) DO UPDATE
SET name = excluded.name, description = excluded.description, updated_at = excluded.updated_at
"""
CLEAR_MEMBERS = "DELETE FROM team_members WHERE team_id = %(id)s"
ADD_MEMBER = """
INSERT INTO team_members (tenant_id, team_id, member_id, position)
VALUES (%(tenant_id)s, %(team_id)s, %(member_id)s, %(position)s)
"""
_SELECT = """
SELECT t.*, coalesce(
    (SELECT array_agg(m.member_id ORDER BY m.position) FROM team_members m
     WHERE m.team_id = t.id), '{}') AS member_ids
FROM teams t
"""
GET = _SELECT + "WHERE t.id = %(id)s"
LIST = (
    _SELECT
    + """
WHERE (%(after_at)s::timestamptz IS NULL OR (t.created_at, t.id) < (%(after_at)s, %(after_id)s))
ORDER BY t.created_at DESC, t.id DESC
LIMIT %(limit)s
"""
)
DELETE = "DELETE FROM teams WHERE id = %(id)s"


class PostgresTeamRepository:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def _cursor(self) -> psycopg.Cursor[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row)

    def save(self, team: Team) -> None:
        spec = team.spec
        self._conn.execute(
            UPSERT,
            {
                "tenant_id": team.tenant_id,
                "id": team.id,
                "name": spec.name,
                "description": spec.description,
                "created_at": team.created_at,
                "updated_at": team.updated_at,
            },
        )
        self._conn.execute(CLEAR_MEMBERS, {"id": team.id})
        with self._conn.cursor() as cur:
            cur.executemany(
                ADD_MEMBER,
                [
                    {"tenant_id": team.tenant_id, "team_id": team.id, "member_id": m, "position": i}
                    for i, m in enumerate(dict.fromkeys(spec.member_ids))
                ],
            )

    def get(self, team_id: str) -> Team | None:
        row = self._cursor().execute(GET, {"id": team_id}).fetchone()
        return _team(row) if row else None

    def list(self, page: PageRequest) -> Page[Team]:
        rows = self._cursor().execute(LIST, keyset_params(page)).fetchall()
        return keyset_page(rows, page, _team, lambda t: (t.created_at, t.id))

    def delete(self, team_id: str) -> bool:
        return self._conn.execute(DELETE, {"id": team_id}).rowcount > 0


def _team(row: dict[str, Any]) -> Team:
    spec = TeamSpec(name=row["name"], description=row["description"], member_ids=row["member_ids"])
    return Team(row["id"], row["tenant_id"], spec, row["created_at"], row["updated_at"])
