from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from orchestrix.domain.workflow.conditions import evaluate, needs_lambda
from orchestrix.domain.workflow.model import AllOf, AnyOf, Comparison, Predicate

PREDICATE: TypeAdapter[Comparison | AllOf | AnyOf] = TypeAdapter(Predicate)
CONTEXT: dict[str, Any] = {
    "inputs": {"limit": 100, "teams": ["sre", "db"], "flag": True, "env": "prod"},
    "steps": {"check": {"status": 503, "body": "service unavailable", "none": None}},
}


def holds(spec: dict[str, Any]) -> bool:
    return evaluate(PREDICATE.validate_python(spec), CONTEXT)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"path": "steps.check.status", "op": "eq", "value": 503}, True),
        ({"path": "steps.check.status", "op": "eq", "value": 503.0}, True),
        ({"path": "steps.check.status", "op": "eq", "value": "503"}, False),
        ({"path": "steps.check.status", "op": "ne", "value": 200}, True),
        ({"path": "steps.check.status", "op": "gte", "value": 500}, True),
        ({"path": "steps.check.status", "op": "lt", "value": 500}, False),
        ({"path": "inputs.env", "op": "gt", "value": "dev"}, True),
        ({"path": "inputs.env", "op": "gt", "value": 1}, False),
        ({"path": "inputs.flag", "op": "eq", "value": 1}, False),
        ({"path": "inputs.flag", "op": "eq", "value": True}, True),
        ({"path": "steps.check.none", "op": "eq", "value": None}, True),
        ({"path": "steps.check.body", "op": "contains", "value": "unavail"}, True),
        ({"path": "inputs.teams", "op": "contains", "value": "sre"}, True),
        ({"path": "inputs.teams", "op": "contains", "value": "web"}, False),
        ({"path": "steps.check.status", "op": "lt", "value": "{{ inputs.limit }}"}, False),
        ({"path": "steps.check.status", "op": "gt", "value": "{{ inputs.limit }}"}, True),
    ],
)
def test_comparisons_hold_only_between_values_of_the_same_kind(
    spec: dict[str, Any], expected: bool
) -> None:
    assert holds(spec) is expected


@pytest.mark.parametrize(
    ("op", "expected"),
    [("eq", False), ("ne", True), ("gt", False), ("contains", False)],
)
def test_absent_value_makes_comparisons_false_except_ne(op: str, expected: bool) -> None:
    assert holds({"path": "steps.skipped.status", "op": op, "value": 1}) is expected


def test_exists_checks_presence_and_its_negation() -> None:
    assert holds({"path": "steps.check.none", "op": "exists"}) is True
    assert holds({"path": "steps.skipped", "op": "exists"}) is False
    assert holds({"path": "steps.skipped", "op": "exists", "value": False}) is True


def test_all_and_any_combine_children() -> None:
    high = {"path": "steps.check.status", "op": "gte", "value": 500}
    prod = {"path": "inputs.env", "op": "eq", "value": "prod"}
    dev = {"path": "inputs.env", "op": "eq", "value": "dev"}

    assert holds({"all": [high, prod]}) is True
    assert holds({"all": [high, dev]}) is False
    assert holds({"any": [dev, {"all": [high, prod]}]}) is True


def test_only_inexpressible_conditions_need_a_lambda() -> None:
    def needs(spec: dict[str, Any]) -> bool:
        return needs_lambda(PREDICATE.validate_python(spec))

    assert needs({"path": "inputs.teams", "op": "contains", "value": "sre"})
    assert needs({"path": "inputs.limit", "op": "eq", "value": "{{ inputs.other }}"})
    assert needs({"path": "inputs.teams", "op": "eq", "value": ["sre"]})
    assert needs({"path": "inputs.teams[0]", "op": "eq", "value": "sre"})
    assert not needs({"any": [{"path": "inputs.env", "op": "eq", "value": "prod"}]})
