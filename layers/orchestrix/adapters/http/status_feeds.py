"""A public status page as data: Atlassian Statuspage's summary JSON, RSS 2.0 and Atom.

The JSON keeps Statuspage's field names and shapes (`page`, `components` with groups as
`group: true` entries listing their children, `incidents` with `incident_updates`,
`scheduled_maintenances`, `status.indicator/description`) so its existing clients and
widgets can read an Orchestrix page unchanged.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from orchestrix.domain.status_pages import INDICATOR, PageIncident, StatusPage, worst
from orchestrix.services.status_public import PublicPage


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def summary(view: PublicPage, page_url: str) -> dict[str, Any]:
    page = view.page
    indicator, description = INDICATOR[view.status]
    names = {c.id: c.spec.name for c, _ in view.components}
    return {
        "page": {
            "id": page.id,
            "name": page.spec.title,
            "url": page_url,
            "time_zone": "Etc/UTC",
            "updated_at": _iso(view.updated_at),
        },
        "components": _components(view),
        "incidents": [_event(e, page_url, names) for e in view.open_incidents],
        "scheduled_maintenances": [_event(e, page_url, names) for e in view.maintenances],
        "status": {"indicator": indicator, "description": description},
    }


def _components(view: PublicPage) -> list[dict[str, Any]]:
    page_id = view.page.id
    out: list[dict[str, Any]] = []
    for component, _ in view.components:
        spec = component.spec
        out.append(
            {
                "id": component.id,
                "name": spec.name,
                "status": spec.status.value,
                "created_at": _iso(component.created_at),
                "updated_at": _iso(component.updated_at),
                "position": spec.position,
                "description": spec.description or None,
                "showcase": True,
                "start_date": component.created_at.date().isoformat(),
                "group_id": spec.group_id,
                "page_id": page_id,
                "group": False,
                "only_show_if_degraded": False,
            }
        )
    for group in view.groups:
        members = [c for c, _ in view.components if c.spec.group_id == group.id]
        out.append(
            {
                "id": group.id,
                "name": group.spec.name,
                "status": worst([c.status for c in members]).value,
                "created_at": _iso(group.created_at),
                "updated_at": _iso(group.updated_at),
                "position": group.spec.position,
                "description": None,
                "showcase": False,
                "start_date": None,
                "group_id": None,
                "page_id": page_id,
                "group": True,
                "only_show_if_degraded": False,
                "components": [c.id for c in members],
            }
        )
    return out


def _event(event: PageIncident, page_url: str, names: dict[str, str]) -> dict[str, Any]:
    first = event.updates[-1].created_at if event.updates else event.created_at
    monitoring = [u.created_at for u in event.updates if u.status.value == "monitoring"]
    body: dict[str, Any] = {
        "id": event.id,
        "name": event.name,
        "status": event.status.value,
        "created_at": _iso(event.created_at),
        "updated_at": _iso(event.updated_at),
        "monitoring_at": _iso(monitoring[-1]) if monitoring else None,
        "resolved_at": _iso(event.resolved_at),
        "impact": event.impact,
        "shortlink": f"{page_url}#{event.id}",
        "started_at": _iso(first),
        "page_id": event.page_id,
        "incident_updates": [
            {
                "id": u.id,
                "status": u.status.value,
                "body": u.body,
                "incident_id": event.id,
                "created_at": _iso(u.created_at),
                "updated_at": _iso(u.created_at),
                "display_at": _iso(u.created_at),
                "affected_components": [
                    {
                        "code": cid,
                        "name": names.get(cid, ""),
                        "old_status": None,
                        "new_status": status.value,
                    }
                    for cid, status in event.components.items()
                ],
            }
            for u in event.updates
        ],
        "components": [
            {"id": cid, "name": names.get(cid, ""), "status": status.value}
            for cid, status in event.components.items()
        ],
    }
    if event.kind == "maintenance":
        body["scheduled_for"] = _iso(event.scheduled_for)
        body["scheduled_until"] = _iso(event.scheduled_until)
    return body


def _entry_text(event: PageIncident) -> str:
    lines = [f"{u.status.value.replace('_', ' ').title()}: {u.body}" for u in event.updates]
    return "\n".join(lines) or event.name


def _title(event: PageIncident) -> str:
    kind = "Maintenance" if event.kind == "maintenance" else "Incident"
    return f"{kind}: {event.name} ({event.status.value.replace('_', ' ')})"


def rss(page: StatusPage, events: list[PageIncident], page_url: str, updated: datetime) -> str:
    items = "".join(
        "<item>"
        f"<title>{escape(_title(e))}</title>"
        f"<link>{escape(page_url)}#{escape(e.id)}</link>"
        f'<guid isPermaLink="false">{escape(e.id)}</guid>'
        f"<pubDate>{format_datetime(e.created_at)}</pubDate>"
        f"<description>{escape(_entry_text(e))}</description>"
        "</item>"
        for e in events
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        f"<title>{escape(page.spec.title)} status history</title>"
        f"<link>{escape(page_url)}</link>"
        f"<description>{escape(page.spec.description or page.spec.title)}</description>"
        f'<atom:link href={quoteattr(page_url + "/history.rss")} rel="self"'
        ' type="application/rss+xml"/>'
        f"<lastBuildDate>{format_datetime(updated)}</lastBuildDate>"
        f"{items}</channel></rss>"
    )


def atom(page: StatusPage, events: list[PageIncident], page_url: str, updated: datetime) -> str:
    entries = "".join(
        "<entry>"
        f"<id>urn:orchestrix:status:{escape(page.spec.slug)}:{escape(e.id)}</id>"
        f"<title>{escape(_title(e))}</title>"
        f"<updated>{e.updated_at.isoformat()}</updated>"
        f"<published>{e.created_at.isoformat()}</published>"
        f'<link rel="alternate" href={quoteattr(page_url + "#" + e.id)}/>'
        f'<content type="text">{escape(_entry_text(e))}</content>'
        "</entry>"
        for e in events
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>urn:orchestrix:status:{escape(page.spec.slug)}</id>"
        f"<title>{escape(page.spec.title)} status history</title>"
        f"<updated>{updated.isoformat()}</updated>"
        f"<author><name>{escape(page.spec.title)}</name></author>"
        f'<link rel="alternate" href={quoteattr(page_url)}/>'
        f'<link rel="self" href={quoteattr(page_url + "/history.atom")}/>'
        f"{entries}</feed>"
    )
