"""Post-mortem markdown templates: the alert templates' language, checked against our data.

Templates are written in the Go text/template subset alert annotations use (`{{ .Title }}`,
`{{ range .Timeline }}…{{ end }}`, `humanizeDuration`, …), with the same bounds on output
size and steps. On save a template must parse, name only fields the post-mortem data has
(so a typo is a 422 then, not a blank in every export later) and render a sample.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Final

from orchestrix.domain.alerting.gotemplate import Action, Block, Template, TemplateError
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

TEMPLATE_NAME: Final = "postmortem"
# A document is larger than an alert annotation: the engine's bounds, scaled to the largest
# post-mortem the evidence caps allow (services/postmortem_evidence.py).
MAX_DOCUMENT: Final = 2 * 1024 * 1024
MAX_RENDER_STEPS: Final = 100_000
MAX_TEMPLATE: Final = 64 * 1024

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
    sample = context(_sample(), {"mem_sample": "Ada"}, date(2026, 1, 2))
    shape = _shape(sample)
    try:
        template = Template(TEMPLATE_NAME, text, FUNCS)
        _Checker().nodes(template.tree, shape, {"$": shape})
    except RecursionError:  # parser and checker recurse per nested block or parenthesis
        raise TemplateError("template: postmortem: nested too deeply") from None
    render(text, sample)


def _sample() -> Postmortem:
    """One of everything, so the shape check sees every list's elements."""
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


# --- the shape check --------------------------------------------------------------------
# A shape is a dict of field shapes (an object), a one-element list holding the shape of
# every element, SCALAR, or ANY (not known statically: a function's result, a free map).
SCALAR: Final = "scalar"
ANY: Final = "any"
# Maps whose keys are data, not fields: any key may be asked for.
_FREE_MAPS: Final = frozenset({"Roles"})


def _shape(value: Any, name: str = "") -> Any:
    if isinstance(value, dict):
        if name in _FREE_MAPS:
            return ANY
        return {k: _shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0]) if value else ANY]
    return SCALAR


class _Checker:
    def nodes(self, nodes: list[Any], dot: Any, variables: dict[str, Any]) -> None:
        for node in nodes:
            if isinstance(node, Action):
                shape = self.pipe(node.pipe, dot, variables)
                if node.decl:
                    variables[node.decl] = shape
            elif isinstance(node, Block):
                self.block(node, dot, variables)

    def block(self, node: Block, dot: Any, variables: dict[str, Any]) -> None:
        shape = self.pipe(node.pipe, dot, variables)
        inner = dot
        if node.kind == "range":
            if shape == SCALAR:
                raise TemplateError("range needs a list, e.g. {{ range .Timeline }}")
            inner = shape[0] if isinstance(shape, list) else ANY
            if len(node.decl) == 2:
                variables[node.decl[0]], variables[node.decl[1]] = SCALAR, inner
            elif node.decl:
                variables[node.decl[0]] = inner
        else:
            if node.decl:
                variables[node.decl[0]] = shape
            if node.kind == "with":
                inner = shape
        self.nodes(node.body, inner, variables)
        self.nodes(node.alt, dot, variables)

    def pipe(self, commands: list[Any], dot: Any, variables: dict[str, Any]) -> Any:
        shape: Any = ANY
        for operands in commands:
            head = operands[0]
            if head[0] == "func":
                for operand in operands[1:]:
                    self.operand(operand, dot, variables)
                shape = ANY
            else:
                shape = self.operand(head, dot, variables)
        return shape

    def operand(self, op: tuple[str, Any], dot: Any, variables: dict[str, Any]) -> Any:
        kind, val = op
        if kind == "pipe":
            return self.pipe(val, dot, variables)
        if kind == "var":
            name, *path = val.split(".")
            if name not in variables:
                raise TemplateError(f'undefined variable "{name}"')
            return _resolve(variables[name], path, val)
        if kind == "field":
            return _resolve(dot, [p for p in val.split(".") if p], val)
        return SCALAR  # a literal


def _resolve(shape: Any, path: list[str], text: str) -> Any:
    for part in path:
        if shape == ANY:
            return ANY
        if not isinstance(shape, dict):
            raise TemplateError(f"{text}: {part} is not a field here (the value has no fields)")
        if part not in shape:
            known = ", ".join(sorted(shape))
            raise TemplateError(f"{text}: unknown field {part}; the fields here are {known}")
        shape = shape[part]
    return shape
