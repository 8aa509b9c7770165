from __future__ import annotations

from typing import Any

import pytest

from orchestrix.domain.workflow.errors import TemplateError
from orchestrix.domain.workflow.templates import parse, render, render_value

CONTEXT: dict[str, Any] = {
    "inputs": {"service": "api", "replicas": 3},
    "steps": {"check": {"status": 503, "body": {"items": [{"name": "db"}]}}},
    "alert": {"labels": {"service": "checkout"}, "value": 0.93},
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("http://{{ inputs.service }}/health", "http://api/health"),
        ("{{inputs.service}}:{{ steps.check.status }}", "api:503"),
        ("first item {{ steps.check.body.items[0].name }}", "first item db"),
        ("{{ alert.labels.service }} at {{ alert.value }}", "checkout at 0.93"),
        ("plain text } and }} stay", "plain text } and }} stay"),
        ("missing '{{ steps.other.status }}'", "missing ''"),
        ("{{ steps.check.body }}", '{"items":[{"name":"db"}]}'),
    ],
)
def test_render_substitutes_paths(template: str, expected: str) -> None:
    assert render(template, CONTEXT) == expected


def test_strict_render_refuses_a_missing_value() -> None:
    with pytest.raises(TemplateError, match=r"no value for \{\{ inputs.host \}\}"):
        render("http://{{ inputs.host }}/", CONTEXT, strict=True)


def test_whole_expression_keeps_the_value_type_inside_json() -> None:
    params = {"desired": "{{ inputs.replicas }}", "name": "svc-{{ inputs.service }}", "n": [1]}

    assert render_value(params, CONTEXT) == {"desired": 3, "name": "svc-api", "n": [1]}


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ inputs.x", "unclosed"),
        ("{{ }}", "empty expression"),
        ("{{ env.HOME }}", "unknown root 'env'"),
        ("{{ inputs.x | upper }}", "invalid path"),
        ("{{ __import__('os') }}", "invalid path"),
        ("{{ inputs.{{ x }} }}", "nested"),
    ],
)
def test_malformed_or_unsafe_templates_are_refused(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parse(template)


def test_single_expression_exposes_its_jsonpath() -> None:
    single = parse("{{ steps.check.body.items[0].name }}").single

    assert single is not None
    assert single.jsonpath == "$.steps.check.body.items[0].name"
    assert parse("x{{ inputs.a }}").single is None
