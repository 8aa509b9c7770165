"""The OpenTelemetry Python SDK's OTLP/HTTP log exporter against a running `orchestrix dev`:
what the exporter sends comes back from the log search and the Loki query API."""

from __future__ import annotations

import logging
import uuid
from urllib.parse import urlencode

import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from tests.e2e.conftest import DevServer

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _key(dev: DevServer, tenant: str) -> str:
    created = dev.cli("api-key", "create", "--tenant", tenant, "--scope", "logs:write")
    assert created.returncode == 0, created.stderr
    return created.stdout.strip().splitlines()[-1]


def test_sdk_exporter_logs_come_back_from_the_query_apis(wall_clock_dev: DevServer) -> None:
    dev = wall_clock_dev
    tenant = f"otel-{uuid.uuid4().hex[:8]}"
    service = f"checkout-{uuid.uuid4().hex[:6]}"
    exporter = OTLPLogExporter(
        endpoint=f"{dev.url}/v1/logs",
        headers={"Authorization": f"Bearer {_key(dev, tenant)}"},
        compression=Compression.Gzip,
    )
    provider = LoggerProvider(resource=Resource.create({"service.name": service}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    log = logging.getLogger(f"e2e.{service}")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(LoggingHandler(logger_provider=provider))

    log.info("order %s accepted", 17)
    log.error("payment for order %s failed", 17, extra={"order_id": 17})
    provider.shutdown()

    viewer = dev.token(tenant, "viewer")
    selector = f'{{service_name="{service}"}}'
    status, _, page = dev.request(
        "GET", "/api/v1/logs/query?" + urlencode({"query": selector, "direction": "forward"}),
        viewer,
    )  # fmt: skip
    assert status == 200, page
    assert [item["line"] for item in page["items"]] == [
        "order 17 accepted",
        "payment for order 17 failed",
    ]
    failed = page["items"][1]
    assert failed["labels"] == {"service_name": service}
    assert failed["metadata"]["severity_text"] == "ERROR"
    assert failed["metadata"]["attributes"]["order_id"] == 17

    status, _, loki = dev.request(
        "GET",
        "/loki/api/v1/query_range?" + urlencode({"query": selector + ' |= "failed"'}),
        viewer,
    )
    assert status == 200, loki
    [stream] = loki["data"]["result"]
    assert [line for _, line in stream["values"]] == ["payment for order 17 failed"]

    # another tenant sees none of it
    status, _, other = dev.request(
        "GET", "/api/v1/logs/query?" + urlencode({"query": selector}), dev.token("other", "viewer")
    )
    assert status == 200 and other["items"] == []
