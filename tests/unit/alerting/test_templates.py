"""Alert templates render like Prometheus' Go templates."""

from __future__ import annotations

import re

import pytest

from orchestrix.domain.alerting.templates import TemplateError, compile_template, expand

LABELS = {"instance": "web-1:9100", "job": "node"}


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("{{ $labels.instance }} down", 1.0, "web-1:9100 down"),
        ("{{ $value }}", 0.5, "0.5"),
        ("{{ $value }}", 1234567.0, "1.234567e+06"),
        ("{{ humanize $value }}", 1234.5678, "1.235k"),
        ("{{ humanize $value }}", 0.000123, "123u"),
        ("{{ $value | humanizePercentage }}", 0.256, "25.6%"),
        ("{{ humanize1024 $value }}", 2048.0, "2ki"),
        ("{{ humanizeDuration $value }}", 3725.0, "1h 2m 5s"),
        ('{{ printf "%.2f" $value }}', 3.14159, "3.14"),
        ("{{ if gt $value 80.0 }}high{{ else }}low{{ end }}", 90.0, "high"),
        ("{{ .Labels.job | toUpper }}", 1.0, "NODE"),
        ("{{ $labels.instance | stripPort }}", 1.0, "web-1"),
        ("{{ $labels.nope }}", 1.0, ""),
        (
            "{{- range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end -}}",
            1.0,
            "instance=web-1:9100;job=node;",
        ),
        ('{{ reReplaceAll "(.*):.*" "$1" $labels.instance }}', 1.0, "web-1"),
    ],
)
def test_templates_render_like_prometheus(text: str, value: float, expected: str) -> None:
    assert expand("__alert_X", text, LABELS, value) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ humanise $value }}", 'function "humanise" not defined'),
        ("{{ $value ", "unclosed action"),
        ("{{ if true }}x", "unexpected EOF"),
        ("{{ end }}", "unexpected {{end}}"),
        ("{{ $label.x }}", 'undefined variable "$label"'),
    ],
)
def test_broken_templates_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(message)):
        compile_template("__alert_X", text)


def test_runaway_templates_are_stopped() -> None:
    rendered = expand("__alert_X", "{{ range 100000 }}xxxxxxxxxx{{ end }}", {}, 1.0)
    assert rendered.startswith("<error expanding template:")
