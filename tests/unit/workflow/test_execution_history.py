"""Per-step progress read from a Step Functions history, and state machine naming."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orchestrix.adapters.aws.execution_history import step_runs
from orchestrix.adapters.aws.state_machines import declared_arn, declared_name
from orchestrix.adapters.aws.stepfunctions import StepFunctionsEngine

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _history(*specs: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    events = []
    for index, (kind, details) in enumerate(specs, start=1):
        events.append(
            {"id": index, "previousEventId": index - 1, "type": kind,
             "timestamp": T0 + timedelta(seconds=index), **details}
        )  # fmt: skip
    return events


def _entered(name: str) -> dict[str, Any]:
    return {"stateEnteredEventDetails": {"name": name}}


def _exited(name: str, steps: dict[str, Any]) -> dict[str, Any]:
    return {"stateExitedEventDetails": {"name": name, "output": json.dumps({"steps": steps})}}


def _failed(error: str, message: str) -> dict[str, Any]:
    cause = json.dumps({"errorType": error, "errorMessage": message})
    return {"taskFailedEventDetails": {"error": error, "cause": cause}}


def test_retried_task_shows_every_attempt_and_the_final_output() -> None:
    events = _history(
        ("TaskStateEntered", _entered("probe")),
        ("TaskScheduled", {}),
        ("TaskFailed", _failed("HttpStatusError", "answered 503")),
        ("TaskScheduled", {}),
        ("TaskSucceeded", {}),
        ("TaskStateExited", _exited("probe", {"probe": {"status": 200}})),
        ("ExecutionSucceeded", {}),
    )

    (probe,) = step_runs(events, {"probe": "http"})

    assert (probe.status, probe.attempts, probe.output) == ("succeeded", 2, {"status": 200})
    assert probe.error is None
    assert probe.finished_at == T0 + timedelta(seconds=6)


def test_caught_error_marks_the_step_failed_with_the_message_not_the_stack() -> None:
    events = _history(
        ("TaskStateEntered", _entered("check")),
        ("TaskScheduled", {}),
        ("TaskFailed", _failed("HttpTransportError", "connection refused")),
        ("TaskStateExited", _exited("check", {})),
        ("TaskStateEntered", _entered("tell")),
    )

    check, tell = step_runs(events, {"check": "http", "tell": "notify"})

    assert check.status == "failed"
    assert check.error == {"error": "HttpTransportError", "cause": "connection refused"}
    assert (tell.status, tell.attempts) == ("running", 0)


def test_approval_waits_then_is_cancelled_with_the_execution() -> None:
    events = _history(
        ("TaskStateEntered", _entered("ask")),
        ("TaskScheduled", {}),
        ("TaskSubmitted", {}),
    )
    assert step_runs(events, {"ask": "approval"})[0].status == "waiting_approval"

    aborted = [*events, {"id": 4, "previousEventId": 3, "type": "ExecutionAborted"}]
    assert step_runs(aborted, {"ask": "approval"})[0].status == "cancelled"


def test_helper_states_are_not_steps() -> None:
    events = _history(("PassStateEntered", _entered("__merge_fan")), ("PassStateExited", {}))
    assert step_runs(events, {"fan": "parallel"}) == []


def test_state_machine_names_fit_80_characters_and_stay_distinct() -> None:
    engine = StepFunctionsEngine(client=None, prefix="orchestrix-prod", role_arn="r")
    short = engine.machine_name("acme", "wf_01", 3)
    long_a = engine.machine_name("t" * 63, "wf_01m8ddgb2n4hznerxb19j2ycsc", 12)
    long_b = engine.machine_name("t" * 63, "wf_01m8ddgb2n4hznerxb19j2ycsd", 12)

    assert short == "orchestrix-prod-acme-wf_01-v3"
    assert len(long_a) <= 80 and long_a.endswith("-v12")
    assert long_a != long_b


@pytest.mark.parametrize("prefix", ["orchestrix-dev-", "orchestrix-dev"])
def test_machine_names_have_one_dash_after_the_stage_prefix_with_or_without_its_dash(
    prefix: str,
) -> None:
    # given STATE_MACHINE_PREFIX as the CDK sets it (trailing dash) or as written by hand
    engine = StepFunctionsEngine(client=None, prefix=prefix, role_arn="r")
    function = "arn:aws:lambda:eu-west-1:123456789012:function:orchestrix-dev-api"

    # when the names of a workflow's machine and of a declared machine are computed
    workflow_machine = engine.machine_name("acme", "wf_01", 3)
    declared = declared_name(prefix, "remediation")
    arn = declared_arn(prefix, "remediation", function)

    # then both read `orchestrix-dev-<name>`, never `orchestrix-dev--<name>`
    assert workflow_machine == "orchestrix-dev-acme-wf_01-v3"
    assert declared == "orchestrix-dev-remediation"
    assert arn == "arn:aws:states:eu-west-1:123456789012:stateMachine:orchestrix-dev-remediation"
    long_name = engine.machine_name("t" * 63, "wf_01m8ddgb2n4hznerxb19j2ycsc", 12)
    assert long_name.startswith("orchestrix-dev-") and "--" not in long_name
