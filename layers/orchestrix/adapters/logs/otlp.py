"""OTLP/HTTP logs (`POST /v1/logs`): ExportLogsServiceRequest as protobuf or JSON, maybe gzip.

Mapping, as Loki's OTLP endpoint does it: a fixed list of resource attributes becomes the
stream labels (dots turned into underscores; `service_name` is `unknown_service` when the
resource has none), the log body is the line (non-string bodies as JSON), and severity,
trace and span ids, the record's attributes, the scope and the other resource attributes
become the line's structured metadata. A record without a timestamp takes its observed
time, or the time it arrived (the OTLP specification's order).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from orchestrix.adapters.logs.builder import BatchBuilder, Loc
from orchestrix.domain.logs import LogBatch

# Loki's default list, less service.instance.id: the SDKs set it to a fresh UUID per
# process, which would make every cold start a new stream (it stays in the metadata).
PROMOTED = (
    "service.name", "service.namespace", "deployment.environment",
    "deployment.environment.name", "cloud.region", "cloud.availability_zone",
    "k8s.cluster.name", "k8s.namespace.name", "k8s.pod.name", "k8s.container.name",
    "container.name", "k8s.replicaset.name", "k8s.deployment.name", "k8s.statefulset.name",
    "k8s.daemonset.name", "k8s.cronjob.name", "k8s.job.name",
)  # fmt: skip
_NOT_LABEL_CHARS = re.compile(r"[^a-zA-Z0-9_]")
_HEX_ID = re.compile(r"[0-9a-fA-F]*\Z")
_SEVERITY_NAMES = {
    f"SEVERITY_NUMBER_{name}{suffix}": number + offset
    for number, name in ((1, "TRACE"), (5, "DEBUG"), (9, "INFO"), (13, "WARN"), (17, "ERROR"),
                         (21, "FATAL"))
    for offset, suffix in ((0, ""), (1, "2"), (2, "3"), (3, "4"))
}  # fmt: skip


def label_name(attribute: str) -> str:
    return _NOT_LABEL_CHARS.sub("_", attribute)


def _stream_labels(resource: dict[str, Any]) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    labels = [(label_name(k), _text(resource[k])) for k in PROMOTED if k in resource]
    if "service.name" not in resource:
        labels.append(("service_name", "unknown_service"))
    rest = {k: v for k, v in resource.items() if k not in PROMOTED}
    return labels, rest


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _metadata(
    severity_text: str,
    severity_number: int,
    trace_id: str,
    span_id: str,
    attributes: dict[str, Any],
    scope: str,
    resource: dict[str, Any],
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in (
        ("severity_text", severity_text),
        ("severity_number", severity_number),
        ("trace_id", trace_id),
        ("span_id", span_id),
        ("attributes", attributes),
        ("scope", scope),
        ("resource", resource),
    ):
        if value:
            found[key] = value
    return found


# -- protobuf -----------------------------------------------------------------------------
def _any_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _any_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, kind)


def _attributes(pairs: Any) -> dict[str, Any]:
    return {kv.key: _any_value(kv.value) for kv in pairs}


def decode_protobuf(raw: bytes, builder: BatchBuilder, now_ns: int) -> LogBatch:
    # opentelemetry-proto is imported here: only the logs function pays for it.
    from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

    try:
        request = logs_service_pb2.ExportLogsServiceRequest.FromString(raw)
    except DecodeError as exc:
        builder.fail(("body",), f"not an OTLP ExportLogsServiceRequest protobuf message ({exc})")
        return builder.build()
    for i, resource_logs in enumerate(request.resource_logs):
        pairs, resource = _stream_labels(_attributes(resource_logs.resource.attributes))
        stream = builder.stream(pairs, ("resourceLogs", i, "resource", "attributes"))
        for j, scope_logs in enumerate(resource_logs.scope_logs):
            scope = scope_logs.scope.name
            for k, record in enumerate(scope_logs.log_records):
                where: Loc = ("resourceLogs", i, "scopeLogs", j, "logRecords", k)
                ts = record.time_unix_nano or record.observed_time_unix_nano or now_ns
                body = _any_value(record.body)
                metadata = _metadata(
                    record.severity_text,
                    record.severity_number,
                    record.trace_id.hex(),
                    record.span_id.hex(),
                    _attributes(record.attributes),
                    scope,
                    resource,
                )
                line = "" if body is None else _text(body)
                builder.add(stream, ts, line, metadata, (*where, "timeUnixNano"), (*where, "body"))
    return builder.build()


# -- JSON ---------------------------------------------------------------------------------
class _Invalid(ValueError):
    def __init__(self, loc: Loc, msg: str) -> None:
        super().__init__(msg)
        self.loc = loc


def _list(value: Any, loc: Loc) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Invalid(loc, "must be an array")
    return value


def _object(value: Any, loc: Loc) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Invalid(loc, "must be an object")
    return value


def _uint64(value: Any, loc: Loc) -> int:
    """OTLP JSON writes 64-bit integers as decimal strings; numbers are accepted too."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _Invalid(loc, "must be an integer (a decimal string or a number)")
    try:
        number = int(value)
    except ValueError:
        raise _Invalid(loc, f"{value!r} is not a decimal integer") from None
    if not 0 <= number < 2**63:
        raise _Invalid(loc, f"{value!r} is out of range")
    return number


