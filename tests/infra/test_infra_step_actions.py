"""The workflow step function's role grants exactly the `aws` step allow-list, on tagged
resources only, and nothing that reaches Orchestrix's own functions, state machines, secrets
or database through a tenant-chosen action."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest
from conftest import Built, actions_of, policy_statements

from orchestrix.domain.workflow.aws_actions import (
    ALLOWED_AWS_ACTIONS,
    AWS_STEP_ACTIONS,
    REMEDIATION_TAG,
    STEP_IAM_ACTIONS,
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


def _tagged(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition", {}).get("StringEquals", {})
    return bool(condition.get(f"aws:ResourceTag/{REMEDIATION_TAG}") == "true")


def test_step_allow_list_holds_no_action_that_reaches_orchestrix() -> None:
    assert "lambda:Invoke" not in ALLOWED_AWS_ACTIONS
    for action in (*ALLOWED_AWS_ACTIONS, *STEP_IAM_ACTIONS):
        service = action.split(":", 1)[0]
        assert service not in ("lambda", "states", "secretsmanager", "rds-data", "iam", "ssm")
    assert set(AWS_STEP_ACTIONS) == set(ALLOWED_AWS_ACTIONS)


@pytest.mark.parametrize("stage", ["dev", "full"])
def test_step_function_role_grants_exactly_the_step_table_on_tagged_resources(
    stage: str, request: pytest.FixtureRequest
) -> None:
    built: Built = request.getfixturevalue(stage)
    name = "workflow_step" if stage == "dev" else "housekeeping"  # `full` has every capability
    statements: list[dict[str, Any]] = policy_statements(built, name)  # type: ignore[assignment]

    remediation = [s for s in statements if _tagged(s)]
    (granted,) = remediation
    assert sorted(_as_list(granted["Action"])) == sorted(STEP_IAM_ACTIONS)
    assert granted["Resource"] == "*"  # tenants' resources, unknown at deploy time
    if stage != "dev":
        return  # `full` grants every other capability too; the real step function is in dev
    # Outside the tag-conditioned statement, nothing a tenant could aim at Orchestrix.
    for statement in statements:
        for action in _as_list(statement["Action"]):
            assert action != "*" and not action.endswith(":*"), statement
            risky = any(fnmatch.fnmatchcase(action, p) for p in REACHES_ORCHESTRIX)
            if not risky or _tagged(statement):
                continue
            # The one exception: the handler's own database connection (its secret, or an
            # IAM token), on that one resource, never through a step action.
            assert action in DATABASE_ACCESS, (stage, action)
            assert "*" not in json.dumps(statement["Resource"]), statement
    assert "lambda:InvokeFunction" not in actions_of(statements)  # type: ignore[arg-type]


def test_no_resource_of_the_stage_carries_the_remediable_tag(dev: Built) -> None:
    # The grant applies to tagged resources only: Orchestrix's own database, functions and
    # state machines must never be among them.
    for logical_id, resource in dev.resources.items():
        tags = resource.get("Properties", {}).get("Tags", [])
        keys = [t.get("Key") for t in tags] if isinstance(tags, list) else list(tags)
        assert REMEDIATION_TAG not in keys, logical_id
