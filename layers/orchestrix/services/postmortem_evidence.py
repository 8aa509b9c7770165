"""The evidence a post-mortem is drafted from: the incident as it recorded itself.

Times, MTTA and MTTR come from the incident row exactly as the incident and its reports
show them (`incident_reports.summarise`); the timeline is the incident's own, in its order.
Lists are capped so the largest incident still renders within the template bounds
(`domain/postmortem_template.MAX_DOCUMENT`): what is left out is counted, never hidden.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from orchestrix.domain.incidents import Incident, TimelineEntry
from orchestrix.domain.postmortems import Evidence
from orchestrix.services.incident_reports import summarise

MAX_TIMELINE: Final = 1000
MAX_TIMELINE_TEXT: Final = 1024 * 1024  # characters of timeline messages, all entries together
MAX_ALERTS: Final = 200
MAX_EXECUTIONS: Final = 100
MAX_FIELD: Final = 500  # an alert summary or execution error


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _clip(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= MAX_FIELD else text[: MAX_FIELD - 1] + "…"


def collect(
    incident: Incident,
    timeline: list[TimelineEntry],
    alerts: list[dict[str, Any]],
    executions: list[dict[str, Any]],
) -> Evidence:
    stats = summarise([incident])
    starts = [a["starts_at"] for a in alerts if a.get("starts_at")]
    # The impact began when the first symptom did: an alert can start before its incident.
    start = min([incident.triggered_at, *starts])
    end = incident.resolved_at
    kept, truncated = _timeline(timeline)
    if len(alerts) > MAX_ALERTS:
        truncated["alerts"] = len(alerts) - MAX_ALERTS
    if len(executions) > MAX_EXECUTIONS:
        truncated["executions"] = len(executions) - MAX_EXECUTIONS
    return Evidence(
        incident={
            **incident.snapshot(),
            "description": incident.description,
            "acknowledged_by": incident.acknowledged_by,
            "resolved_by": incident.resolved_by,
            "created_by": incident.created_by,
            "labels": dict(incident.labels),
            "sla_breaches": list(incident.sla_breaches),
        },
        timeline=kept,
        alerts=[
            {
                "id": a["id"],
                "name": a["name"],
                "severity": a["severity"],
                "summary": _clip(a.get("summary")),
                "starts_at": _iso(a.get("starts_at")),
                "resolved_at": _iso(a.get("resolved_at")),
            }
            for a in alerts[:MAX_ALERTS]
        ],
        executions=[
            {
                "id": x["id"],
                "workflow_id": x["workflow_id"],
                "status": x["status"],
                "started_at": _iso(x["started_at"]),
                "finished_at": _iso(x.get("finished_at")),
                "error": _clip(x.get("error")) or None,
            }
            for x in executions[:MAX_EXECUTIONS]
        ],
        impact={
            "start": start.isoformat(),
            "end": _iso(end),
            "duration_seconds": (end - start).total_seconds() if end else None,
        },
        metrics={"mtta_seconds": stats.mtta_seconds, "mttr_seconds": stats.mttr_seconds},
        truncated=truncated,
    )


def _timeline(entries: list[TimelineEntry]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    kept: list[dict[str, Any]] = []
    text = 0
    for entry in entries[:MAX_TIMELINE]:
        text += len(entry.message)
        if text > MAX_TIMELINE_TEXT:
            break
        kept.append(
            {
                "id": entry.id,
                "at": entry.at.isoformat(),
                "kind": entry.kind.value,
                "actor": entry.actor,
                "message": entry.message,
                "data": entry.data,
            }
        )
    left_out = len(entries) - len(kept)
    return kept, ({"timeline": left_out} if left_out else {})
