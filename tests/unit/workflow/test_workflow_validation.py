from __future__ import annotations

from typing import Any

import pytest
from workflow_examples import linear, restart_api

from orchestrix.domain.egress import EgressPolicy
from orchestrix.domain.workflow import WorkflowInvalid, parse_workflow
from orchestrix.domain.workflow.model import ConditionStep, HttpStep

PUBLIC = EgressPolicy(resolver=lambda host: ["93.184.216.34"])


def _errors(data: dict[str, Any], egress: EgressPolicy | None = None) -> list[dict[str, Any]]:
    with pytest.raises(WorkflowInvalid) as caught:
        parse_workflow(data, egress=egress)
    return caught.value.details


def _ok(step_id: str = "ok") -> dict[str, Any]:
    return {"id": step_id, "type": "succeed"}


def test_issue_example_is_accepted_with_typed_steps() -> None:
    workflow = parse_workflow(restart_api(), egress=PUBLIC)

    assert [s.id for s in workflow.steps] == [
        "check", "down", "ask", "restart", "settle", "tell", "ok"
    ]  # fmt: skip
    assert isinstance(workflow.steps[0], HttpStep)
    assert workflow.steps[0].retry is not None and workflow.steps[0].retry.max_attempts == 3
    assert isinstance(workflow.steps[1], ConditionStep)
    assert workflow.steps[1].else_ == "ok"


def test_unknown_step_type_is_located_at_its_type_field() -> None:
    data = linear({"id": "a", "type": "teleport"}, _ok())

    errors = _errors(data)

    assert errors[0]["loc"] == ["steps", 0, "type"]
    assert "unknown type 'teleport'" in errors[0]["msg"]


def test_missing_nested_field_is_located_without_union_tags() -> None:
    data = linear(
        {"id": "a", "type": "http", "request": {}},
        {"id": "b", "type": "notify", "message": "x", "channel": {"type": "webhook"}},
    )

    errors = _errors(data)

    assert [e["loc"] for e in errors] == [
        ["steps", 0, "request", "url"],
        ["steps", 1, "channel", "url"],
    ]


def test_duplicate_step_id_points_at_the_second_use() -> None:
    data = linear({"id": "a", "type": "wait", "seconds": 1}, {"id": "a", "type": "succeed"})

    errors = _errors(data)

    assert errors == [{"loc": ["steps", 1, "id"], "msg": "duplicate step id 'a' (also steps[0])"}]


def test_dangling_next_names_the_missing_step() -> None:
    data = linear({"id": "a", "type": "wait", "seconds": 1, "next": "nowhere"}, _ok())

    errors = _errors(data)

    assert {"loc": ["steps", 0, "next"], "msg": "unknown step 'nowhere'"} in errors


def test_dangling_condition_branch_is_located_at_then() -> None:
    data = linear(
        {"id": "c", "type": "condition", "if": {"path": "inputs.x", "op": "exists"},
         "then": "missing"},
        _ok(),
    )  # fmt: skip

    assert _errors(data)[0]["loc"] == ["steps", 0, "then"]


def test_step_nobody_can_reach_is_reported() -> None:
    data = linear(_ok("first"), {"id": "orphan", "type": "wait", "seconds": 1})

    errors = _errors(data)

    assert errors == [{"loc": ["steps", 1], "msg": "step 'orphan' is unreachable"}]


def test_loop_without_a_wait_is_refused_and_with_a_wait_accepted() -> None:
    poll = {"id": "poll", "type": "http", "request": {"url": "https://svc.example/ready"}}
    again = {
        "id": "again",
        "type": "condition",
        "if": {"path": "steps.poll.status", "op": "ne", "value": 200},
        "then": "poll",
        "else": "ok",
    }
    busy_loop = linear(poll, again, _ok())
    patient_loop = linear(poll, {**again, "then": "nap"}, _ok(),
                          {"id": "nap", "type": "wait", "seconds": 5, "next": "poll"})  # fmt: skip

    errors = _errors(busy_loop)

    assert errors[0]["loc"] == ["steps", 0]
    assert "cycle poll → again has no wait step" in errors[0]["msg"]
    parse_workflow(patient_loop)


def test_bad_template_syntax_and_unknown_root_are_located_at_the_field() -> None:
    data = linear(
        {"id": "a", "type": "http", "request": {"url": "http://{{ inputs.host /x"}},
        {"id": "b", "type": "approval", "message": "hi {{ secrets.token }}"},
        _ok(),
    )

    errors = _errors(data)

    assert errors[0]["loc"] == ["steps", 0, "request", "url"]
    assert "unclosed" in errors[0]["msg"]
    assert errors[1]["loc"] == ["steps", 1, "message"]
    assert "unknown root 'secrets'" in errors[1]["msg"]


