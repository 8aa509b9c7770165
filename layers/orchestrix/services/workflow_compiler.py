"""Compile a workflow definition to Amazon States Language (JSONPath only).

State layout: the execution input is `execution_input(inputs, alert, meta)`, i.e.
`{"inputs": {...}, "alert": {...} | null, "meta": {...}, "steps": {}, "errors": {}}`.
Each step's output lands at `$.steps.<id>` and a caught error at `$.errors.<id>`
(`{"Error", "Cause"}`), so later steps, templates and Choice rules read them by path.
Every state is named after its step id; helper states use a `__` prefix no step id can have.

Step kinds and their states:
- `http`, `notify`, `aws`: Task `lambda:invoke` of `functions[kind]`, `ResultSelector`
  keeping the step's output fields from `$.Payload` (see OUTPUT_FIELDS).
- `approval`: Task `lambda:invoke.waitForTaskToken` with `TimeoutSeconds`; the answer the API
  sends with SendTaskSuccess becomes `$.steps.<id>`; a rejection (SendTaskFailure) or the
  timeout (`States.Timeout`) goes to `on_error` or fails the run.
- `condition`: a Choice state. Rules Choice cannot express with the semantics of
  `orchestrix.domain.workflow.conditions` (`contains`, templated or list/object values) run
  in `functions["condition"]` (a Task writing `{"result": bool}`) followed by a Choice on it.
- `wait`: Wait (`Seconds`/`Timestamp`, or `SecondsPath`/`TimestampPath` for a template).
- `parallel`: Parallel whose branch states are merged back into one state (`steps` and
  `errors` of every branch).
- `succeed`/`fail`: Succeed/Fail.
`retry` becomes a Retry on the step error names of `orchestrix.domain.workflow.errors`
(MaxAttempts = max_attempts - 1); `on_error` a Catch on `States.ALL`.

Step Lambda contract (event = the task's Payload):
    {"step": "<the step as JSON text>", "context": <the whole execution state>,
     "execution_id": "<execution ARN>", "workflow": "<workflow name>",
     "token": "<task token>"}          # approval only
The step travels as JSON text so nothing a tenant writes can be read as an ASL `.$` path.
On success the Lambda returns a JSON object with the kind's OUTPUT_FIELDS; on failure it
raises an exception whose class name is the Step Functions error (`HttpStatusError`, ...).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from orchestrix.domain.workflow.conditions import needs_lambda
from orchestrix.domain.workflow.errors import RETRYABLE_ERRORS
from orchestrix.domain.workflow.model import (
    AllOf,
    AnyOf,
    AnyStep,
    ApprovalStep,
    AwsStep,
    Comparison,
    ConditionStep,
    FailStep,
    HttpStep,
    NotifyStep,
    ParallelStep,
    SucceedStep,
    WaitStep,
    WorkflowDefinition,
)
from orchestrix.domain.workflow.templates import parse, parse_path, to_jsonpath

LAMBDA_INVOKE: Final = "arn:aws:states:::lambda:invoke"
LAMBDA_CALLBACK: Final = "arn:aws:states:::lambda:invoke.waitForTaskToken"
STEP_KINDS: Final = ("http", "notify", "aws", "approval", "condition")
OUTPUT_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "http": ("status", "headers", "body"),
    "notify": ("channel", "delivered"),
    "aws": ("action", "response"),
    "condition": ("result",),
}
# Transient failures of the Lambda service itself, retried as AWS recommends.
_LAMBDA_TRANSIENT: Final = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
State = dict[str, Any]


class AslInvalid(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def execution_input(
    inputs: Mapping[str, Any],
    alert: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The input every compiled state machine expects. `meta` is for the platform (tenant,
    workflow id and version) and reaches step Lambdas in `context.meta`; templates cannot
    read it."""
    return {
        "inputs": dict(inputs),
        "alert": dict(alert) if alert else None,
        "meta": dict(meta) if meta else {},
        "steps": {},
        "errors": {},
    }


def compile_workflow(
    definition: WorkflowDefinition, functions: Mapping[str, str], *, comment: str | None = None
) -> dict[str, Any]:
    """ASL for `definition`; `functions` maps a step kind (STEP_KINDS) to a Lambda ARN."""
    compiler = _Compiler(definition.name, functions)
    start, states = compiler.scope(definition.steps, "")
    asl: dict[str, Any] = {
        "Comment": comment or definition.description or definition.name,
        "StartAt": start,
        "States": states,
    }
    check_asl(asl)
    return asl


def compile_json(definition: WorkflowDefinition, functions: Mapping[str, str]) -> str:
    return json.dumps(compile_workflow(definition, functions), separators=(",", ":"))


