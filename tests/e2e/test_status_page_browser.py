"""The public status page in a real headless browser (Debian's chromium): the page the local
gateway serves is rendered, and the DOM the browser built is
checked for what a visitor (and a screen reader) gets. The page holds no script (and its
Content-Security-Policy would refuse one), so what is checked is what a browser without
JavaScript shows.

`ORCHESTRIX_SCREENSHOT=docs/status-page.png` also saves the screenshot the README shows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import DevServer
from tests.e2e.test_incident_acceptance_e2e import ok

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


class Dom(HTMLParser):
    """The serialized DOM as (tag, attributes, text) for each element, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []
        self._open: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}, []))
        if tag not in ("meta", "link", "img", "br"):
            self._open.append(len(self.elements) - 1)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for index in self._open:
            self.elements[index][2].append(data)

    def all(self, tag: str, **attrs: str) -> list[tuple[dict[str, str], str]]:
        return [
            (a, "".join(text).strip())
            for t, a, text in self.elements
            if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="chromium is not installed (.ci/run installs it)"
)
def test_public_status_page_renders_accessibly_in_a_headless_browser(
    dev: DevServer, tmp_path: Path
) -> None:
    # given a page with a group, components, an open incident and a planned maintenance
    token = dev.token(f"e2e-browser-{uuid.uuid4().hex[:8]}", "admin")
    slug = f"acme-{uuid.uuid4().hex[:8]}"
    page = {
        "slug": slug,
        "title": "Acme Cloud",
        "description": "Live status of Acme's services",
        "branding": {"accent_color": "#6f42c1"},
    }
    base = (
        "/api/v1/status-pages/"
        + ok(dev.request("POST", "/api/v1/status-pages", token, page), 201)["id"]
    )
    core = ok(
        dev.request("POST", f"{base}/component-groups", token, {"name": "Core platform"}), 201
    )
    ids: dict[str, Any] = {}
    for position, name in enumerate(("API", "Dashboard", "Webhooks")):
        body = {"name": name, "group_id": core["id"], "position": position}
        ids[name] = ok(dev.request("POST", f"{base}/components", token, body), 201)["id"]
    ids["Docs"] = ok(
        dev.request("POST", f"{base}/components", token, {"name": "Docs", "position": 9}), 201
    )["id"]
    incident = {
        "name": "Delayed webhook deliveries",
        "status": "identified",
        "body": "A queue backlog delays webhooks by up to 10 minutes; we are draining it.",
        "components": {ids["Webhooks"]: "partial_outage"},
    }
    ok(dev.request("POST", f"{base}/incidents", token, incident), 201)
    maintenance = {
        "name": "Database upgrade",
        "body": "The API may be read-only for a few minutes.",
        "scheduled_for": "2031-03-01T02:00:00Z",
        "scheduled_until": "2031-03-01T03:00:00Z",
        "component_ids": [ids["API"]],
    }
    ok(dev.request("POST", f"{base}/maintenances", token, maintenance), 201)

    # when a headless Chromium loads the public URL, without credentials
    url = f"{dev.url}/status/{slug}"
    dumped = chromium(tmp_path / "profile-dom", "--dump-dom", url)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = Dom()
    dom.feed(dumped.stdout)

    # then the DOM holds the page: one h1, the overall status as a live region, landmarks
    assert dom.all("html"), dumped.stderr[-1500:]
    assert dom.all("html")[0][0]["lang"] == "en"
    assert dom.all("script") == []  # nothing to run: it works without JavaScript
    assert [text for _, text in dom.all("h1")] == ["Acme Cloud"]
    [(_, banner)] = dom.all("p", role="status")
    assert banner == "Partial System Outage"
    assert len(dom.all("main")) == 1 and len(dom.all("header")) == 1 and len(dom.all("footer")) == 1
    headings = [text for _, text in dom.all("h2")]
    assert headings == [
        *("Active incidents", "Scheduled maintenance", "Components", "Past incidents"),
        "Get updates",
    ]
    # and every component with its status written out, inside its group
    groups = [text for _, text in dom.all("h3")]
    assert "Core platform" in groups and "Docs" in groups  # the group and the ungrouped one
    assert [text for _, text in dom.all("h4")] == ["API", "Dashboard", "Webhooks"]  # in it
    statuses = [text for attrs, text in dom.all("span") if "tag" in attrs.get("class", "")]
    assert "Partial outage" in statuses and "Operational" in statuses
    # and a 90-day uptime bar per component, described for screen readers
    bars = dom.all("ol", role="img")
    assert len(bars) == 4
    assert all("uptime over the last 90 days" in attrs["aria-label"] for attrs, _ in bars)
    assert len([a for a in dom.all("li") if "title" in a[0]]) == 4 * 90
    # and the incident's update and the maintenance window, with machine-readable times
    assert "draining it" in dumped.stdout and "Database upgrade" in dumped.stdout
    assert any(a.get("datetime", "").startswith("2031-03-01T02:00:00") for a, _ in dom.all("time"))

    # and a subscribe form that needs no script: a labelled email field and a submit button
    [(form, _)] = dom.all("form")
    assert (form["method"], form["action"]) == ("post", f"{slug}/subscribers")
    [(field, _)] = dom.all("input", type="email")
    assert dom.all("label", **{"for": field["id"]})
    assert [text for _, text in dom.all("button", type="submit")] == ["Subscribe"]

    # and it renders to a screenshot of the full page
    shot = Path(os.environ.get("ORCHESTRIX_SCREENSHOT") or tmp_path / "status-page.png")
    taken = chromium(
        tmp_path / "profile-shot",
        "--hide-scrollbars",
        "--window-size=1100,1500",
        f"--screenshot={shot.resolve()}",
        url,
    )
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # rendered content, not a blank page
