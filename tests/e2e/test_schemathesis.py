"""Property-based API testing of the running local server, driven by our own OpenAPI.

Runs the schemathesis CLI (its pytest plugin does not support this pytest) over every
documented operation, as an admin, with the checks the foundation promises: no 5xx, every
response matches the documented schema, and schema-violating requests are rejected.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_no_server_errors_and_responses_match_the_schema(dev):
    token = dev.token("fuzz", "admin")
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{dev.url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "not_a_server_error,response_schema_conformance,negative_data_rejection",
            "--max-examples",
            "20",
            "--seed",
            "1",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    summary = result.stdout[-20000:]
    assert result.returncode == 0, summary
    assert " passed" in summary and "generated" in summary, summary
