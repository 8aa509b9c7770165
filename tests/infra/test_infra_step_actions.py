"""`aws` steps act through a remediation role assumed per tenant: it grants exactly the step
allow-list, only on resources tagged for the same stage and tenant as the session; the step
function's own role holds no remediation action and nothing that reaches Orchestrix's own
functions, state machines, secrets or database through a tenant-chosen action."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest
from conftest import Built, actions_of, policy_statements, role_statements

from orchestrix.domain.workflow.aws_actions import (
    ALLOWED_AWS_ACTIONS,
    AWS_STEP_ACTIONS,
    STEP_IAM_ACTIONS,
    TENANT_TAG,
)

pytestmark = pytest.mark.xdist_group("cdk")

# What would let a tenant's step act on Orchestrix itself (a forged event to the api function,
# executions of any state machine, any secret, the database's control or data plane).
REACHES_ORCHESTRIX = (
    "lambda:*", "states:*", "secretsmanager:*", "rds:*", "rds-data:*", "rds-db:*", "iam:*",
    "ssm:*", "kms:*", "sts:*",
)  # fmt: skip


DATABASE_ACCESS = (
    "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "rds-db:connect",
)  # fmt: skip


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _remediation_roles(built: Built) -> dict[str, dict[str, Any]]:
    return {
        logical: role
        for logical, role in built.of_type("AWS::IAM::Role").items()
        if "RemediationRole" in logical
    }


def test_step_allow_list_holds_no_action_that_reaches_orchestrix() -> None:
    assert "lambda:Invoke" not in ALLOWED_AWS_ACTIONS
    for action in (*ALLOWED_AWS_ACTIONS, *STEP_IAM_ACTIONS):
        service = action.split(":", 1)[0]
        assert service not in ("lambda", "states", "secretsmanager", "rds-data", "iam", "ssm")
    assert set(AWS_STEP_ACTIONS) == set(ALLOWED_AWS_ACTIONS)


@pytest.mark.parametrize("stage", ["dev", "full"])
def test_remediation_role_grants_the_step_table_only_on_the_sessions_tenant_resources(
    stage: str, request: pytest.FixtureRequest
) -> None:
    built: Built = request.getfixturevalue(stage)

    roles = _remediation_roles(built)

    assert roles, "no remediation role"
    for logical, role in roles.items():
        (granted,) = role_statements(built, logical)
        assert sorted(_as_list(granted["Action"])) == sorted(STEP_IAM_ACTIONS)
        assert granted["Resource"] == "*"  # tenants' resources, unknown at deploy time
        assert granted["Condition"] == {
            "StringEquals": {f"aws:ResourceTag/{TENANT_TAG}": f"${{aws:PrincipalTag/{TENANT_TAG}}}"}
        }
        # only sessions naming a tenant of this stage, and no other tag, may be opened
        (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert sorted(_as_list(trust["Action"])) == ["sts:AssumeRole", "sts:TagSession"]
        assert trust["Condition"] == {
            "StringLike": {f"aws:RequestTag/{TENANT_TAG}": f"{built.config.stage}/*"},
            "ForAllValues:StringEquals": {"aws:TagKeys": [TENANT_TAG]},
        }


def test_step_function_role_holds_no_remediation_action_and_nothing_reaching_orchestrix(
    dev: Built,
) -> None:
    statements: list[dict[str, Any]] = policy_statements(dev, "workflow_step")  # type: ignore[assignment]
    (remediation_role,) = _remediation_roles(dev)

    assert not set(STEP_IAM_ACTIONS) & actions_of(statements)  # type: ignore[arg-type]
    for statement in statements:
        for action in _as_list(statement["Action"]):
            assert action != "*" and not action.endswith(":*"), statement
            if not any(fnmatch.fnmatchcase(action, p) for p in REACHES_ORCHESTRIX):
                continue
            if action in ("sts:AssumeRole", "sts:TagSession"):  # its own remediation role only
                assert statement["Resource"] == {"Fn::GetAtt": [remediation_role, "Arn"]}
                continue
            # The one exception: the handler's own database connection (its secret, or an
            # IAM token), on that one resource, never through a step action.
            assert action in DATABASE_ACCESS, action
            assert "*" not in json.dumps(statement["Resource"]), statement
    assert "lambda:InvokeFunction" not in actions_of(statements)  # type: ignore[arg-type]


def test_no_resource_of_the_stage_carries_the_tenant_tag(dev: Built) -> None:
    # Remediation applies to resources tagged for a tenant only: Orchestrix's own database,
    # functions and state machines must never be among them.
    for logical_id, resource in dev.resources.items():
        tags = resource.get("Properties", {}).get("Tags", [])
        keys = [t.get("Key") for t in tags] if isinstance(tags, list) else list(tags)
        assert TENANT_TAG not in keys, logical_id
