"""Ingest decoders: every wire format into one batch, bad records named as senders number them."""

from __future__ import annotations

import gzip

import cramjam
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from orchestrix.adapters.logs.bodies import decode
from orchestrix.adapters.logs.loki import encode_push
from orchestrix.domain.errors import PayloadTooLarge, UnsupportedMediaType
from orchestrix.domain.logs import BadLogRecord

S = 1_000_000_000
NOW = 1_800_000_000 * S
BOUNDS = (NOW - 7 * 86400 * S, NOW + 600 * S)


def otlp_request() -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.add(key="service.name").value.string_value = "api"
    resource_logs.resource.attributes.add(key="k8s.pod.name").value.string_value = "api-1"
    records = resource_logs.scope_logs.add().log_records
    first = records.add(time_unix_nano=NOW - S, severity_text="WARN", severity_number=13)
    first.body.string_value = "slow"
    first.trace_id = bytes.fromhex("5b8efff798038103d269b633813fc60c")
    second = records.add(observed_time_unix_nano=NOW - 2 * S)  # no time: the observed one
    second.body.kvlist_value.values.add(key="msg").value.string_value = "structured"
    return request


def test_otlp_protobuf_gzip_becomes_one_stream_with_metadata() -> None:
    body = gzip.compress(otlp_request().SerializeToString())

    batch = decode("otlp", body, content_type="application/x-protobuf",
                   content_encoding="gzip", bounds=BOUNDS, now_ns=NOW)  # fmt: skip

    [stream] = batch.streams
    assert stream.labels == (("k8s_pod_name", "api-1"), ("service_name", "api"))
    assert stream.timestamps == [NOW - S, NOW - 2 * S]
    assert stream.lines == ["slow", '{"msg": "structured"}']
    assert stream.metadata[0] == (
        '{"severity_text":"WARN","severity_number":13,'
        '"trace_id":"5b8efff798038103d269b633813fc60c"}'
    )


def test_otlp_record_older_than_retention_is_named() -> None:
    request = otlp_request()
    request.resource_logs[0].scope_logs[0].log_records[1].observed_time_unix_nano = S

    with pytest.raises(BadLogRecord) as refused:
        decode("otlp", request.SerializeToString(), content_type="application/x-protobuf",
               content_encoding=None, bounds=BOUNDS, now_ns=NOW)  # fmt: skip

    assert refused.value.errors[0].loc == (
        "resourceLogs", 0, "scopeLogs", 0, "logRecords", 1, "timeUnixNano",
    )  # fmt: skip
    assert "older than the retention" in refused.value.detail


def test_loki_protobuf_bad_labels_and_future_lines_are_all_named() -> None:
    raw = encode_push(
        [
            ('{app="ok"}', [(NOW, "fine")]),
            ("not labels", [(NOW, "x")]),
            ('{app="ok"}', [(NOW, "fine"), (NOW + 3600 * S, "from the future")]),
        ]
    )
    body = bytes(cramjam.snappy.compress_raw(raw).read())

    with pytest.raises(BadLogRecord) as refused:
        decode("loki", body, content_type="application/x-protobuf", content_encoding=None,
               bounds=BOUNDS, now_ns=NOW)  # fmt: skip

    assert [e.loc for e in refused.value.errors] == [
        ("streams", 1, "labels"),
        ("streams", 2, "entries", 1, "timestamp"),
    ]
    assert refused.value.status == 400


def test_loki_body_that_is_not_snappy_is_a_400() -> None:
    from orchestrix.adapters.metrics import MetricsIngestError

    with pytest.raises(MetricsIngestError) as refused:
        decode("loki", b"\xff\xff\xff\xff\xffnot snappy", content_type="application/x-protobuf",
               content_encoding=None, bounds=BOUNDS, now_ns=NOW)  # fmt: skip

    assert refused.value.status == 400


def test_gzip_bomb_and_unknown_media_types_are_refused() -> None:
    bomb = gzip.compress(b"\0" * (65 * 1024 * 1024))

    with pytest.raises(PayloadTooLarge):
        decode("otlp", bomb, content_type="application/json", content_encoding="gzip",
               bounds=BOUNDS, now_ns=NOW)  # fmt: skip
    with pytest.raises(UnsupportedMediaType):
        decode("otlp", b"{}", content_type="text/plain", content_encoding=None,
               bounds=BOUNDS, now_ns=NOW)  # fmt: skip


def test_truncated_gzip_is_a_400_not_an_empty_request() -> None:
    truncated = gzip.compress(b'{"labels": {"a": "b"}, "line": "x"}\n')[:12]

    with pytest.raises(BadLogRecord, match="truncated gzip"):
        decode("jsonl", truncated, content_type="application/x-ndjson", content_encoding="gzip",
               bounds=BOUNDS, now_ns=NOW)  # fmt: skip


def test_promtail_lines_with_invalid_utf8_are_kept_with_replacement_characters() -> None:
    from orchestrix.adapters.logs.loki import push_request_class

    request = push_request_class()()
    stream = request.streams.add(labels=b'{job="tail"}')
    entry = stream.entries.add(line=b"binary \xff\xfe tail")
    entry.timestamp.seconds = NOW // S
    body = bytes(cramjam.snappy.compress_raw(request.SerializeToString()).read())

    batch = decode("loki", body, content_type="application/x-protobuf", content_encoding=None,
                   bounds=BOUNDS, now_ns=NOW)  # fmt: skip

    assert batch.streams[0].lines == ["binary \ufffd\ufffd tail"]
