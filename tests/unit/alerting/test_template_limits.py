"""Templates cannot crash evaluation or grow without bound: failures become template errors,
sizes are checked while values are produced, loops are counted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestrix.domain.alerting.evaluation import ResultSample, step
from orchestrix.domain.alerting.gotemplate import MAX_OUTPUT, MAX_STEPS
from orchestrix.domain.alerting.rules import AlertRule
from orchestrix.domain.alerting.templates import render


@pytest.mark.parametrize(
    "text",
    ["{{ toUpper 5 }}", "{{ title 5 }}", "{{ len 5 }}", "{{ stripPort 5 }}", '{{ match 5 "x" }}'],
)
def test_function_given_the_wrong_type_is_a_template_error(text: str) -> None:
    out, error = render("t", text, {}, 1.0)

    assert error is not None
    assert out == f"<error expanding template: {error}>"


def test_doubling_a_variable_without_printing_it_is_stopped() -> None:
    text = '{{ $x := "aaaa" }}{{ range 64 }}{{ $x = printf "%s%s" $x $x }}{{ end }}done'

    out, error = render("t", text, {}, 1.0)

    assert error is not None and f"printf result exceeds {MAX_OUTPUT} bytes" in error


def test_huge_printf_width_is_refused_like_go() -> None:
    out, error = render("t", '{{ printf "%999999999d" 1 }}', {}, 1.0)

    assert (out, error) == ("%!(BADWIDTH)1", None)


def test_replacement_that_multiplies_the_text_is_stopped_while_replacing() -> None:
    text = '{{ reReplaceAll "." "$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0" (printf "%60000s" "x") }}'

    _, error = render("t", text, {}, 1.0)

    assert error is not None and f"reReplaceAll result exceeds {MAX_OUTPUT} bytes" in error


def test_output_is_checked_while_rendering() -> None:
    _, error = render("t", '{{ range 9000 }}{{ printf "%100s" "" }}{{ end }}', {}, 1.0)

    assert error is not None and f"output exceeds {MAX_OUTPUT} bytes" in error


def test_loops_are_bounded() -> None:
    _, error = render("t", "{{ range 100000 }}{{ range 100000 }}x{{ end }}{{ end }}", {}, 1.0)

    assert error is not None and "too many steps" in error
    assert MAX_STEPS == 10_000


def test_a_failing_annotation_still_fires_and_is_reported() -> None:
    rule = AlertRule(
        id="rul_1",
        tenant_id="t",
        name="Hot",
        expr="temp > 20",
        annotations={"summary": "{{ toUpper 5 }}", "ok": "{{ $labels.room }}"},
    )
    result = step(rule, [ResultSample({"room": "lab"}, 30.0)], {}, datetime.now(UTC))

    (fired,) = result.fired
    assert fired.annotations["ok"] == "lab"
    assert fired.annotations["summary"].startswith("<error expanding template:")
    assert result.template_error is not None
    assert result.template_error.startswith("annotations.summary: ")
