"""Members: the full record sealed (it holds channel secrets), a masked copy for reads."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from orchestrix.adapters.postgres.paging import keyset_page, keyset_params
from orchestrix.domain.notifications import SecretBox
from orchestrix.domain.pagination import Page, PageRequest
from orchestrix.domain.people import ContactMethod, Member, MemberSpec, NotificationRule

UPSERT = """
INSERT INTO members (tenant_id, id, name, subject, sealed, shown, created_at, updated_at)
VALUES (%(tenant_id)s, %(id)s, %(name)s, %(subject)s, %(sealed)s, %(shown)s, %(created_at)s,
        %(updated_at)s)
ON CONFLICT (tenant_id, id) DO UPDATE
SET name = excluded.name, subject = excluded.subject, sealed = excluded.sealed,
    shown = excluded.shown, updated_at = excluded.updated_at
"""
GET = "SELECT * FROM members WHERE id = %(id)s"
BY_SUBJECT = "SELECT id FROM members WHERE subject = %(subject)s AND id <> %(id)s"
LIST = """
SELECT * FROM members
WHERE (%(after_at)s::timestamptz IS NULL OR (created_at, id) < (%(after_at)s, %(after_id)s))
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s
"""
EXISTING = "SELECT id FROM members WHERE id = ANY(%(ids)s)"
DELETE = "DELETE FROM members WHERE id = %(id)s"


class PostgresMemberRepository:
    def __init__(self, conn: psycopg.Connection[Any], secrets: SecretBox, tenant_id: str) -> None:
        self._conn = conn
        self._secrets = secrets
        self._tenant_id = tenant_id

    def _cursor(self) -> psycopg.Cursor[dict[str, Any]]:
        return self._conn.cursor(row_factory=dict_row)

    def save(self, member: Member) -> None:
        spec = member.spec
        shown = spec.model_copy(
            update={"contact_methods": [c.shown() for c in spec.contact_methods]}
        )
        self._conn.execute(
            UPSERT,
            {
                "tenant_id": member.tenant_id,
                "id": member.id,
                "name": spec.name,
                "subject": spec.subject,
                "sealed": self._secrets.seal(member.tenant_id, spec.model_dump_json().encode()),
                "shown": Jsonb(shown.model_dump(mode="json")),
                "created_at": member.created_at,
                "updated_at": member.updated_at,
            },
        )

    def get(self, member_id: str) -> Member | None:
        """The member with contact methods in full (for delivery)."""
        row = self._cursor().execute(GET, {"id": member_id}).fetchone()
        if row is None:
            return None
        spec = MemberSpec.model_validate_json(self._secrets.open(self._tenant_id, row["sealed"]))
        return _member(row, spec)

    def shown(self, member_id: str) -> Member | None:
        """The member with secrets masked (for the API)."""
        row = self._cursor().execute(GET, {"id": member_id}).fetchone()
        return _member(row, _shown_spec(row)) if row else None

    def subject_taken(self, subject: str, member_id: str) -> bool:
        found = self._conn.execute(BY_SUBJECT, {"subject": subject, "id": member_id}).fetchone()
        return found is not None

    def list(self, page: PageRequest) -> Page[Member]:
        rows = self._cursor().execute(LIST, keyset_params(page)).fetchall()
        return keyset_page(
            rows, page, lambda r: _member(r, _shown_spec(r)), lambda m: (m.created_at, m.id)
        )

    def missing(self, member_ids: Iterable[str]) -> builtins.list[str]:
        """The ids among `member_ids` that name no member of this tenant."""
        wanted = list(dict.fromkeys(member_ids))
        rows = self._conn.execute(EXISTING, {"ids": wanted}).fetchall()
        found = {r[0] for r in rows}
        return [m for m in wanted if m not in found]

    def delete(self, member_id: str) -> bool:
        return self._conn.execute(DELETE, {"id": member_id}).rowcount > 0


def _shown_spec(row: dict[str, Any]) -> MemberSpec:
    # Masked values would not pass the input validators (a masked URL is not a URL).
    data = dict(row["shown"])
    data["contact_methods"] = [ContactMethod.model_construct(**c) for c in data["contact_methods"]]
    data["notification_rules"] = {
        urgency: [NotificationRule.model_construct(**r) for r in rules]
        for urgency, rules in data["notification_rules"].items()
    }
    return MemberSpec.model_construct(**data)


def _member(row: dict[str, Any], spec: MemberSpec) -> Member:
    return Member(row["id"], row["tenant_id"], spec, row["created_at"], row["updated_at"])
