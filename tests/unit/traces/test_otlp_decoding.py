"""OTLP trace export bodies: both encodings decode to the same spans, and every bad field is
named in OTLP's JSON terms."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from orchestrix.adapters.traces import OtlpLimits, decode_export
from orchestrix.adapters.traces.errors import (
    InvalidSpanError,
    MalformedOtlpError,
    OtlpTooLargeError,
    UnsupportedOtlpMediaError,
)
from orchestrix.adapters.traces.otlp_out import protobuf, resource_spans
from orchestrix.domain.traces import SpanKind, StatusCode

BOUNDS = (1, 10**19)
TRACE, SPAN, PARENT = bytes(range(1, 17)), bytes(range(1, 9)), bytes(range(9, 17))


def _request() -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "cart"
    ss = rs.scope_spans.add()
    ss.scope.name, ss.scope.version = "lib", "1.0"
    sp = ss.spans.add()
    sp.trace_id, sp.span_id, sp.parent_span_id = TRACE, SPAN, PARENT
    sp.name, sp.kind = "GET /cart", 3
    sp.start_time_unix_nano, sp.end_time_unix_nano = 1_000, 3_500
    sp.status.code, sp.status.message = 2, "boom"
    attrs: list[tuple[str, AnyValue]] = [
        ("i", AnyValue(int_value=-5)),
        ("d", AnyValue(double_value=float("nan"))),
        ("b", AnyValue(bool_value=True)),
        ("raw", AnyValue(bytes_value=b"\x00\xff")),
    ]
    for key, value in attrs:
        attr = sp.attributes.add()
        attr.key = key
        attr.value.CopyFrom(value)
    nested = sp.attributes.add()
    nested.key = "list"
    nested.value.array_value.values.add().string_value = "x"
    event = sp.events.add()
    event.name, event.time_unix_nano = "retry", 2_000
    return request


def _decode(body: bytes, content_type: str, **kw: Any):  # type: ignore[no-untyped-def]
    return decode_export(
        body, content_type=content_type, content_encoding=None, bounds=BOUNDS, **kw
    )


def test_protobuf_and_its_json_form_decode_to_the_same_spans() -> None:
    from_proto = _decode(_request().SerializeToString(), "application/x-protobuf")
    as_json = json.dumps({"resourceSpans": resource_spans(from_proto)}).encode()
    from_json = _decode(as_json, "application/json")

    [span] = from_proto
    assert from_json == from_proto
    assert (span.service, span.kind, span.status_code) == (
        "cart",
        SpanKind.CLIENT,
        StatusCode.ERROR,
    )
    assert (span.start_ns, span.duration_ns, span.parent_span_id) == (1_000, 2_500, PARENT)
    assert span.attributes[:4] == [
        {"key": "i", "value": {"intValue": "-5"}},
        {"key": "d", "value": {"doubleValue": "NaN"}},
        {"key": "b", "value": {"boolValue": True}},
        {"key": "raw", "value": {"bytesValue": "AP8="}},
    ]
    assert span.events == [{"timeUnixNano": "2000", "name": "retry", "attributes": []}]


def test_stored_spans_encode_back_to_the_protobuf_they_came_from() -> None:
    spans = _decode(_request().SerializeToString(), "application/x-protobuf")
    again = ExportTraceServiceRequest.FromString(protobuf(spans))
    assert _decode(again.SerializeToString(), "application/x-protobuf") == spans


def test_json_accepts_enum_names_and_numeric_times() -> None:
    body = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": TRACE.hex(),
                                "spanId": SPAN.hex(),
                                "name": "x",
                                "kind": "SPAN_KIND_SERVER",
                                "startTimeUnixNano": 10,
                                "endTimeUnixNano": "20",
                                "status": {"code": "STATUS_CODE_OK"},
                            }
                        ]
                    }
                ]
            }
        ]
    }
    [span] = _decode(json.dumps(body).encode(), "application/json")
    assert (span.kind, span.status_code, span.service) == (
        SpanKind.SERVER,
        StatusCode.OK,
        "unknown_service",
    )


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda sp: setattr(sp, "trace_id", b"\x01" * 5), "traceId"),
        (lambda sp: setattr(sp, "trace_id", b"\x00" * 16), "traceId"),
        (lambda sp: setattr(sp, "span_id", b""), "spanId"),
        (lambda sp: setattr(sp, "parent_span_id", b"\x01\x02"), "parentSpanId"),
        (lambda sp: setattr(sp, "name", "a\x00b"), "name"),
        (lambda sp: setattr(sp, "kind", 7), "kind"),
        (lambda sp: setattr(sp, "start_time_unix_nano", 0), "startTimeUnixNano"),
        (lambda sp: setattr(sp, "end_time_unix_nano", 999), "endTimeUnixNano"),
        (lambda sp: sp.events[0].__setattr__("name", "\x00"), "events[0].name"),
    ],
)
def test_a_bad_field_is_named_with_its_place_in_the_request(mutate: Any, where: str) -> None:
    request = _request()
    mutate(request.resource_spans[0].scope_spans[0].spans[0])
    with pytest.raises(InvalidSpanError) as raised:
        _decode(request.SerializeToString(), "application/x-protobuf")
    assert str(raised.value).startswith(f"resourceSpans[0].scopeSpans[0].spans[0].{where}:")


def test_a_start_outside_the_accepted_range_is_refused() -> None:
    with pytest.raises(InvalidSpanError, match="startTimeUnixNano: 1000 is outside"):
        decode_export(
            _request().SerializeToString(),
            content_type="application/x-protobuf",
            content_encoding=None,
            bounds=(5_000, 10_000),
        )


def test_gzip_is_inflated_and_a_bomb_is_refused_before_it_grows() -> None:
    body = gzip.compress(_request().SerializeToString())
    spans = decode_export(
        body, content_type="application/x-protobuf", content_encoding="gzip", bounds=BOUNDS
    )
    assert len(spans) == 1
    bomb = gzip.compress(b"\x00" * 2_000_000)
    with pytest.raises(OtlpTooLargeError):
        decode_export(
            bomb,
            content_type="application/x-protobuf",
            content_encoding="gzip",
            bounds=BOUNDS,
            limits=OtlpLimits(max_decompressed_bytes=1_000_000),
        )


def test_malformed_bodies_and_media_types_are_refused() -> None:
    with pytest.raises(MalformedOtlpError):
        _decode(b"\xff\xff\xff", "application/x-protobuf")
    with pytest.raises(MalformedOtlpError):
        _decode(b"{", "application/json")
    with pytest.raises(MalformedOtlpError, match=r"resourceSpans\[0\]: must be a JSON object"):
        _decode(b'{"resourceSpans": [null]}', "application/json")
    with pytest.raises(UnsupportedOtlpMediaError):
        _decode(b"", "text/plain")
    with pytest.raises(UnsupportedOtlpMediaError):
        decode_export(b"", content_type="application/json", content_encoding="br", bounds=BOUNDS)


def test_too_many_spans_is_413() -> None:
    with pytest.raises(OtlpTooLargeError):
        _decode(
            _request().SerializeToString(), "application/x-protobuf", limits=OtlpLimits(max_spans=0)
        )


def test_deeply_nested_attribute_values_are_refused() -> None:
    value: dict[str, Any] = {"stringValue": "leaf"}
    for _ in range(40):
        value = {"arrayValue": {"values": [value]}}
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "deep", "value": value}]},
                "scopeSpans": [],
            }
        ]
    }
    with pytest.raises(InvalidSpanError, match="nests deeper"):
        _decode(json.dumps(body).encode(), "application/json")
