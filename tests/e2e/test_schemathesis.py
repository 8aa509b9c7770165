"""Property-based API testing of the running local server, driven by our own OpenAPI.

Runs the schemathesis CLI (its pytest plugin does not support this pytest) over every
documented operation — the metrics and Prometheus routes included — with the checks the
foundation promises: no 5xx, every response matches the documented schema, and
schema-violating requests are rejected. Once as an admin (every operation), once with an
ingestion key over the routes only such a key may use (remote write, import, alert intake,
log ingest), and with a traces:write key over OTLP trace ingest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from orchestrix import wiring

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
CONFIG = Path(__file__).with_name("schemathesis.toml")
INGEST_ROUTES = (
    r"^/api/v1/(metrics/(write|import)|integrations/.*)$|^/api/v2/alerts$"
    r"|^/v1/logs$|^/loki/api/v1/push$|^/api/v1/logs/ingest$"
)


def _schemathesis(dev, authorization: str, *extra: str) -> str:
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file",
            str(CONFIG),
            "run",
            f"{dev.url}/api/v1/openapi.json",
            "--header",
            f"Authorization: {authorization}",
            "--checks",
            "not_a_server_error,response_schema_conformance,negative_data_rejection",
            "--max-examples",
            "20",
            "--seed",
            "1",
            "--no-color",
            # Hypothesis' judgement of its own generators (e.g. examples it finds too large
            # for a form body) says nothing about the API; the checks above do.
            "--suppress-health-check",
            "data_too_large,filter_too_much,too_slow",
            *extra,
        ],
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = result.stdout[-20000:]
    assert result.returncode == 0, summary
    assert " passed" in summary and "generated" in summary, summary
    return summary


def test_the_document_lists_every_route_schemathesis_is_given(dev):
    with urllib.request.urlopen(f"{dev.url}/api/v1/openapi.json", timeout=30) as reply:
        doc = json.load(reply)
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    hidden = {("GET", "/api/v1/openapi.json"), ("GET", "/api/v1/docs")}

    assert documented == {(r.method, r.path) for r in wiring.ROUTES} - hidden


def test_no_server_errors_and_responses_match_the_schema(dev):
    routes = len(wiring.ROUTES) - 2  # all but the document and its viewer

    summary = _schemathesis(dev, f"Bearer {dev.token('fuzz', 'admin')}")

    assert f"Selected: {routes}/{routes}" in summary, summary
    assert f"Tested: {routes}" in summary, summary


def test_ingest_routes_with_an_ingestion_key(dev):
    created = dev.cli(
        "api-key", "create", "--tenant", "fuzz", "--scope", "metrics:write",
        "--scope", "alerts:write", "--scope", "logs:write",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]

    summary = _schemathesis(dev, f"Bearer {key}", "--include-path-regex", INGEST_ROUTES)

    assert "Tested: 9" in summary, summary


def test_otlp_trace_ingest_with_an_ingestion_key(dev):
    created = dev.cli("api-key", "create", "--tenant", "fuzz", "--scope", "traces:write")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]

    summary = _schemathesis(dev, f"Bearer {key}", "--include-path-regex", r"^/v1/traces$")

    assert "Tested: 1" in summary, summary
