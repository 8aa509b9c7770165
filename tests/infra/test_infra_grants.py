"""What the functions wiring names may do at run time: seal channel secrets with the stage's
KMS key, compile workflows into state machines that invoke the step function, and schedule
status page fan-out runs."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest
from conftest import Built, actions_of, policy_statements, role_statements

from orchestrix.adapters.aws.stepfunctions import StepFunctionsEngine
from orchestrix.services.status_fanout import MARGIN_SECONDS, fanout_schedule

pytestmark = pytest.mark.xdist_group("cdk")

KMS_CAPABILITY = "kms:secrets"


def render(value: Any) -> str:
    """A template value as text, references as <Name>: comparable with IAM wildcards."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    separator, parts = value["Fn::Join"]
    return str(separator).join(render(part) for part in parts)


def allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    for statement in statements:
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        resources = statement.get("Resource")
        resources = [resources] if not isinstance(resources, list) else resources
        if (
            statement["Effect"] == "Allow"
            and action in actions
            and any(r is not None and fnmatch.fnmatchcase(resource, render(r)) for r in resources)
        ):
            return True
    return False


def function_env(built: Built, name: str) -> dict[str, Any]:
    (fn,) = [
        f["Properties"] for f in built.of_type("AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") == f"{built.config.prefix}-{name}"
    ]  # fmt: skip
    env: dict[str, Any] = fn["Environment"]["Variables"]
    return env


def test_channel_secrets_key_is_a_rotated_cmk_under_the_alias_the_code_asks_for(
    dev: Built,
) -> None:
    ((key_id, key),) = dev.of_type("AWS::KMS::Key").items()
    (alias,) = dev.of_type("AWS::KMS::Alias").values()

    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"  # losing it loses every sealed secret
    assert alias["Properties"]["AliasName"] == "alias/orchestrix-dev-secrets"
    assert alias["Properties"]["TargetKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_functions_with_the_kms_capability_seal_and_open_with_that_key_only(dev: Built) -> None:
    (key_id,) = dev.of_type("AWS::KMS::Key")
    holders = [fn for fn in dev.tables.functions if KMS_CAPABILITY in fn.capabilities]

    assert holders  # people, notify, incidents, ... store or read channel secrets
    for spec in dev.tables.functions:
        statements = policy_statements(dev, spec.name)
        kms = [s for s in statements if any(a.startswith("kms:") for a in actions_of([s]))]
        if spec not in holders:
            assert kms == [], spec.name
            continue
        (statement,) = kms
        assert sorted(actions_of(kms)) == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert statement["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
        # Only data keys bound to a tenant: the encryption context KmsSecretBox always sends.
        assert statement["Condition"] == {"Null": {"kms:EncryptionContext:tenant_id": "false"}}


def test_compiled_workflows_run_under_a_role_that_may_invoke_the_step_function(
    dev: Built,
) -> None:
    env = function_env(dev, "workflows")
    role = env["STATE_MACHINE_ROLE_ARN"]["Fn::GetAtt"][0]
    # The compiler's Task resource: bootstrap.function_arn("workflow_step").
    step_arn = render(env["SCHEDULER_TARGET_PREFIX"]) + "workflow_step"

    assert allows(role_statements(dev, role), "lambda:InvokeFunction", step_arn)
    assert {fn.name for fn in dev.tables.functions} >= {"workflow_step"}


def test_workflows_function_creates_updates_and_starts_its_machines_and_passes_the_role(
    dev: Built,
) -> None:
    env = function_env(dev, "workflows")
    statements = policy_statements(dev, "workflows")
    engine = StepFunctionsEngine(None, env["STATE_MACHINE_PREFIX"], "role")
    name = engine.machine_name("acme", "restart-api", 3)
    # arn:<partition>:lambda:<region>:<account>:function:orchestrix-dev- -> the states ARN
    account_arn = render(env["SCHEDULER_TARGET_PREFIX"]).split(":function:")[0]
    machine = f"{account_arn.replace(':lambda:', ':states:')}:stateMachine:{name}"
    execution = f"{engine.execution_arn(machine, 'run-1')}"

    for action in ("states:CreateStateMachine", "states:UpdateStateMachine",
                   "states:StartExecution"):  # fmt: skip
        assert allows(statements, action, machine), action
    for action in ("states:DescribeExecution", "states:GetExecutionHistory",
                   "states:StopExecution"):  # fmt: skip
        assert allows(statements, action, execution), action
    # Re-compiling an existing version looks its machine up by name.
    assert allows(statements, "states:ListStateMachines", "*")
    assert not allows(statements, "states:CreateStateMachine", machine.replace("dev", "prod"))
    (pass_role,) = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert pass_role["Resource"] == env["STATE_MACHINE_ROLE_ARN"]
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "states.amazonaws.com"}
    }


