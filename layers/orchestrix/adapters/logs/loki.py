"""Loki push (`POST /loki/api/v1/push`): snappy-compressed protobuf, as Promtail and Alloy
send it, or JSON (`{"streams": [{"stream": {...}, "values": [["<ns>", "line"], ...]}]}`).

The protobuf messages are Loki's `logproto.PushRequest` (pkg/push/push.proto), declared
here from a descriptor built in code: five small messages, no generated module and no
protoc step. `google.protobuf.Timestamp` is declared as its wire-identical twin, and the
labels and line as `bytes` (wire-identical to `string`): Go senders do not check UTF-8, so a
binary byte in a tailed file must not refuse the whole push; it becomes U+FFFD here.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from orchestrix.adapters.logs.builder import BatchBuilder, Loc
from orchestrix.domain.logs import LogBatch
from orchestrix.logql.parse import LogQLError, parse_stream_labels

_PACKAGE = "orchestrix.logproto"
# (message, [(field, number, type, label, type name)]); types as FieldDescriptorProto's.
_STRING, _INT64, _INT32, _UINT64, _MESSAGE, _BYTES = 9, 3, 5, 4, 11, 12
_OPTIONAL, _REPEATED = 1, 3
_MESSAGES: tuple[tuple[str, tuple[tuple[str, int, int, int, str], ...]], ...] = (
    ("Timestamp", (("seconds", 1, _INT64, _OPTIONAL, ""), ("nanos", 2, _INT32, _OPTIONAL, ""))),
    ("LabelPairAdapter",
     (("name", 1, _STRING, _OPTIONAL, ""), ("value", 2, _STRING, _OPTIONAL, ""))),
    (
        "EntryAdapter",
        (
            ("timestamp", 1, _MESSAGE, _OPTIONAL, "Timestamp"),
            ("line", 2, _BYTES, _OPTIONAL, ""),
            ("structuredMetadata", 3, _MESSAGE, _REPEATED, "LabelPairAdapter"),
        ),
    ),
    (
        "StreamAdapter",
        (
            ("labels", 1, _BYTES, _OPTIONAL, ""),
            ("entries", 2, _MESSAGE, _REPEATED, "EntryAdapter"),
            ("hash", 3, _UINT64, _OPTIONAL, ""),
        ),
    ),
    ("PushRequest", (("streams", 1, _MESSAGE, _REPEATED, "StreamAdapter"),)),
)  # fmt: skip


@cache
def push_request_class() -> Any:
    """The PushRequest message class (built once per process)."""
    from google.protobuf import descriptor_pb2, descriptor_pool  # type: ignore[import-untyped]
    from google.protobuf.message_factory import GetMessageClass  # type: ignore[import-untyped]

    file = descriptor_pb2.FileDescriptorProto(
        name="orchestrix/logproto/push.proto", package=_PACKAGE, syntax="proto3"
    )
    for message_name, fields in _MESSAGES:
        message = file.message_type.add(name=message_name)
        for name, number, kind, label, type_name in fields:
            field = message.field.add(name=name, number=number, type=kind, label=label)
            if type_name:
                field.type_name = f".{_PACKAGE}.{type_name}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.PushRequest"))


def encode_push(streams: list[tuple[str, list[tuple[int, str]]]]) -> bytes:
    """A PushRequest body (uncompressed): `(labels text, [(ns, line), ...])` per stream."""
    request = push_request_class()()
    for labels, entries in streams:
        stream = request.streams.add(labels=labels.encode())
        for ts, line in entries:
            entry = stream.entries.add(line=line.encode())
            entry.timestamp.seconds, entry.timestamp.nanos = divmod(ts, 1_000_000_000)
    return bytes(request.SerializeToString())


def _stream_of(builder: BatchBuilder, text: str, loc: Loc) -> Any:
    try:
        pairs = parse_stream_labels(text)
    except LogQLError as exc:
        builder.fail(loc, f"not a label set: {exc}")
        return None
    return builder.stream(pairs, loc)


def decode_protobuf(raw: bytes, builder: BatchBuilder) -> LogBatch:
    from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

    try:
        request = push_request_class().FromString(raw)
    except DecodeError as exc:
        builder.fail(("body",), f"not a Loki PushRequest protobuf message ({exc})")
        return builder.build()
    for i, stream_message in enumerate(request.streams):
        labels = stream_message.labels.decode("utf-8", "replace")
        stream = _stream_of(builder, labels, ("streams", i, "labels"))
        for j, entry in enumerate(stream_message.entries):
            ts = entry.timestamp.seconds * 1_000_000_000 + entry.timestamp.nanos
            metadata = {pair.name: pair.value for pair in entry.structuredMetadata}
            where: Loc = ("streams", i, "entries", j)
            line = entry.line.decode("utf-8", "replace")
            builder.add(stream, ts, line, metadata, (*where, "timestamp"), (*where, "line"))
    return builder.build()


def decode_json(document: Any, builder: BatchBuilder) -> LogBatch:
    streams = document.get("streams") if isinstance(document, dict) else None
    if not isinstance(streams, list):
        builder.fail(("body", "streams"), "must be an array of streams")
        return builder.build()
    for i, item in enumerate(streams):
        labels = item.get("stream") if isinstance(item, dict) else None
        values = item.get("values") if isinstance(item, dict) else None
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            builder.fail(("streams", i, "stream"), "must be an object of label name to string")
            continue
        if not isinstance(values, list):
            builder.fail(("streams", i, "values"), "must be an array of [ts, line] pairs")
            continue
        stream = builder.stream(list(labels.items()), ("streams", i, "stream"))
        for j, value in enumerate(values):
            _json_entry(builder, stream, value, ("streams", i, "values", j))
    return builder.build()


def _json_entry(builder: BatchBuilder, stream: Any, value: Any, where: Loc) -> None:
    if not isinstance(value, list) or len(value) not in (2, 3):
        builder.fail(where, 'must be ["<unix ns>", "<line>"] or with a metadata object')
        return
    ts_text, line = value[0], value[1]
    metadata = value[2] if len(value) == 3 else None
    digits = isinstance(ts_text, str) and ts_text.isascii() and ts_text.isdigit()
    if not digits or len(ts_text) > 19:
        builder.fail((*where, 0), "must be the Unix time in nanoseconds as a decimal string")
        return
    if not isinstance(line, str):
        builder.fail((*where, 1), "must be a string")
        return
    if metadata is not None and (
        not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values())
    ):
        builder.fail((*where, 2), "structured metadata must be an object of strings")
        return
    builder.add(stream, int(ts_text), line, metadata, (*where, 0), (*where, 1))
