"""Every REST router, whichever function serves it: the API reference documents them all."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router


def routers() -> list[Router]:
    # Imported on demand: only the docs routes need every feature's models.
    from orchestrix.adapters.http.routes import api_keys, audit_logs, health

    found: list[Router] = [health.router, api_keys.router, audit_logs.router]
    # Feature routers are appended below, one import line each.
    from orchestrix.adapters.http.routes import workflows

    found.append(workflows.router)
    # people, on-call and notifications
    from orchestrix.adapters.http.routes import members, notifications, oncall, teams

    found += [members.router, teams.router, oncall.router, notifications.router]
    # incidents and escalation
    from orchestrix.adapters.http.routes import escalation_policies, incidents, reports

    found += [incidents.router, escalation_policies.router, reports.router]
    # post-mortems
    from orchestrix.adapters.http.routes import postmortems

    found.append(postmortems.router)
    # alerting
    from orchestrix.adapters.http.routes import (
        alert_rules,
        alertmanager_api,
        alerts,
        integrations,
        silences,
    )

    found += [alert_rules.router, alerts.router, silences.router, integrations.router]
    found.append(alertmanager_api.router)
    # traces
    from orchestrix.adapters.http.routes import tempo_api, traces, traces_ingest

    found += [traces_ingest.router, traces.router, tempo_api.router]
    # status pages
    from orchestrix.adapters.http.routes import status_events, status_pages, status_public

    found += [status_pages.router, status_events.router, status_public.router]
    # correlation and root cause
    from orchestrix.adapters.http.routes import changes, incident_analysis, services_graph

    found += [incident_analysis.router, services_graph.router, changes.router]
    # logs (ingest routes read raw bodies: documented by hand in logs_openapi.py)
    from orchestrix.adapters.http.routes import logs, loki_api

    found += [logs.router, loki_api.router]
    return found