class _Compiler:
    def __init__(self, workflow: str, functions: Mapping[str, str]) -> None:
        self.workflow = workflow
        self.functions = functions

    def scope(self, steps: Sequence[AnyStep], suffix: str) -> tuple[str, dict[str, State]]:
        states: dict[str, State] = {}
        end_name = f"__end{suffix}"
        for index, step in enumerate(steps):
            following = steps[index + 1].id if index + 1 < len(steps) else None
            self.step(step, following, end_name, states)
        return steps[0].id, states

    def step(
        self, step: AnyStep, following: str | None, end: str, states: dict[str, State]
    ) -> None:
        if isinstance(step, SucceedStep):
            states[step.id] = {"Type": "Succeed"}
        elif isinstance(step, FailStep):
            states[step.id] = {"Type": "Fail", "Error": step.error} | (
                {"Cause": step.cause} if step.cause else {}
            )
        elif isinstance(step, ConditionStep):
            self.condition(step, following, end, states)
        elif isinstance(step, WaitStep):
            states[step.id] = {"Type": "Wait", **_wait_spec(step), **_go(step.next or following)}
        elif isinstance(step, ParallelStep):
            self.parallel(step, following, states)
        elif isinstance(step, ApprovalStep):
            states[step.id] = self.approval(step, following)
        else:
            states[step.id] = self.task(step, following)

    def _invoke(self, step: AnyStep, kind: str, callback: bool = False) -> State:
        try:
            arn = self.functions[kind]
        except KeyError:
            raise AslInvalid([f"no function ARN given for step kind {kind!r}"]) from None
        payload: dict[str, Any] = {
            "step": json.dumps(step.model_dump(mode="json", by_alias=True, exclude_none=True)),
            "context.$": "$",
            "execution_id.$": "$$.Execution.Id",
            "workflow": self.workflow,
        }
        if callback:
            payload["token.$"] = "$$.Task.Token"
        return {
            "Type": "Task",
            "Resource": LAMBDA_CALLBACK if callback else LAMBDA_INVOKE,
            "Parameters": {"FunctionName": arn, "Payload": payload},
        }

    def task(self, step: HttpStep | NotifyStep | AwsStep, following: str | None) -> State:
        state = self._invoke(step, step.type)
        state["ResultSelector"] = {f"{f}.$": f"$.Payload.{f}" for f in OUTPUT_FIELDS[step.type]}
        state["ResultPath"] = f"$.steps.{step.id}"
        retry: list[State] = []
        if step.retry is not None and step.retry.max_attempts > 1:
            retry.append(
                {
                    "ErrorEquals": list(RETRYABLE_ERRORS),
                    "IntervalSeconds": step.retry.interval_seconds,
                    "MaxAttempts": step.retry.max_attempts - 1,
                    "BackoffRate": step.retry.backoff_rate,
                }
            )
        retry.append(
            {
                "ErrorEquals": _LAMBDA_TRANSIENT,
                "IntervalSeconds": 1,
                "MaxAttempts": 2,
                "BackoffRate": 2.0,
            }
        )
        state["Retry"] = retry
        return state | _catch(step) | _go(step.next or following)

    def approval(self, step: ApprovalStep, following: str | None) -> State:
        state = self._invoke(step, "approval", callback=True)
        state["TimeoutSeconds"] = step.timeout_seconds
        state["ResultPath"] = f"$.steps.{step.id}"
        return state | _catch(step) | _go(step.next or following)

    def condition(
        self, step: ConditionStep, following: str | None, end: str, states: dict[str, State]
    ) -> None:
        default = step.else_ or following
        if default is None:
            states[end] = {"Type": "Succeed"}
            default = end
        if needs_lambda(step.if_):
            choose = f"__choose_{step.id}"
            task = self._invoke(step, "condition")
            task["ResultSelector"] = {"result.$": "$.Payload.result"}
            task["ResultPath"] = f"$.steps.{step.id}"
            states[step.id] = task | {"Next": choose}
            rule: State = {"Variable": f"$.steps.{step.id}.result", "BooleanEquals": True}
            states[choose] = {
                "Type": "Choice",
                "Choices": [rule | {"Next": step.then}],
                "Default": default,
            }
            return
        states[step.id] = {
            "Type": "Choice",
            "Choices": [_rule(step.if_) | {"Next": step.then}],
            "Default": default,
        }

    def parallel(self, step: ParallelStep, following: str | None, states: dict[str, State]) -> None:
        branches = []
        for b, branch in enumerate(step.branches):
            start, branch_states = self.scope(branch, f"_{step.id}_{b}")
            branches.append({"StartAt": start, "States": branch_states})
        count = len(step.branches)
        merge = f"__merge_{step.id}"
        # Each branch returns the whole state; keep them, then merge every branch's steps and
        # errors in a Pass. ArrayGetItem rather than `$[n].steps`: moto answers a path through
        # an array index with a one-element list where AWS answers the value.
        states[step.id] = {
            "Type": "Parallel",
            "Branches": branches,
            "ResultSelector": {f"b{b}.$": f"States.ArrayGetItem($, {b})" for b in range(count)},
            "ResultPath": f"$.parallel.{step.id}",
            "Next": merge,
        } | _catch(step)
        states[merge] = {
            "Type": "Pass",
            "Parameters": {
                "inputs.$": "$.inputs",
                "alert.$": "$.alert",
                "meta.$": "$.meta",
                "steps.$": _merge(f"$.parallel.{step.id}", "steps", count),
                "errors.$": _merge(f"$.parallel.{step.id}", "errors", count),
            },
        } | _go(step.next or following)


