"""The public status page as server-rendered HTML: semantic, accessible, no JavaScript.

Headings and landmarks structure the page; every status is written out, not only coloured;
each 90-day uptime bar is one image-role list with a text summary for screen readers and a
title per day for pointers. Everything interpolated is escaped; the only tenant-chosen CSS
value, the accent colour, is validated as #rrggbb when saved.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from orchestrix.domain.status_pages import (
    INDICATOR,
    LABEL,
    Component,
    ComponentStatus,
    PageIncident,
    UptimeDay,
    worst,
)
from orchestrix.domain.uptime import overall
from orchestrix.services.status_public import PublicPage

_CSS = """
:root{--accent:%(accent)s;--ok:#1a7f37;--minor:#9a6700;--major:#bc4c00;--critical:#cf222e;
--maint:#0969da;--none:#d0d7de;--fg:#1f2328;--muted:#57606a}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:var(--fg)}
header,main,footer{max-width:52rem;margin:0 auto;padding:1rem}
header{border-bottom:4px solid var(--accent)}header img{max-height:3rem}
h1{margin:.25rem 0}h2{font-size:1.25rem}.muted{color:var(--muted)}
.banner{padding:1rem;border-radius:.5rem;color:#fff;font-weight:600;margin:0}
.s-operational,.i-none{background:var(--ok)}.s-degraded_performance,.i-minor{background:var(--minor)}
.s-partial_outage,.i-major{background:var(--major)}.s-major_outage,.i-critical{background:var(--critical)}
.s-under_maintenance,.i-maintenance{background:var(--maint)}.s-nodata{background:var(--none)}
ul.components{list-style:none;padding:0}ul.components>li{border:1px solid var(--none);
border-radius:.5rem;padding:.75rem;margin:.5rem 0}
.row{display:flex;justify-content:space-between;align-items:center;gap:1rem;flex-wrap:wrap}
h3,h4{margin:.25rem 0;font-size:1.1rem}
.tag{padding:0 .5rem;border-radius:1rem;color:#fff;font-size:.875rem}
ol.uptime{display:flex;gap:1px;list-style:none;padding:0;margin:.5rem 0 0;height:2rem}
ol.uptime li{flex:1}ul.choices{list-style:none;padding:0}
fieldset{border:1px solid var(--none);border-radius:.5rem}
article{border-left:4px solid var(--accent);padding:0 1rem;margin:1rem 0}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
"""


def _time(value: datetime) -> str:
    return f'<time datetime="{value.isoformat()}">{value.strftime("%Y-%m-%d %H:%M UTC")}</time>'


def _tag(status: ComponentStatus) -> str:
    return f'<span class="tag s-{status.value}">{escape(LABEL[status])}</span>'


def _bar(name: str, days: list[UptimeDay]) -> str:
    total = overall(days)
    bad = sum(1 for d in days if d.status not in (None, ComponentStatus.OPERATIONAL))
    summary = (
        f"{name}: {total:.2f}% uptime over the last {len(days)} days, {bad} with incidents"
        if total is not None
        else f"{name}: no data yet"
    )
    cells = "".join(
        f'<li class="s-{d.status.value if d.status else "nodata"}" title="{d.date}: '
        + (
            f"{d.uptime:.2f}% uptime, {escape(LABEL[d.status])}"
            if d.status and d.uptime is not None
            else "no data"
        )
        + '"></li>'
        for d in days
    )
    return (
        f'<ol class="uptime" role="img" aria-label="{escape(summary)}">{cells}</ol>'
        f'<p class="muted">{escape(summary)}</p>'
    )


def _component(component: Component, days: list[UptimeDay], heading: str = "h3") -> str:
    spec = component.spec
    description = f'<p class="muted">{escape(spec.description)}</p>' if spec.description else ""
    return (
        f'<li id="c-{escape(component.id)}"><div class="row"><{heading}>{escape(spec.name)}'
        f"</{heading}>"
        f"{_tag(spec.status)}</div>{description}{_bar(spec.name, days)}</li>"
    )


def _components(view: PublicPage) -> str:
    parts = []
    for group in view.groups:
        members = [(c, d) for c, d in view.components if c.spec.group_id == group.id]
        if not members:
            continue
        status = worst([c.status for c, _ in members])
        inner = "".join(_component(c, d, "h4") for c, d in members)
        parts.append(
            f'<li><div class="row"><h3>{escape(group.spec.name)}</h3>{_tag(status)}</div>'
            f'<ul class="components">{inner}</ul></li>'
        )
    grouped = {g.id for g in view.groups}
    parts += [_component(c, d) for c, d in view.components if c.spec.group_id not in grouped]
    return f'<ul class="components">{"".join(parts)}</ul>'


def _event(event: PageIncident, heading: str = "h3") -> str:
    updates = "".join(
        f"<li><strong>{escape(u.status.value.replace('_', ' ').capitalize())}</strong> — "
        f'{escape(u.body)} <span class="muted">{_time(u.created_at)}</span></li>'
        for u in event.updates
    )
    window = ""
    if event.scheduled_for and event.scheduled_until:
        window = (
            f'<p class="muted">Scheduled {_time(event.scheduled_for)} to '
            f"{_time(event.scheduled_until)}</p>"
        )
    return (
        f'<article id="{escape(event.id)}" aria-labelledby="t-{escape(event.id)}">'
        f'<{heading} id="t-{escape(event.id)}">{escape(event.name)} '
        f'<span class="tag i-{escape(event.impact)}">'
        f"{escape(event.status.value.replace('_', ' '))}</span></{heading}>"
        f"{window}<ul>{updates}</ul></article>"
    )


def _section(ident: str, title: str, body: str) -> str:
    return f'<section aria-labelledby="{ident}"><h2 id="{ident}">{title}</h2>{body}</section>'


def _subscribe_form(view: PublicPage, here: str) -> str:
    boxes = "".join(
        f'<li><label><input type="checkbox" name="component_ids" value="{escape(c.id)}"> '
        f"{escape(c.spec.name)}</label></li>"
        for c, _ in view.components
    )
    return (
        f'<form method="post" action="{escape(here)}/subscribers">'
        '<input type="hidden" name="channel" value="email">'
        '<p><label for="subscribe-address">Email address</label> '
        '<input id="subscribe-address" name="address" type="email" required '
        'autocomplete="email" maxlength="320"></p>'
        "<fieldset><legend>Only these components (none ticked: all of them)</legend>"
        f'<ul class="choices">{boxes}</ul></fieldset>'
        '<p><button type="submit">Subscribe</button> '
        '<span class="muted">You will get a link to confirm first.</span></p></form>'
    )


def render(view: PublicPage, here: str) -> str:
    """`here`: the page's own link relative to itself (its slug), so that every link and the
    form work under any prefix the page is served at (an API stage, a CDN path)."""
    page = view.page
    spec = page.spec
    brand = spec.branding
    _, description = INDICATOR[view.status]
    logo = (
        f'<img src="{escape(str(brand.logo_url))}" alt="{escape(spec.title)} logo">'
        if brand.logo_url
        else ""
    )
    sections = [
        f'<section aria-label="Overall status"><p class="banner s-{view.status.value}" '
        f'role="status">{escape(description)}</p></section>'
    ]
    if view.open_incidents:
        sections.append(
            _section("active", "Active incidents", "".join(_event(e) for e in view.open_incidents))
        )
    if view.maintenances:
        body = "".join(_event(e) for e in view.maintenances)
        sections.append(_section("maintenance", "Scheduled maintenance", body))
    sections.append(_section("components", "Components", _components(view)))
    past = "".join(_event(e) for e in view.recent) or "<p>No incidents in the last 14 days.</p>"
    sections.append(_section("past", "Past incidents", past))
    sections.append(_section("subscribe", "Get updates", _subscribe_form(view, here)))
    support = (
        f' · <a href="{escape(str(brand.support_url))}">Support</a>' if brand.support_url else ""
    )
    feeds = (
        f'<a href="{escape(here)}/history.rss">RSS</a> · '
        f'<a href="{escape(here)}/history.atom">Atom</a> · '
        f'<a href="{escape(here)}.json">JSON</a>{support}'
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(spec.title)} status</title>"
        f'<link rel="alternate" type="application/rss+xml" href="{escape(here)}/history.rss">'
        f'<link rel="alternate" type="application/atom+xml" href="{escape(here)}/history.atom">'
        f"<style>{_CSS % {'accent': brand.accent_color}}</style></head><body>"
        f"<header>{logo}<h1>{escape(spec.title)}</h1>"
        + (f'<p class="muted">{escape(spec.description)}</p>' if spec.description else "")
        + f"</header><main>{''.join(sections)}</main>"
        f'<footer class="muted"><p>Updated {_time(view.updated_at)} · {feeds}</p></footer>'
        "</body></html>"
    )


def message(title: str, text: str, page_url: str) -> str:
    """The small pages the confirmation and unsubscribe links open."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head><body><main><h1>{escape(title)}</h1>"
        f'<p>{escape(text)}</p><p><a href="{escape(page_url)}">Back to the status page</a></p>'
        "</main></body></html>"
    )


def action(title: str, text: str, button: str, target: str, page_url: str) -> str:
    """A page whose one button posts to `target`: what a confirmation or unsubscribe link
    opens. The link itself changes nothing, so mail scanners that fetch every link in a
    message neither confirm a subscription nobody wanted nor end one."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head><body><main><h1>{escape(title)}</h1>"
        f'<p>{escape(text)}</p><form method="post" action="{escape(target)}">'
        f'<button type="submit">{escape(button)}</button></form>'
        f'<p><a href="{escape(page_url)}">Back to the status page</a></p></main></body></html>'
    )
