"""Deployment events from EventBridge (CodeDeploy, ECS, CloudFormation) as change events.

AWS events carry no tags, so — as with CloudWatch alarms — the resource's name says which
stage, tenant and service it belongs to:

- CodeDeploy application: `orchestrix.<stage>.<tenant>.<service>`
- ECS service or CloudFormation stack (no dots allowed there):
  `orchestrix-<stage>--<tenant>--<service>`

Only the start of a deployment is a change (that is when trouble can begin); the same
deployment delivered twice is one change (its deployment id, or the event id, is the key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orchestrix.domain.identity import TENANT_ID_PATTERN
from orchestrix.domain.intelligence.evidence import Change, ChangeKind

DETAIL_TYPES = {
    "aws.codedeploy": "CodeDeploy Deployment State-change Notification",
    "aws.ecs": "ECS Deployment State Change",
    "aws.cloudformation": "CloudFormation Stack Status Change",
}
_STARTS = {
    "aws.codedeploy": {"START"},
    "aws.ecs": {"SERVICE_DEPLOYMENT_IN_PROGRESS"},
    "aws.cloudformation": {"CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS"},
}


@dataclass(frozen=True)
class DeploymentEvent:
    tenant_id: str
    change: Change


def _marker(name: str, stage: str) -> tuple[str, str] | None:
    """(tenant, service) from a marked resource name; None when not this stage's."""
    for prefix, sep in ((f"orchestrix.{stage}.", "."), (f"orchestrix-{stage}--", "--")):
        if name.startswith(prefix):
            tenant, found, service = name.removeprefix(prefix).partition(sep)
            if found and service and TENANT_ID_PATTERN.fullmatch(tenant):
                return tenant, service
    return None


def _last_segment(arn: str, kind: str) -> str:
    """`…:service/cluster/name` → name; `…:stack/name/guid` → name."""
    path = arn.split(":", 5)[-1]
    parts = path.split("/")
    if kind == "aws.cloudformation":
        return parts[1] if len(parts) > 1 else ""
    return parts[-1]


def deployment_change(event: dict[str, Any], stage: str, change_id: str) -> DeploymentEvent | None:
    """The change an EventBridge deployment event stands for; None when it is not the start
    of a deployment, or not marked for one of this stage's tenants."""
    source = str(event.get("source") or "")
    detail = event.get("detail") or {}
    if source not in DETAIL_TYPES or not isinstance(detail, dict):
        return None
    resources = [str(r) for r in event.get("resources") or []]
    if source == "aws.codedeploy":
        name, state = str(detail.get("application") or ""), detail.get("state")
        external = str(detail.get("deploymentId") or event.get("id") or "")
        title = f"CodeDeploy {external} to {detail.get('deploymentGroup', '')}".strip()
    elif source == "aws.ecs":
        name = _last_segment(resources[0], source) if resources else ""
        state = detail.get("eventName")
        external = str(detail.get("deploymentId") or event.get("id") or "")
        title = f"ECS deployment {external}"
    else:
        arn = str(detail.get("stack-id") or (resources[0] if resources else ""))
        name = _last_segment(arn, source)
        state = (detail.get("status-details") or {}).get("status")
        external = str(event.get("id") or arn)
        title = f"CloudFormation {state} {name}"
    if state not in _STARTS[source]:
        return None
    owner = _marker(name, stage)
    if owner is None:
        return None
    at = _time(event.get("time"))
    if at is None:
        return None
    kind: ChangeKind = "infrastructure" if source == "aws.cloudformation" else "deployment"
    change = Change(
        id=change_id,
        service=owner[1],
        kind=kind,
        title=title,
        at=at,
        source=source,
        details={"resource": name, "state": state, "region": event.get("region")},
        external_id=external or None,
    )
    return DeploymentEvent(owner[0], change)


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
