from __future__ import annotations

import json
from typing import Any

import pytest
from workflow_examples import linear, restart_api

from orchestrix.domain.workflow import parse_workflow
from orchestrix.services.workflow_compiler import (
    LAMBDA_CALLBACK,
    LAMBDA_INVOKE,
    AslInvalid,
    check_asl,
    compile_workflow,
    execution_input,
)

STEP = "arn:aws:lambda:us-east-1:123456789012:function:workflow-step"
APPROVAL = "arn:aws:lambda:us-east-1:123456789012:function:workflow-approval"
FUNCTIONS = {"http": STEP, "notify": STEP, "aws": STEP, "condition": STEP, "approval": APPROVAL}


def compiled(data: dict[str, Any]) -> dict[str, Any]:
    return compile_workflow(parse_workflow(data), FUNCTIONS)


def test_example_compiles_to_one_state_per_step_in_order() -> None:
    asl = compiled(restart_api())

    assert asl["StartAt"] == "check"
    assert {name: s["Type"] for name, s in asl["States"].items()} == {
        "check": "Task",
        "down": "Choice",
        "ask": "Task",
        "restart": "Task",
        "settle": "Wait",
        "tell": "Task",
        "ok": "Succeed",
    }
    assert asl["States"]["restart"]["Next"] == "settle"
    assert asl["States"]["settle"] == {"Type": "Wait", "Seconds": 60, "Next": "tell"}


def test_http_step_is_a_lambda_task_with_retry_catch_and_its_output_at_steps() -> None:
    check = compiled(restart_api())["States"]["check"]

    assert check["Resource"] == LAMBDA_INVOKE
    assert check["Parameters"]["FunctionName"] == STEP
    assert check["ResultSelector"] == {
        "status.$": "$.Payload.status",
        "headers.$": "$.Payload.headers",
        "body.$": "$.Payload.body",
    }
    assert check["ResultPath"] == "$.steps.check"
    retry = check["Retry"][0]
    assert (retry["MaxAttempts"], retry["IntervalSeconds"], retry["BackoffRate"]) == (2, 1, 2.0)
    assert "HttpStatusError" in retry["ErrorEquals"]
    assert "EgressDenied" not in retry["ErrorEquals"]
    assert check["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.errors.check", "Next": "tell"}
    ]


def test_step_travels_as_json_text_so_tenant_keys_are_never_asl_paths() -> None:
    data = linear(
        {"id": "act", "type": "aws", "action": "ecs:UpdateService",
         "params": {"service": "x", "Payload.$": "$$.Execution.Input"}},
    )  # fmt: skip

    payload = compiled(data)["States"]["act"]["Parameters"]["Payload"]

    assert json.loads(payload["step"])["params"]["Payload.$"] == "$$.Execution.Input"
    assert payload["context.$"] == "$"
    assert payload["execution_id.$"] == "$$.Execution.Id"


def test_approval_waits_for_a_task_token_with_a_timeout() -> None:
    ask = compiled(restart_api())["States"]["ask"]

    assert ask["Resource"] == LAMBDA_CALLBACK
    assert ask["Parameters"]["FunctionName"] == APPROVAL
    assert ask["Parameters"]["Payload"]["token.$"] == "$$.Task.Token"
    assert ask["TimeoutSeconds"] == 3600
    assert ask["ResultPath"] == "$.steps.ask"


def test_condition_becomes_a_choice_that_is_false_for_absent_or_other_kinds() -> None:
    down = compiled(restart_api())["States"]["down"]

    variable = "$.steps.check.status"
    assert down == {
        "Type": "Choice",
        "Choices": [
            {
                "Not": {
                    "And": [
                        {"Variable": variable, "IsPresent": True},
                        {"Variable": variable, "IsNumeric": True},
                        {"Variable": variable, "NumericEquals": 200},
                    ]
                },
                "Next": "ask",
            }
        ],
        "Default": "ok",
    }