def test_template_naming_an_unknown_step_or_undeclared_input_is_refused() -> None:
    data = restart_api()
    data["steps"][5]["message"] = "{{ steps.chekc.status }} {{ inputs.servise }}"

    errors = _errors(data)

    assert [e["loc"] for e in errors] == [["steps", 5, "message"]] * 2
    assert "unknown step 'chekc'" in errors[0]["msg"]
    assert "input 'servise'" in errors[1]["msg"]


def test_aws_action_outside_the_allow_list_is_refused() -> None:
    data = linear({"id": "a", "type": "aws", "action": "iam:CreateUser", "params": {}}, _ok())

    errors = _errors(data)

    assert errors[0]["loc"] == ["steps", 0, "action"]
    assert errors[0]["msg"].startswith("aws action 'iam:CreateUser' is not allowed")


def test_literal_metadata_url_is_refused_at_create_time_but_templated_url_is_not() -> None:
    data = restart_api()
    data["steps"][5]["channel"]["url"] = "http://169.254.169.254/latest/meta-data"

    errors = _errors(data, egress=PUBLIC)

    assert errors == [
        {
            "loc": ["steps", 5, "channel", "url"],
            "msg": "target refused by the egress policy: 169.254.169.254 is link-local; "
            "link-local targets are always refused",
        }
    ]


def test_branch_may_not_jump_into_another_branch() -> None:
    data = linear(
        {
            "id": "fan",
            "type": "parallel",
            "branches": [
                [{"id": "a", "type": "wait", "seconds": 1, "next": "b"}],
                [{"id": "b", "type": "wait", "seconds": 1}],
            ],
        },
        _ok(),
    )

    errors = _errors(data)

    assert errors == [
        {"loc": ["steps", 0, "branches", 0, 0, "next"], "msg": "step 'b' is outside this step list"}
    ]


@pytest.mark.parametrize(
    ("wait", "field", "needle"),
    [
        ({"seconds": "soon"}, "seconds", "whole number"),
        ({"until": "tomorrow"}, "until", "ISO-8601"),
        ({"until": "2030-01-01T00:00:00"}, "until", "time zone"),
        ({"seconds": "{{ inputs.a }}{{ inputs.b }}"}, "seconds", "exactly one"),
        ({"seconds": 5, "until": "2030-01-01T00:00:00Z"}, None, "exactly one of"),
    ],
)
def test_wait_needs_one_well_formed_time(
    wait: dict[str, Any], field: str | None, needle: str
) -> None:
    data = linear({"id": "w", "type": "wait", **wait}, _ok())

    errors = _errors(data)

    assert errors[0]["loc"] == (["steps", 0, field] if field else ["steps", 0])
    assert needle in errors[0]["msg"]


def test_comparison_without_a_value_is_refused() -> None:
    data = linear(
        {"id": "c", "type": "condition", "if": {"all": [{"path": "inputs.x", "op": "gt"}]},
         "then": "ok"},
        _ok(),
    )  # fmt: skip

    errors = _errors(data)

    assert errors == [{"loc": ["steps", 0, "if", "all", 0], "msg": "'gt' needs a value"}]


def test_every_problem_is_reported_at_once() -> None:
    data = linear(
        {"id": "a", "type": "aws", "action": "iam:CreateUser", "next": "zzz"},
        {"id": "a", "type": "succeed"},
    )

    with pytest.raises(WorkflowInvalid) as caught:
        parse_workflow(data)

    assert [e["loc"] for e in caught.value.details] == [
        ["steps", 1, "id"],
        ["steps", 0, "next"],
        ["steps", 0, "action"],
    ]
    assert caught.value.status == 422
    assert str(caught.value).startswith("steps.1.id: duplicate step id 'a'")
    assert str(caught.value).endswith("(and 2 more)")


def test_step_that_retries_itself_on_error_is_a_cycle_without_wait() -> None:
    data = linear(
        {"id": "a", "type": "http", "request": {"url": "https://x.example"}, "on_error": "a"}
    )

    errors = _errors(data)

    assert errors == [{"loc": ["steps", 0], "msg": "cycle a has no wait step; add a wait"}]


def test_inputs_schema_must_describe_an_object() -> None:
    data = {**linear(_ok()), "inputs": {"type": "array"}}

    assert _errors(data) == [
        {"loc": ["inputs", "type"], "msg": "inputs must be a JSON Schema of type 'object'"}
    ]
