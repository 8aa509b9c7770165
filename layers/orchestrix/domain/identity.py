"""Who is calling: the principal the authorizer established, and what it may do."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from orchestrix.domain.errors import Forbidden


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    RESPONDER = "responder"
    VIEWER = "viewer"


class Scope(StrEnum):
    METRICS_WRITE = "metrics:write"
    LOGS_WRITE = "logs:write"
    TRACES_WRITE = "traces:write"
    ALERTS_WRITE = "alerts:write"
    # A key with a role scope acts in the management API with that role (a service account):
    # how a stage without an IdP is administered, starting from `api-key create --stage`.
    ROLE_VIEWER = "role:viewer"
    ROLE_RESPONDER = "role:responder"
    ROLE_EDITOR = "role:editor"
    ROLE_ADMIN = "role:admin"

    @property
    def role(self) -> Role | None:
        kind, _, name = self.value.partition(":")
        return Role(name) if kind == "role" else None


# What each role may do, cumulatively: a responder may also read, an editor may also respond.
_RANK = {Role.VIEWER: 0, Role.RESPONDER: 1, Role.EDITOR: 2, Role.ADMIN: 3}

# Use fullmatch: with re.match, "$" also matches before a trailing newline ("a\n").
TENANT_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    subject: str  # JWT `sub`, or `api-key:<id>` for ingestion keys
    roles: frozenset[Role] = frozenset()
    scopes: frozenset[Scope] = frozenset()
    kind: str = "user"  # "user" | "api_key" | "system"

    @property
    def actor(self) -> str:
        return self.subject

    def has_role(self, needed: Role) -> bool:
        return any(_RANK[role] >= _RANK[needed] for role in self.roles)

    def require_role(self, needed: Role) -> None:
        if not self.has_role(needed):
            raise Forbidden(f"this action needs the {needed.value} role")

    def require_scope(self, needed: Scope) -> None:
        if needed not in self.scopes:
            raise Forbidden(f"this endpoint needs an API key with the {needed.value} scope")


def system_principal(tenant_id: str, job: str) -> Principal:
    """The actor recorded for work nobody asked for directly (schedules, housekeeping)."""
    return Principal(tenant_id=tenant_id, subject=f"system:{job}", kind="system")