def test_contains_condition_runs_in_a_lambda_then_chooses_on_its_result() -> None:
    data = linear(
        {"id": "c", "type": "condition", "if": {"path": "inputs.t", "op": "contains", "value": "a"},
         "then": "yes"},
        {"id": "no", "type": "fail"},
        {"id": "yes", "type": "succeed"},
    )  # fmt: skip

    states = compiled(data)["States"]

    assert states["c"]["Next"] == "__choose_c"
    assert states["c"]["ResultSelector"] == {"result.$": "$.Payload.result"}
    assert states["__choose_c"]["Choices"][0]["Variable"] == "$.steps.c.result"
    assert states["__choose_c"]["Default"] == "no"


def test_last_condition_without_else_ends_in_a_generated_succeed() -> None:
    data = linear(
        {"id": "w", "type": "wait", "seconds": 0, "next": "c"},
        {"id": "stop", "type": "fail"},
        {"id": "c", "type": "condition", "if": {"path": "inputs.x", "op": "exists"},
         "then": "stop"},
    )  # fmt: skip

    states = compiled(data)["States"]

    assert states["c"]["Default"] == "__end"
    assert states["__end"] == {"Type": "Succeed"}
    assert states["c"]["Choices"][0] == {
        "Variable": "$.inputs.x",
        "IsPresent": True,
        "Next": "stop",
    }


def test_templated_wait_reads_its_value_from_the_state() -> None:
    data = linear(
        {"id": "a", "type": "wait", "seconds": "{{ inputs.delay }}"},
        {"id": "b", "type": "wait", "until": "{{ steps.plan.body.at }}"},
        {"id": "plan", "type": "http", "request": {"url": "https://x.example"}},
    )

    states = compiled(data)["States"]

    assert states["a"]["SecondsPath"] == "$.inputs.delay"
    assert states["b"]["TimestampPath"] == "$.steps.plan.body.at"
    assert states["plan"]["End"] is True


def test_parallel_merges_branch_steps_back_into_one_state() -> None:
    data = linear(
        {"id": "fan", "type": "parallel", "on_error": "bad", "branches": [
            [{"id": "a", "type": "wait", "seconds": 1}],
            [{"id": "b", "type": "wait", "seconds": 1}],
        ]},
        {"id": "good", "type": "succeed"},
        {"id": "bad", "type": "fail"},
    )  # fmt: skip

    states = compiled(data)["States"]

    fan = states["fan"]
    assert [b["StartAt"] for b in fan["Branches"]] == ["a", "b"]
    assert fan["Next"] == "__merge_fan"
    assert fan["Catch"][0]["Next"] == "bad"
    merge = states["__merge_fan"]
    assert merge["Parameters"]["steps.$"] == (
        "States.JsonMerge($.parallel.fan.b0.steps, $.parallel.fan.b1.steps, false)"
    )
    assert merge["Next"] == "good"


def test_missing_function_arn_is_reported() -> None:
    with pytest.raises(AslInvalid, match="no function ARN given for step kind 'approval'"):
        compile_workflow(parse_workflow(restart_api()), {"http": STEP})


def test_asl_check_catches_transitions_to_unknown_states() -> None:
    asl = {
        "StartAt": "a",
        "States": {
            "a": {"Type": "Wait", "Seconds": 1, "Next": "nowhere"},
            "b": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": True,
                                                 "Next": "gone"}], "Default": "a"},
        },
    }  # fmt: skip

    with pytest.raises(AslInvalid) as caught:
        check_asl(asl)

    assert caught.value.problems == [
        "a: transition to unknown state 'nowhere'",
        "b: transition to unknown state 'gone'",
    ]


def test_execution_input_starts_with_empty_steps_and_errors() -> None:
    assert execution_input({"service": "api"}, meta={"tenant_id": "t1"}) == {
        "inputs": {"service": "api"},
        "alert": None,
        "meta": {"tenant_id": "t1"},
        "steps": {},
        "errors": {},
    }
