"""AWS clients acting as one tenant: the remediation role assumed with the session tag
`orchestrix:tenant=<stage>/<tenant>`, whose policy only reaches resources tagged the same.

Credentials are cached per tenant until shortly before they expire (a warm step Lambda
serving one tenant's runbook assumes the role once an hour, not once a step).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrix.domain.workflow.aws_actions import TENANT_TAG, tenant_tag_value

_RENEW_BEFORE = timedelta(minutes=5)


class TenantRoleClients:
    def __init__(
        self,
        role_arn: str,
        stage: str,
        sts: Any,
        make_client: Callable[..., Any],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._role_arn = role_arn
        self._stage = stage
        self._sts = sts
        self._make_client = make_client
        self._now = now
        self._sessions: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def __call__(self, tenant_id: str, service: str) -> Any:
        creds = self._credentials(tenant_id)
        return self._make_client(
            service,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )

    def _credentials(self, tenant_id: str) -> dict[str, Any]:
        with self._lock:
            cached = self._sessions.get(tenant_id)
            if cached is not None and cached["Expiration"] - _RENEW_BEFORE > self._now():
                return cached
            reply = self._sts.assume_role(
                RoleArn=self._role_arn,
                # Session names show in CloudTrail: which tenant's runbook acted.
                RoleSessionName=f"orchestrix-{tenant_id}"[:64],
                Tags=[{"Key": TENANT_TAG, "Value": tenant_tag_value(self._stage, tenant_id)}],
                DurationSeconds=3600,
            )
            creds: dict[str, Any] = reply["Credentials"]
            self._sessions[tenant_id] = creds
            return creds
