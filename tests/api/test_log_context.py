"""Log lines of one invocation never carry keys (a tenant id) from an earlier one.

Powertools keeps appended keys on the logger, which lives as long as the container (and,
locally, is shared by every function of the process): each handler must start clean.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from orchestrix.local.functions import FunctionHost
from orchestrix.observability import logger
from tests.api.conftest import Client, in_process_aws


@pytest.fixture
def log_lines(client: Client) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)  # the std logger behind Powertools' Logger
    try:
        with in_process_aws():  # the remediation function builds AWS clients
            yield stream
    finally:
        logger._logger.removeHandler(handler)


def test_a_later_invocation_does_not_log_an_earlier_tenant(log_lines):
    host = FunctionHost()
    earlier = {"action": "no-such-action", "tenant_id": "tenant-earlier", "remediation_id": "r1"}
    with pytest.raises(ValueError, match="unknown remediation action"):
        host.invoke("remediation", earlier)  # appends tenant_id to the logger, then fails
    before = log_lines.tell()

    with pytest.raises(Exception, match="Unauthorized"):
        host.invoke("authorizer", {"type": "TOKEN", "authorizationToken": "Bearer orx_bogus"})
    with pytest.raises(ValueError, match="unknown remediation action"):
        host.invoke("remediation", {**earlier, "tenant_id": "tenant-later"})

    later = [json.loads(line) for line in log_lines.getvalue()[before:].splitlines()]
    rejected = [line for line in later if line["message"] == "rejected credentials"]
    assert rejected, "the authorizer logged nothing to check"
    assert all(line.get("tenant_id") != "tenant-earlier" for line in later), later
