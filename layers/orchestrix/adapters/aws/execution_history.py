"""Per-step progress out of a Step Functions execution history.

Events are linked by `previousEventId` (in Parallel branches the list order interleaves), so
each event is attributed to the state whose `*StateEntered` event it descends from. A Task's
attempts are its `TaskScheduled` events; the last attempt's outcome decides the step's
status (a caught error still exits the state, but the step failed). Helper states the
compiler adds (`__…`) are not steps and are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from orchestrix.domain.workflow.error_text import error_message, without_traces
from orchestrix.domain.workflow.execution import StepRun

_FAILED = {
    "TaskFailed": "taskFailedEventDetails",
    "TaskTimedOut": "taskTimedOutEventDetails",
    "TaskStartFailed": "taskStartFailedEventDetails",
    "TaskSubmitFailed": "taskSubmitFailedEventDetails",
    "ParallelStateFailed": None,
}
_ENDED_BY = {
    "ExecutionFailed": "failed",
    "ExecutionAborted": "cancelled",
    "ExecutionTimedOut": "failed",
}


def step_runs(events: Iterable[Mapping[str, Any]], step_types: Mapping[str, str]) -> list[StepRun]:
    """Steps in the order they were first entered; `step_types` maps step id -> type."""
    owner: dict[int, str] = {}
    runs: dict[str, StepRun] = {}
    ended: str | None = None
    for event in sorted(events, key=lambda e: int(e["id"])):
        kind = str(event["type"])
        event_id = int(event["id"])
        if kind.endswith("StateEntered"):
            name = str(event["stateEnteredEventDetails"]["name"])
            owner[event_id] = name
            if name in step_types:
                runs.pop(name, None)  # a revisited step shows its latest visit
                runs[name] = StepRun(
                    id=name,
                    type=step_types[name],
                    status="running",
                    started_at=_at(event),
                )
            continue
        if kind in _ENDED_BY:
            ended = _ENDED_BY[kind]
            continue
        name = owner.get(int(event.get("previousEventId") or 0), "")
        owner[event_id] = name
        run = runs.get(name)
        if run is None:
            continue
        if kind == "TaskScheduled":
            run.attempts += 1
            run.status, run.error = "running", None
        elif kind == "TaskSubmitted" and run.type == "approval":
            run.status = "waiting_approval"
        elif kind in _FAILED:
            details = event.get(_FAILED[kind] or "", {}) or {}
            run.status, run.finished_at = "failed", _at(event)
            run.error = {"error": details.get("error"), "cause": _cause(details.get("cause"))}
        elif kind.endswith("StateExited"):
            run.finished_at = _at(event)
            if run.status != "failed":
                run.status = "succeeded"
                run.output = _output(event, name)
    for run in runs.values():
        if ended and run.status in ("running", "waiting_approval"):
            run.status = ended
    return list(runs.values())


def _at(event: Mapping[str, Any]) -> datetime | None:
    value = event.get("timestamp")
    return value if isinstance(value, datetime) else None


def _output(event: Mapping[str, Any], step_id: str) -> Any:
    raw = (event.get("stateExitedEventDetails") or {}).get("output")
    if not raw:
        return None
    try:
        state = json.loads(raw)
    except ValueError:
        return None
    steps = state.get("steps") if isinstance(state, dict) else None
    return without_traces(steps.get(step_id)) if isinstance(steps, dict) else None


def _cause(raw: Any) -> Any:
    """A Lambda error's cause is the runtime's JSON; show its message, not the stack."""
    return error_message(raw)
