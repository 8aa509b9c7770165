"""The one table of what a workflow `aws` step may do, and the IAM action each one needs.

The workflow validator refuses any other action at save, the step Lambda refuses it again at
run time (a definition saved before the table shrank), and the CDK grants exactly these IAM
actions to a remediation role the step function assumes per step with the session tag
`orchestrix:tenant=<stage>/<tenant>`, on resources carrying the same tag value only
(`infra/constructs/functions.py`): one tenant's workflow cannot act on another tenant's
resources. `tests/infra` asserts the synthesized roles match.

Deliberately absent: anything that reaches Orchestrix itself — `lambda:Invoke` (a forged API
Gateway event to the `api` function acts as any tenant), Lambda configuration, Step Functions,
Secrets Manager, SSM commands/automations (they run further APIs), RDS data or IAM. Adding an
action here is a security review: it must act on the tenant's own tagged resources only.

Imports nothing: CDK synth reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

# step action ("service:Operation", the botocore operation name) -> IAM action it needs
AWS_STEP_ACTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "autoscaling:SetDesiredCapacity": "autoscaling:SetDesiredCapacity",
        "ec2:RebootInstances": "ec2:RebootInstances",
        "ec2:StartInstances": "ec2:StartInstances",
        "ec2:StopInstances": "ec2:StopInstances",
        "ecs:UpdateService": "ecs:UpdateService",
        "rds:RebootDBInstance": "rds:RebootDBInstance",
    }
)
ALLOWED_AWS_ACTIONS: Final[tuple[str, ...]] = tuple(sorted(AWS_STEP_ACTIONS))
# The IAM actions the step function is granted, one per allowed step action.
STEP_IAM_ACTIONS: Final[tuple[str, ...]] = tuple(sorted(set(AWS_STEP_ACTIONS.values())))
# The tag a resource must carry for a tenant's steps to act on it: its value names the stage
# and the tenant (`tenant_tag_value`), compared in AWS with the same tag of the assumed
# remediation session. Neither a stage nor a tenant id can contain "/".
TENANT_TAG: Final = "orchestrix:tenant"


def tenant_tag_value(stage: str, tenant_id: str) -> str:
    return f"{stage}/{tenant_id}"
