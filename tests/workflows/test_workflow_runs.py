"""Retries, approvals, conditions and branches, executed by the Step Functions engine."""

from __future__ import annotations

import json
from typing import Any

import pytest
from workflow_runtime import LocalHttp, Runtime

pytestmark = pytest.mark.xdist_group("moto-sfn")


def _attempts(history: list[dict[str, Any]]) -> list[str]:
    """Outcome of every Lambda task attempt, in order."""
    return [e["type"] for e in history if e["type"] in ("TaskSucceeded", "TaskFailed")]


def test_http_step_succeeds_on_third_attempt_after_two_503s(
    runtime: Runtime, local_http: LocalHttp
) -> None:
    # given an endpoint that answers 503 twice, then 200
    local_http.answer("/flaky", 503, 503, 200)
    definition = {
        "name": "probe",
        "steps": [
            {
                "id": "probe",
                "type": "http",
                "request": {"url": f"{local_http.url}/flaky"},
                "expect_status": [200],
                "retry": {"max_attempts": 3, "interval_seconds": 1, "backoff_rate": 1.0},
            }
        ],
    }

    # when the workflow runs
    execution = runtime.start(definition, {})
    described = runtime.wait_until_done(execution)

    # then the third attempt succeeds, after two HttpStatusError failures
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["steps"]["probe"]["status"] == 200
    history = runtime.history(execution)
    assert _attempts(history) == ["TaskFailed", "TaskFailed", "TaskSucceeded"]
    scheduled = [e for e in history if e["type"] == "TaskScheduled"]
    started = [e for e in history if e["type"] == "TaskStarted"]
    assert len(scheduled) == len(started) == 3
    failures = [e["taskFailedEventDetails"] for e in history if e["type"] == "TaskFailed"]
    assert {f["error"] for f in failures} == {"HttpStatusError"}
    assert "answered 503" in json.loads(failures[0]["cause"])["errorMessage"]


def test_http_step_out_of_retries_goes_to_on_error_with_the_error_recorded(
    runtime: Runtime, local_http: LocalHttp
) -> None:
    # given an endpoint that keeps failing and a step that tells the team on error
    local_http.answer("/down", 500)
    definition = {
        "name": "probe-or-tell",
        "steps": [
            {
                "id": "probe",
                "type": "http",
                "request": {"url": f"{local_http.url}/down"},
                "expect_status": [200],
                "retry": {"max_attempts": 2, "interval_seconds": 1},
                "on_error": "tell",
                "next": "healthy",
            },
            {"id": "healthy", "type": "succeed"},
            {
                "id": "tell",
                "type": "notify",
                "channel": {"type": "webhook", "url": f"{local_http.url}/hook"},
                "message": "probe failed: {{ steps.probe.status }}",
            },
        ],
    }

    # when it runs
    execution = runtime.start(definition, {})
    described = runtime.wait_until_done(execution)

    # then both attempts were made, the team was told once and the error is in the state
    assert described["status"] == "SUCCEEDED"
    assert len([r for r in local_http.received if r[1] == "/down"]) == 2
    assert local_http.bodies("/hook") == [{"message": "probe failed: ", "step": "tell"}]
    error = json.loads(described["output"])["errors"]["probe"]
    assert error["Error"] == "HttpStatusError"
    assert "answered 500" in json.loads(error["Cause"])["errorMessage"]


def test_fail_step_ends_the_run_with_its_error(runtime: Runtime) -> None:
    definition = {
        "name": "give-up",
        "steps": [{"id": "stop", "type": "fail", "error": "ProbeFailed", "cause": "down"}],
    }

    described = runtime.wait_until_done(runtime.start(definition, {}))

    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "ProbeFailed",
        "down",
    )


def _approval_flow(timeout_seconds: int) -> dict[str, Any]:
    return {
        "name": "gated",
        "steps": [
            {"id": "ask", "type": "approval", "message": "go?", "timeout_seconds": timeout_seconds},
            {"id": "done", "type": "succeed"},
        ],
    }


def test_rejected_approval_fails_the_run(runtime: Runtime) -> None:
    execution = runtime.start(_approval_flow(60), {})
    approval = runtime.next_approval()

    runtime.sfn.send_task_failure(
        taskToken=approval["token"], error="ApprovalRejected", cause="not now"
    )
    described = runtime.wait_until_done(execution)

    assert described["status"] == "FAILED"
    assert described["error"] == "ApprovalRejected"


def test_unanswered_approval_times_out(runtime: Runtime) -> None:
    execution = runtime.start(_approval_flow(1), {})
    runtime.next_approval()

    described = runtime.wait_until_done(execution)

    assert described["status"] == "FAILED"
    assert described["error"] == "States.Timeout"


def test_contains_condition_on_alert_labels_picks_the_branch(runtime: Runtime) -> None:
    # given a condition Choice cannot express (list membership), and a templated wait
    definition = {
        "name": "triage",
        "steps": [
            {"id": "pause", "type": "wait", "seconds": "{{ inputs.pause }}"},
            {
                "id": "is_prod",
                "type": "condition",
                "if": {
                    "all": [
                        {"path": "alert.labels.env", "op": "eq", "value": "prod"},
                        {"path": "inputs.teams", "op": "contains", "value": "sre"},
                    ]
                },
                "then": "page",
                "else": "ignore",
            },
            {"id": "page", "type": "fail", "error": "Paged"},
            {"id": "ignore", "type": "succeed"},
        ],
    }
    alert = {"labels": {"env": "prod"}, "annotations": {}, "value": 1.0}

    paged = runtime.start(definition, {"pause": 0, "teams": ["sre", "db"]}, alert)
    ignored = runtime.start(definition, {"pause": 0, "teams": ["db"]}, alert)

    assert runtime.wait_until_done(paged)["error"] == "Paged"
    assert runtime.wait_until_done(ignored)["status"] == "SUCCEEDED"


def test_parallel_branches_merge_their_outputs(runtime: Runtime, local_http: LocalHttp) -> None:
    local_http.answer("/a", 200)
    local_http.answer("/b", 204)
    definition = {
        "name": "fan-out",
        "steps": [
            {
                "id": "both",
                "type": "parallel",
                "branches": [
                    [{"id": "a", "type": "http", "request": {"url": f"{local_http.url}/a"}}],
                    [{"id": "b", "type": "http", "request": {"url": f"{local_http.url}/b"}}],
                ],
            },
            {
                "id": "ok",
                "type": "condition",
                "if": {"path": "steps.b.status", "op": "eq", "value": 204},
                "then": "done",
                "else": "broken",
            },
            {"id": "done", "type": "succeed"},
            {"id": "broken", "type": "fail"},
        ],
    }

    execution = runtime.start(definition, {})
    described = runtime.wait_until_done(execution)

    assert described["status"] == "SUCCEEDED", described
    steps = json.loads(described["output"])["steps"]
    assert (steps["a"]["status"], steps["b"]["status"]) == (200, 204)
