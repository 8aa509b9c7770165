"""Choice states compiled from conditions decide exactly as `conditions.evaluate` does."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter
from workflow_runtime import Runtime

from orchestrix.domain.workflow.conditions import evaluate, needs_lambda
from orchestrix.domain.workflow.model import AllOf, AnyOf, Comparison, Predicate

pytestmark = pytest.mark.xdist_group("moto-sfn")

PREDICATE: TypeAdapter[Comparison | AllOf | AnyOf] = TypeAdapter(Predicate)
INPUTS = {"status": 503, "code": "503", "env": "prod", "on": True, "nothing": None, "ratio": 0.5}
CASES: list[dict[str, Any]] = [
    {"path": "inputs.status", "op": "eq", "value": 503},
    {"path": "inputs.code", "op": "eq", "value": 503},
    {"path": "inputs.status", "op": "ne", "value": 200},
    {"path": "inputs.missing", "op": "ne", "value": 200},
    {"path": "inputs.missing", "op": "gt", "value": 1},
    {"path": "inputs.env", "op": "gte", "value": "prod"},
    {"path": "inputs.env", "op": "lt", "value": 5},
    {"path": "inputs.ratio", "op": "lte", "value": 0.5},
    {"path": "inputs.on", "op": "eq", "value": True},
    {"path": "inputs.on", "op": "eq", "value": 1},
    {"path": "inputs.nothing", "op": "eq", "value": None},
    {"path": "inputs.nothing", "op": "exists"},
    {"path": "inputs.missing", "op": "exists", "value": False},
    {
        "any": [
            {"path": "inputs.env", "op": "eq", "value": "dev"},
            {"all": [{"path": "inputs.status", "op": "gt", "value": 499}]},
        ]
    },
]


def test_choice_state_agrees_with_the_python_semantics(runtime: Runtime) -> None:
    # given conditions a Choice state can express, and what the Python evaluator says
    context = {"inputs": INPUTS, "steps": {}, "alert": None}
    expected = []
    executions = []
    for case in CASES:
        predicate = PREDICATE.validate_python(case)
        assert not needs_lambda(predicate)
        expected.append(evaluate(predicate, context))
        definition = {
            "name": "parity",
            "steps": [
                {"id": "decide", "type": "condition", "if": case, "then": "yes", "else": "no"},
                {"id": "yes", "type": "succeed"},
                {"id": "no", "type": "fail", "error": "No"},
            ],
        }
        # when the engine runs the compiled Choice
        executions.append(runtime.start(definition, INPUTS))

    # then every branch taken matches
    taken = [runtime.wait_until_done(e)["status"] == "SUCCEEDED" for e in executions]
    assert taken == expected
    assert True in expected and False in expected
