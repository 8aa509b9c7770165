"""Post-mortem templates: checked against the data's shape when saved, rendered within the
engine's bounds even for the largest evidence a post-mortem keeps."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from orchestrix.domain.alerting.gotemplate import TemplateError
from orchestrix.domain.incidents import TimelineKind
from orchestrix.domain.postmortem_template import (
    DEFAULT_TEMPLATE,
    MAX_DOCUMENT,
    check,
    context,
    render,
    sample,
)
from orchestrix.domain.postmortems import Evidence, Postmortem
from orchestrix.services.postmortem_evidence import (
    MAX_ALERTS,
    MAX_EXECUTIONS,
    MAX_FIELD,
    MAX_TIMELINE,
    collect,
)

from .evidence_examples import ALERTS, EXECUTIONS, entry, evidence, incident


def postmortem(ev: Evidence | None = None) -> Postmortem:
    return replace(sample(), evidence=ev or evidence(), action_items=())


def test_the_default_template_passes_its_own_check():
    check(DEFAULT_TEMPLATE)


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("{{ .Titel }}", "unknown field Titel"),
        (
            "{{ range .Timeline }}{{ .Foo }}{{ end }}",
            "the fields here are Actor, At, Kind, Message",
        ),
        ("{{ with .Impact }}{{ .Start }}{{ .Nope }}{{ end }}", "unknown field Nope"),
        ("{{ range $i, $a := .Alerts }}{{ $a.Bad }}{{ end }}", "$a.Bad: unknown field Bad"),
        ("{{ $.Incident.Title.Length }}", "Length is not a field here"),
        ("{{ range .Title }}{{ end }}", "range needs a list"),
        ("{{ $labels.x }}", 'undefined variable "$labels"'),
        ("{{ humanizeDuration .Title }}", "convert"),
        ("{{ if .Title }}", "unexpected EOF"),
        ("{{ " + "(" * 3000 + ".Title" + ")" * 3000 + " }}", "nested too deeply"),
        ("{{ if .Title }}" * 3000 + "{{ end }}" * 3000, "nested too deeply"),
    ],
)
def test_a_template_naming_what_the_data_lacks_is_refused(template: str, says: str) -> None:
    with pytest.raises(TemplateError) as refused:
        check(template)
    assert says in str(refused.value)


def test_free_maps_variables_and_functions_pass():
    check(
        "{{ $t := .Title }}{{ $t }} {{ .Incident.Roles.commander }} "
        "{{ humanizeDuration .MTTASeconds }} {{ range .ActionItems }}{{ .OwnerName }}{{ end }}"
    )


def test_missing_times_render_empty_so_if_and_or_read_naturally():
    open_one = incident(acknowledged_at=None, acknowledged_by=None, resolved_at=None)
    data = context(postmortem(collect(open_one, [], [], [])), {}, date(2026, 3, 2))

    text = render('{{ or .MTTA "never" }}|{{ if .Impact.Ongoing }}ongoing{{ end }}', data)

    assert text == "never|ongoing"


def test_the_largest_evidence_kept_renders_with_the_default_template():
    # given an incident far past every cap: long notes, a storm of alerts, many executions
    note = "x" * 10_000
    timeline = [entry(n, TimelineKind.NOTE, note, n / 60) for n in range(MAX_TIMELINE + 500)]
    alerts = [{**ALERTS[0], "id": f"a{n}", "summary": "s" * 5000} for n in range(MAX_ALERTS * 2)]
    runs = [
        {**EXECUTIONS[0], "id": f"x{n}", "error": "e" * 5000} for n in range(MAX_EXECUTIONS + 9)
    ]

    ev = collect(incident(), timeline, alerts, runs)
    text = render(DEFAULT_TEMPLATE, context(postmortem(ev), {}, date(2026, 3, 2)))

    # then what was kept renders within the bound, and what was left out is counted
    assert len(text) <= MAX_DOCUMENT
    assert ev.truncated == {
        "timeline": MAX_TIMELINE + 500 - len(ev.timeline),
        "alerts": MAX_ALERTS,
        "executions": 9,
    }
    assert len(ev.timeline) == 104  # 1 MiB of note text
    assert max(len(a["summary"]) for a in ev.alerts) == MAX_FIELD
    assert f"… {ev.truncated['timeline']} later entries left out" in text


def test_the_most_entries_kept_render_with_the_default_template_within_its_steps():
    timeline = [entry(n, TimelineKind.ALERT_LINKED, "linked", n / 60) for n in range(5000)]
    alerts = [{**ALERTS[0], "id": f"a{n}"} for n in range(MAX_ALERTS)]
    runs = [{**EXECUTIONS[0], "id": f"x{n}"} for n in range(MAX_EXECUTIONS)]

    ev = collect(incident(), timeline, alerts, runs)
    text = render(DEFAULT_TEMPLATE, context(postmortem(ev), {}, date(2026, 3, 2)))

    assert len(ev.timeline) == MAX_TIMELINE and ev.truncated == {"timeline": 5000 - MAX_TIMELINE}
    assert text.count(" **alert_linked** linked ") == MAX_TIMELINE


def test_a_template_that_outgrows_the_bound_fails_when_rendered_not_silently():
    ev = collect(incident(), [entry(1, TimelineKind.NOTE, "y" * 900_000, 1)], [], [])
    data = context(postmortem(ev), {}, date(2026, 3, 2) + timedelta(days=1))

    with pytest.raises(TemplateError, match="output exceeds"):
        render("{{ range .Timeline }}{{ .Message }}{{ .Message }}{{ .Message }}{{ end }}", data)