def _merge(prefix: str, key: str, count: int) -> str:
    expression = f"{prefix}.b0.{key}"
    for b in range(1, count):
        expression = f"States.JsonMerge({expression}, {prefix}.b{b}.{key}, false)"
    return expression


def _go(target: str | None) -> State:
    return {"Next": target} if target else {"End": True}


def _catch(step: HttpStep | NotifyStep | AwsStep | ApprovalStep | ParallelStep) -> State:
    if step.on_error is None:
        return {}
    return {
        "Catch": [
            {
                "ErrorEquals": ["States.ALL"],
                "ResultPath": f"$.errors.{step.id}",
                "Next": step.on_error,
            }
        ]
    }


def _wait_spec(step: WaitStep) -> State:
    if isinstance(step.seconds, int):
        return {"Seconds": step.seconds}
    raw = step.seconds if step.seconds is not None else step.until
    assert raw is not None  # the model requires one of them
    single = parse(raw).single
    if single is not None:
        return {"SecondsPath" if step.seconds is not None else "TimestampPath": single.jsonpath}
    return {"Timestamp": raw}


def _rule(predicate: Comparison | AllOf | AnyOf) -> State:
    if isinstance(predicate, AllOf):
        rules = [_rule(child) for child in predicate.all]
        return rules[0] if len(rules) == 1 else {"And": rules}
    if isinstance(predicate, AnyOf):
        rules = [_rule(child) for child in predicate.any]
        return rules[0] if len(rules) == 1 else {"Or": rules}
    variable = to_jsonpath(parse_path(predicate.path))
    value = predicate.value
    if predicate.op == "exists":
        return {"Variable": variable, "IsPresent": True if value is None else bool(value)}
    if predicate.op in ("eq", "ne"):
        test = _typed(variable, value, "Equals")
        return {"Not": test} if predicate.op == "ne" else test
    suffix = {
        "gt": "GreaterThan",
        "gte": "GreaterThanEquals",
        "lt": "LessThan",
        "lte": "LessThanEquals",
    }
    return _typed(variable, value, suffix[predicate.op])


def _typed(variable: str, value: Any, comparison: str) -> State:
    """`variable <comparison> value` that is false when the variable is absent or of another
    kind, matching `conditions.evaluate` (ASL alone would fail the run on an absent path)."""
    present = {"Variable": variable, "IsPresent": True}
    if value is None:
        return {"And": [present, {"Variable": variable, "IsNull": True}]}
    if isinstance(value, bool):
        kind, op = {"Variable": variable, "IsBoolean": True}, "Boolean"
    elif isinstance(value, int | float):
        kind, op = {"Variable": variable, "IsNumeric": True}, "Numeric"
    else:
        kind, op = {"Variable": variable, "IsString": True}, "String"
    return {"And": [present, kind, {"Variable": variable, f"{op}{comparison}": value}]}


def check_asl(asl: Mapping[str, Any]) -> None:
    """Raise AslInvalid unless every StartAt/Next/Default names a state of its own scope and
    state names are unique across the machine (engines that skip this fail at run time)."""
    problems: list[str] = []
    seen: set[str] = set()
    _check_scope(asl, "", problems, seen)
    if problems:
        raise AslInvalid(problems)


def _check_scope(scope: Mapping[str, Any], where: str, problems: list[str], seen: set[str]) -> None:
    states: Mapping[str, Any] = scope.get("States", {})
    if scope.get("StartAt") not in states:
        problems.append(f"{where or 'machine'}: StartAt {scope.get('StartAt')!r} is not a state")
    for name, state in states.items():
        if name in seen:
            problems.append(f"state name {name!r} is used twice")
        seen.add(name)
        if len(name) > 80:
            problems.append(f"state name {name!r} is longer than 80 characters")
        targets = [state.get("Next"), state.get("Default")]
        targets += [c.get("Next") for c in state.get("Choices", [])]
        targets += [c.get("Next") for c in state.get("Catch", [])]
        for target in targets:
            if target is not None and target not in states:
                problems.append(f"{name}: transition to unknown state {target!r}")
        kind = state.get("Type")
        if kind in ("Task", "Wait", "Pass", "Parallel", "Map") and ("Next" in state) == bool(
            state.get("End")
        ):
            problems.append(f"{name}: needs exactly one of Next or End")
        if kind == "Choice" and not state.get("Choices"):
            problems.append(f"{name}: Choice without rules")
        for b, branch in enumerate(state.get("Branches", [])):
            _check_scope(branch, f"{name}.Branches[{b}]", problems, seen)
