"""Post-mortem markdown templates: the alert templates' language, checked against our data.

Templates are written in the Go text/template subset alert annotations use (`{{ .Title }}`,
`{{ range .Timeline }}…{{ end }}`, `humanizeDuration`, …) and rendered by the same engine,
bounded the same way (output size, steps), with a document's larger bounds. On save a
template must parse, name only fields the post-mortem data has (so a typo is a 422 then,
not a blank in every export later) and render a sample.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Final

from orchestrix.domain.alerting.gotemplate import Template, TemplateError
from orchestrix.domain.alerting.templates import FUNCS, humanize_duration
from orchestrix.domain.postmortems import (
    ActionItem,
    ActionItemStatus,
    Evidence,
    NarrativeSource,
    Postmortem,
    PostmortemStatus,
    display_time,
)
from orchestrix.domain.template_shape import check_fields

TEMPLATE_NAME: Final = "postmortem"
# A document is larger than an alert annotation: the engine's bounds, scaled to the largest
# post-mortem the evidence caps allow (services/postmortem_evidence.py).
MAX_DOCUMENT: Final = 2 * 1024 * 1024
MAX_RENDER_STEPS: Final = 100_000
MAX_TEMPLATE: Final = 64 * 1024
# Maps whose keys are data, not fields: a template may ask for any key.
_FREE_MAPS: Final = frozenset({"Roles"})

DEFAULT_TEMPLATE: Final = """\
# {{ .Title }}

- **Incident:** {{ .Incident.Title }} (`{{ .Incident.ID }}`)
- **Severity:** {{ .Incident.Severity }}
- **Service:** {{ or .Incident.Service "none" }}
- **Review status:** {{ .Status }}
- **Impact:** {{ .Impact.Start }} to {{ if .Impact.Ongoing }}now (ongoing){{ else }}\
{{ .Impact.End }} ({{ .Impact.Duration }}){{ end }}
- **Time to acknowledge:** {{ or .MTTA "not acknowledged" }}
- **Time to resolve:** {{ or .MTTR "not resolved" }}

## Summary

{{ .Narrative }}

## Timeline (UTC)

{{ range .Timeline }}- {{ .At }} **{{ .Kind }}** {{ .Message }} ({{ .Actor }})
{{ end }}{{ if .Truncated.Timeline }}- … {{ .Truncated.Timeline }} later entries left out
{{ end }}
## Alerts

{{ range .Alerts }}- {{ .Name }} ({{ .Severity }}) fired {{ .StartsAt }}\
{{ if .ResolvedAt }}, resolved {{ .ResolvedAt }}{{ end }}{{ if .Summary }}: {{ .Summary }}{{ end }}
{{ else }}No alert was linked to this incident.
{{ end }}
## Workflow executions

{{ range .Executions }}- {{ .Workflow }} `{{ .ID }}`: {{ .Status }}, started {{ .StartedAt }}\
{{ if .FinishedAt }}, finished {{ .FinishedAt }}{{ end }}{{ if .Error }} ({{ .Error }}){{ end }}
{{ else }}No workflow ran for this incident.
{{ end }}
## Contributing factors

{{ range .ContributingFactors }}- {{ . }}
{{ else }}None recorded yet.
{{ end }}
## Action items