def test_execution_status_changes_reach_the_tracker_from_the_default_bus(dev: Built) -> None:
    rules = [
        r["Properties"] for r in dev.of_type("AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"].get("source") == ["aws.states"]
    ]  # fmt: skip
    tracker = [
        logical for logical, f in dev.of_type("AWS::Lambda::Function").items()
        if f["Properties"].get("FunctionName") == "orchestrix-dev-execution_tracker"
    ]  # fmt: skip

    (rule,) = rules
    assert "EventBusName" not in rule  # Step Functions reports on the default bus only
    assert json.dumps(rule["Targets"]).count(tracker[0]) == 1


@pytest.mark.parametrize("function", ["alerts", "evaluate_rules", "housekeeping"])
def test_rule_functions_may_switch_the_evaluation_schedule_and_nothing_else(
    dev: Built, function: str
) -> None:
    # The name the adapter builds from the function's environment, as bootstrap does
    env = function_env(dev, function)
    group = env["SCHEDULE_GROUP_NAME"]
    assert group == "orchestrix-dev"
    account_arn = render(env["SCHEDULER_TARGET_PREFIX"]).split(":function:")[0]
    schedules = account_arn.replace(":lambda:", ":scheduler:") + f":schedule/{group}"
    (schedule,) = [
        s["Properties"] for s in dev.of_type("AWS::Scheduler::Schedule").values()
        if s["Properties"]["Name"] == f"{group}-evaluate-rules"
    ]  # fmt: skip
    statements = policy_statements(dev, function)

    for action in ("scheduler:GetSchedule", "scheduler:UpdateSchedule"):
        assert allows(statements, action, f"{schedules}/{group}-evaluate-rules"), action
        assert not allows(statements, action, f"{schedules}/{group}-housekeeping"), action
    assert not allows(statements, "scheduler:CreateSchedule", f"{schedules}/{group}-x")
    # UpdateSchedule re-passes the schedule's own role
    passes = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert any(json.dumps(s["Resource"]) == json.dumps(schedule["Target"]["RoleArn"])
               for s in passes)  # fmt: skip
    assert schedule.get("State", "ENABLED") == "ENABLED"  # the first run settles it


def test_default_bus_rules_take_only_this_stages_alarms_and_executions(dev: Built) -> None:
    patterns = {
        r["Properties"]["EventPattern"]["source"][0]: r["Properties"]["EventPattern"]
        for r in dev.of_type("AWS::Events::Rule").values()
        if "EventBusName" not in r["Properties"]
    }

    # Any alarm of the account used to reach alert intake, any state machine the tracker.
    assert patterns["aws.cloudwatch"]["detail"] == {"alarmName": [{"prefix": "orchestrix.dev."}]}
    assert patterns["aws.states"]["detail"]["stateMachineArn"] == [
        {
            "prefix": {
                "Fn::Join": [
                    "",
                    [
                        "arn:aws:states:us-east-1:",
                        {"Ref": "AWS::AccountId"},
                        ":stateMachine:orchestrix-dev-",
                    ],
                ]
            }
        }
    ]
    # The state machines of the stage (declared and per-workflow) all carry that prefix.
    names = [
        m["Properties"]["StateMachineName"]
        for m in dev.of_type("AWS::StepFunctions::StateMachine").values()
    ]
    assert names and all(name.startswith("orchestrix-dev-") for name in names)


def test_status_pages_schedules_its_own_fan_out_runs_and_nothing_more(dev: Built) -> None:
    """Subscribers are told behind the request: the status pages function creates one-time
    schedules in the stage's group that the scheduler role may invoke it with, and has the
    time for a run (API Gateway still ends its requests at 29 s)."""
    env = function_env(dev, "status_pages")
    group = env["SCHEDULE_GROUP_NAME"]
    target = render(env["SCHEDULER_TARGET_PREFIX"]) + "status_pages"
    schedules = target.split(":function:")[0].replace(":lambda:", ":scheduler:") + ":schedule"
    statements = policy_statements(dev, "status_pages")
    name = fanout_schedule("spu_01abc", 1)

    for action in ("scheduler:CreateSchedule", "scheduler:UpdateSchedule"):
        assert allows(statements, action, f"{schedules}/{group}/{name}"), action
        assert not allows(statements, action, f"{schedules}/other-stage/{name}"), action
    assert not any(a.startswith(("events:", "lambda:")) for a in actions_of(statements))
    # the schedules' role, passed to the scheduler, may invoke the function
    role = env["SCHEDULER_ROLE_ARN"]["Fn::GetAtt"][0]
    assert allows(role_statements(dev, role), "lambda:InvokeFunction", target)
    passes = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert any(json.dumps(s["Resource"]) == json.dumps(env["SCHEDULER_ROLE_ARN"]) for s in passes)
    (fn,) = [
        f["Properties"] for f in dev.of_type("AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") == f"{dev.config.prefix}-status_pages"
    ]  # fmt: skip
    assert fn["Timeout"] >= 10 * MARGIN_SECONDS