MAX_DEPTH = 32  # of nested arrayValue / kvlistValue; OTLP protobuf parsing stops at 100


def _json_any(value: Any, loc: Loc) -> Any:
    if len(loc) > 3 * MAX_DEPTH:
        raise _Invalid(loc, f"values nested deeper than {MAX_DEPTH} levels")
    item = _object(value, loc)
    if not item:
        return None
    if len(item) != 1:
        raise _Invalid(loc, "an AnyValue holds exactly one of stringValue, intValue, ...")
    kind, inner = next(iter(item.items()))
    if kind == "stringValue" and isinstance(inner, str):
        return inner
    if kind == "boolValue" and isinstance(inner, bool):
        return inner
    if kind == "intValue":
        if isinstance(inner, bool) or not isinstance(inner, int | str):
            raise _Invalid((*loc, kind), "must be an integer")
        try:
            return int(inner)
        except ValueError:
            raise _Invalid((*loc, kind), f"{inner!r} is not an integer") from None
    if kind == "doubleValue" and isinstance(inner, int | float) and not isinstance(inner, bool):
        return float(inner)
    if kind == "bytesValue" and isinstance(inner, str):
        return inner
    if kind == "arrayValue":
        values = _list(_object(inner, (*loc, kind)).get("values"), (*loc, kind, "values"))
        return [_json_any(v, (*loc, kind, "values", n)) for n, v in enumerate(values)]
    if kind == "kvlistValue":
        values = _list(_object(inner, (*loc, kind)).get("values"), (*loc, kind, "values"))
        return _json_attributes(values, (*loc, kind, "values"))
    raise _Invalid((*loc, kind), "unknown AnyValue kind or wrong type")


def _json_attributes(pairs: Any, loc: Loc) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for n, pair in enumerate(_list(pairs, loc)):
        item = _object(pair, (*loc, n))
        key = item.get("key")
        if not isinstance(key, str):
            raise _Invalid((*loc, n, "key"), "must be a string")
        found[key] = _json_any(item.get("value"), (*loc, n, "value"))
    return found


def _hex_id(value: Any, loc: Loc, size: int) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or len(value) != size * 2 or not _HEX_ID.match(value):
        raise _Invalid(loc, f"must be {size * 2} hexadecimal digits")
    return value.lower()


def _severity(value: Any, loc: Loc) -> int:
    if isinstance(value, str) and value in _SEVERITY_NAMES:
        return _SEVERITY_NAMES[value]
    number = _uint64(value, loc)
    if number > 24:
        raise _Invalid(loc, "must be a SeverityNumber (0-24)")
    return number


def decode_json(document: Any, builder: BatchBuilder, now_ns: int) -> LogBatch:
    try:
        _walk_json(document, builder, now_ns)
    except _Invalid as exc:
        builder.fail(exc.loc, str(exc))
    return builder.build()


def _walk_json(document: Any, builder: BatchBuilder, now_ns: int) -> None:
    top = _object(document, ("body",))
    for i, resource_logs in enumerate(_list(top.get("resourceLogs"), ("resourceLogs",))):
        at: Loc = ("resourceLogs", i)
        entry = _object(resource_logs, at)
        resource_attrs = _json_attributes(
            _object(entry.get("resource"), (*at, "resource")).get("attributes"),
            (*at, "resource", "attributes"),
        )
        pairs, resource = _stream_labels(resource_attrs)
        stream = builder.stream(pairs, (*at, "resource", "attributes"))
        for j, scope_logs in enumerate(_list(entry.get("scopeLogs"), (*at, "scopeLogs"))):
            sat: Loc = (*at, "scopeLogs", j)
            scope_entry = _object(scope_logs, sat)
            scope = _object(scope_entry.get("scope"), (*sat, "scope")).get("name") or ""
            records = _list(scope_entry.get("logRecords"), (*sat, "logRecords"))
            for k, raw_record in enumerate(records):
                where: Loc = (*sat, "logRecords", k)
                try:
                    _json_record(raw_record, where, builder, stream, now_ns, scope, resource)
                except _Invalid as exc:
                    builder.fail(exc.loc, str(exc))


def _json_record(
    raw: Any,
    where: Loc,
    builder: BatchBuilder,
    stream: Any,
    now_ns: int,
    scope: Any,
    resource: dict[str, Any],
) -> None:
    record = _object(raw, where)
    ts = _uint64(record.get("timeUnixNano"), (*where, "timeUnixNano"))
    observed = _uint64(record.get("observedTimeUnixNano"), (*where, "observedTimeUnixNano"))
    severity_text = record.get("severityText") or ""
    if not isinstance(severity_text, str):
        raise _Invalid((*where, "severityText"), "must be a string")
    metadata = _metadata(
        severity_text,
        _severity(record.get("severityNumber"), (*where, "severityNumber")),
        _hex_id(record.get("traceId"), (*where, "traceId"), 16),
        _hex_id(record.get("spanId"), (*where, "spanId"), 8),
        _json_attributes(record.get("attributes"), (*where, "attributes")),
        scope if isinstance(scope, str) else "",
        resource,
    )
    body = _json_any(record.get("body"), (*where, "body"))
    line = "" if body is None else _text(body)
    builder.add(
        stream, ts or observed or now_ns, line, metadata, (*where, "timeUnixNano"), (*where, "body")
    )
