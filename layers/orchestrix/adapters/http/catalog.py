"""Every REST router, whichever function serves it: the API reference documents them all."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router


def routers() -> list[Router]:
    # Imported on demand: only the docs routes need every feature's models.
    from orchestrix.adapters.http.routes import api_keys, audit_logs, health

    found: list[Router] = [health.router, api_keys.router, audit_logs.router]
    # Feature routers are appended below, one import line each.
    return found
