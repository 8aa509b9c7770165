"""A workflow's `inputs` JSON Schema (draft 2020-12): checked at create time, applied to every
execution's input. The one module that touches `jsonschema` (untyped)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]

from orchestrix.domain.errors import FieldError, ValidationFailed
from orchestrix.domain.workflow import WorkflowInvalid


def check_inputs_schema(schema: Mapping[str, Any]) -> None:
    """WorkflowInvalid unless `schema` is a valid JSON Schema."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        loc: list[str | int] = ["inputs", *[str(p) for p in exc.path]]
        raise WorkflowInvalid(
            [{"loc": loc, "msg": f"not a valid JSON Schema: {exc.message}"}]
        ) from None


def check_inputs(schema: Mapping[str, Any], inputs: Mapping[str, Any]) -> None:
    """ValidationFailed naming every offending field of an execution's input."""
    errors = sorted(
        Draft202012Validator(schema).iter_errors(inputs), key=lambda e: list(e.absolute_path)
    )
    if errors:
        raise ValidationFailed(
            [
                FieldError(("body", "input", *[str(p) for p in e.absolute_path]), str(e.message))
                for e in errors
            ]
        )