{{ range .ActionItems }}- [{{ if eq .Status "done" }}x{{ else }} {{ end }}] {{ .Title }} \
(owner: {{ .OwnerName }}, due {{ .DueDate }}{{ if .Overdue }}, **overdue**{{ end }})
{{ else }}None recorded yet.
{{ end }}"""


def _duration(seconds: float | None) -> str:
    return "" if seconds is None else humanize_duration(seconds)


def context(postmortem: Postmortem, owner_names: Mapping[str, str], today: date) -> dict[str, Any]:
    """The data a template sees. Missing times and durations are "" (false in `if`/`or`)."""
    ev = postmortem.evidence
    inc, impact, metrics = ev.incident, ev.impact, ev.metrics
    return {
        "Title": postmortem.title,
        "Status": postmortem.status.value,
        "Narrative": postmortem.narrative,
        "NarrativeSource": postmortem.narrative_source.value,
        "DraftedAt": display_time(postmortem.drafted_at.isoformat()),
        "PublishedAt": display_time(
            postmortem.published_at.isoformat() if postmortem.published_at else None
        ),
        "Incident": {
            "ID": inc["id"],
            "Title": inc["title"],
            "Description": inc["description"],
            "Severity": inc["severity"],
            "Status": inc["status"],
            "Service": inc["service"] or "",
            "TriggeredAt": display_time(inc["triggered_at"]),
            "AcknowledgedAt": display_time(inc["acknowledged_at"]),
            "AcknowledgedBy": inc["acknowledged_by"] or "",
            "MitigatedAt": display_time(inc["mitigated_at"]),
            "ResolvedAt": display_time(inc["resolved_at"]),
            "ResolvedBy": inc["resolved_by"] or "",
            "Roles": dict(inc["roles"]),
        },
        "Impact": {
            "Start": display_time(impact["start"]),
            "End": display_time(impact["end"]),
            "Duration": _duration(impact["duration_seconds"]),
            "DurationSeconds": impact["duration_seconds"] or 0,
            "Ongoing": impact["end"] is None,
        },
        "MTTA": _duration(metrics["mtta_seconds"]),
        "MTTR": _duration(metrics["mttr_seconds"]),
        "MTTASeconds": metrics["mtta_seconds"] or 0,
        "MTTRSeconds": metrics["mttr_seconds"] or 0,
        "Timeline": [
            {
                "At": display_time(e["at"]),
                "Kind": e["kind"],
                "Actor": e["actor"],
                "Message": e["message"],
            }
            for e in ev.timeline
        ],
        "Notes": [
            {"At": display_time(e["at"]), "Actor": e["actor"], "Text": e["message"]}
            for e in ev.notes
        ],
        "Alerts": [
            {
                "ID": a["id"],
                "Name": a["name"],
                "Severity": a["severity"],
                "Summary": a["summary"],
                "StartsAt": display_time(a["starts_at"]),
                "ResolvedAt": display_time(a["resolved_at"]),
            }
            for a in ev.alerts
        ],
        "Executions": [
            {
                "ID": x["id"],
                "Workflow": x["workflow_id"],
                "Status": x["status"],
                "StartedAt": display_time(x["started_at"]),
                "FinishedAt": display_time(x["finished_at"]),
                "Error": x["error"] or "",
            }
            for x in ev.executions
        ],
        "Truncated": {
            "Timeline": ev.truncated.get("timeline", 0),
            "Alerts": ev.truncated.get("alerts", 0),
            "Executions": ev.truncated.get("executions", 0),
        },
        "ContributingFactors": list(postmortem.contributing_factors),
        "ActionItems": [
            {
                "ID": i.id,
                "Title": i.title,
                "Owner": i.owner_member_id,
                "OwnerName": owner_names.get(i.owner_member_id, i.owner_member_id),
                "DueDate": i.due_date.isoformat(),
                "Status": i.status.value,
                "Overdue": i.is_overdue(today),
            }
            for i in postmortem.action_items
        ],
    }


def render(text: str, data: dict[str, Any]) -> str:
    """The document; TemplateError when it breaks the engine's bounds (size, steps)."""
    template = Template(
        TEMPLATE_NAME, text, FUNCS, max_output=MAX_DOCUMENT, max_steps=MAX_RENDER_STEPS
    )
    return template.render(data, {})


def check(text: str) -> None:
    """Refuse, with a TemplateError naming the problem, a template that does not parse,
    names a field or variable post-mortem data lacks, or fails to render a sample."""
    data = context(sample(), {"mem_sample": "Ada"}, date(2026, 1, 2))
    try:
        check_fields(Template(TEMPLATE_NAME, text, FUNCS), data, free_maps=_FREE_MAPS)
    except RecursionError:  # parser and checker recurse per nested block or parenthesis
        raise TemplateError("template: postmortem: nested too deeply") from None
    render(text, data)


def sample() -> Postmortem:
    """A post-mortem with one of everything, so the shape check sees every list's elements
    (and tests have one to vary)."""
    at = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    iso = at.isoformat()
    entry = {"id": "tle_1", "at": iso, "kind": "note", "actor": "ada", "message": "m", "data": {}}
    incident = {
        **dict.fromkeys(("id", "title", "description", "severity", "status", "service"), "x"),
        **dict.fromkeys(("acknowledged_by", "resolved_by"), "ada"),
        **dict.fromkeys(("triggered_at", "acknowledged_at", "mitigated_at", "resolved_at"), iso),
        "roles": {"commander": "ada"},
    }
    alert = {"id": "alt_1", "name": "A", "severity": "critical", "summary": "s"}
    execution = {"id": "exe_1", "workflow_id": "wf", "status": "succeeded", "error": "e"}
    evidence = Evidence(
        incident=incident,
        timeline=[entry],
        alerts=[{**alert, "starts_at": iso, "resolved_at": iso}],
        executions=[{**execution, "started_at": iso, "finished_at": iso}],
        impact={"start": iso, "end": iso, "duration_seconds": 60.0},
        metrics={"mtta_seconds": 60.0, "mttr_seconds": 120.0},
    )
    item = ActionItem("act_1", "t", "mem_sample", at.date(), ActionItemStatus.OPEN, at)
    return Postmortem(
        id="pmt_1",
        tenant_id="t",
        incident_id="inc_1",
        status=PostmortemStatus.DRAFT,
        title="title",
        narrative="narrative",
        narrative_source=NarrativeSource.DETERMINISTIC,
        model_id=None,
        contributing_factors=("factor",),
        evidence=evidence,
        drafted_at=at,
        created_at=at,
        created_by="ada",
        updated_at=at,
        action_items=(item,),
    )
