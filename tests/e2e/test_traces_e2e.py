"""Traces against a real `orchestrix dev`: the OpenTelemetry SDK's own OTLP/HTTP exporter
sends spans, they come back from the trace and Tempo APIs, and an ordinary alert rule on the
RED metrics derived from them fires."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode

from tests.e2e.conftest import DevServer
from tests.e2e.test_alerting_e2e import _alerts

ERROR_RATIO = (
    'sum(rate(traces_spanmetrics_calls_total{status_code="STATUS_CODE_ERROR"}[5m]))'
    " / sum(rate(traces_spanmetrics_calls_total[5m]))"
)


class Recording(SpanExporter):
    """The SDK's exporter, with what each export returned kept for the test to check."""

    def __init__(self, inner: OTLPSpanExporter) -> None:
        self.inner = inner
        self.results: list[SpanExportResult] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self.inner.export(spans)
        self.results.append(result)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()


def _send_spans(dev: DevServer, key: str, service: str) -> tuple[int, Recording]:
    exporter = Recording(
        OTLPSpanExporter(
            endpoint=f"{dev.url}/v1/traces",
            headers={"Authorization": f"Bearer {key}"},
            compression=Compression.Gzip,
        )
    )
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("e2e")
    with tracer.start_as_current_span("GET /cart", kind=SpanKind.SERVER) as root:
        trace_id = root.get_span_context().trace_id
        with tracer.start_as_current_span("SELECT cart", kind=SpanKind.CLIENT) as query:
            query.set_attribute("db.system", "postgresql")
    for _ in range(3):
        with tracer.start_as_current_span("POST /pay", kind=SpanKind.SERVER) as pay:
            pay.set_status(Status(StatusCode.ERROR, "card declined"))
    assert provider.force_flush()
    provider.shutdown()
    return trace_id, exporter


def test_sdk_spans_come_back_and_a_trace_error_rate_rule_fires(
    wall_clock_dev: DevServer,
) -> None:
    dev = wall_clock_dev
    tenant = f"e2e-traces-{uuid.uuid4().hex[:8]}"
    admin = dev.token(tenant, "admin")
    created = dev.cli("api-key", "create", "--tenant", tenant, "--scope", "traces:write")
    assert created.returncode == 0, created.stderr
    key = created.stdout.split()[0]

    # Given spans exported by the OpenTelemetry SDK: 2 fine, 3 failed (60 % errors)
    trace_id, exporter = _send_spans(dev, key, "checkout")
    assert exporter.results and set(exporter.results) == {SpanExportResult.SUCCESS}

    # Then the trace comes back from our API and from the Tempo API, to its tenant only
    hex_id = f"{trace_id:032x}"
    status, _, trace = dev.request("GET", f"/api/v1/traces/{hex_id}", dev.token(tenant, "viewer"))
    assert status == 200, trace
    assert [(s["name"], s["depth"], s["kind"]) for s in trace["spans"]] == [
        ("GET /cart", 0, "SPAN_KIND_SERVER"),
        ("SELECT cart", 1, "SPAN_KIND_CLIENT"),
    ]
    assert trace["spans"][1]["attributes"] == [
        {"key": "db.system", "value": {"stringValue": "postgresql"}}
    ]
    status, _, tempo = dev.request("GET", f"/tempo/api/traces/{hex_id}", admin)
    assert status == 200
    assert tempo["batches"][0]["scopeSpans"][0]["scope"]["name"] == "e2e"
    assert dev.request("GET", f"/api/v1/traces/{hex_id}", dev.token("someone-else"))[0] == 404
    status, _, found = dev.request("GET", "/api/v1/traces?service=checkout&status=error", admin)
    assert status == 200
    assert len(found["items"]) == 3

    # Given two rules on the span-derived error ratio: above 50 % (true) and 90 % (false)
    for name, threshold in (("CheckoutErrors", 0.5), ("CheckoutMeltdown", 0.9)):
        status, _, rule = dev.request(
            "POST",
            "/api/v1/alert-rules",
            admin,
            {"name": name, "expr": f"{ERROR_RATIO} > {threshold}", "severity": "critical"},
        )
        assert status == 201, rule

    # When the next evaluation runs
    ticked = dev.cli("tick", "--advance", "1m")
    assert ticked.returncode == 0, ticked.stdout + ticked.stderr

    # Then only the rule whose threshold the spans cross fires
    assert [a["labels"]["alertname"] for a in _alerts(dev, admin, "?status=firing")] == [
        "CheckoutErrors"
    ]
