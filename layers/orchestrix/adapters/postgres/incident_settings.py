"""Per-tenant incident settings (one row per tenant; defaults until first written)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from orchestrix.domain.incidents import IncidentSettings, Severity, SlaTarget

GET = """
SELECT severities, group_by, window_seconds, default_escalation_policy_id, service_policies,
       sla
FROM incident_settings
"""
UPSERT = """
INSERT INTO incident_settings (tenant_id, severities, group_by, window_seconds,
                               default_escalation_policy_id, service_policies, sla, updated_at)
VALUES (%(tenant_id)s, %(severities)s, %(group_by)s, %(window_seconds)s,
        %(default_escalation_policy_id)s, %(service_policies)s, %(sla)s, %(at)s)
ON CONFLICT (tenant_id) DO UPDATE SET
    severities = EXCLUDED.severities, group_by = EXCLUDED.group_by,
    window_seconds = EXCLUDED.window_seconds,
    default_escalation_policy_id = EXCLUDED.default_escalation_policy_id,
    service_policies = EXCLUDED.service_policies, sla = EXCLUDED.sla,
    updated_at = EXCLUDED.updated_at
"""


class PostgresIncidentSettingsRepository:
    def __init__(self, conn: psycopg.Connection[Any], tenant_id: str) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    def get(self) -> IncidentSettings:
        row = self._conn.cursor(row_factory=dict_row).execute(GET).fetchone()
        if row is None:
            return IncidentSettings()
        return IncidentSettings(
            severities=tuple(row["severities"]),
            group_by=tuple(row["group_by"]),
            window=timedelta(seconds=row["window_seconds"]),
            default_escalation_policy_id=row["default_escalation_policy_id"],
            service_policies=dict(row["service_policies"]),
            sla={
                Severity(sev): SlaTarget(t.get("ack_minutes"), t.get("resolve_minutes"))
                for sev, t in row["sla"].items()
            },
        )

    def save(self, settings: IncidentSettings, at: datetime) -> None:
        self._conn.execute(
            UPSERT,
            {
                "tenant_id": self._tenant_id,
                "severities": list(settings.severities),
                "group_by": list(settings.group_by),
                "window_seconds": int(settings.window.total_seconds()),
                "default_escalation_policy_id": settings.default_escalation_policy_id,
                "service_policies": Jsonb(settings.service_policies),
                "sla": Jsonb(
                    {
                        sev.value: {
                            "ack_minutes": t.ack_minutes,
                            "resolve_minutes": t.resolve_minutes,
                        }
                        for sev, t in settings.sla.items()
                    }
                ),
                "at": at,
            },
        )
