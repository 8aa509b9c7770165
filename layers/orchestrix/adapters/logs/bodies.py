"""From an ingest request's raw body to a `LogBatch`: content encoding, media type, format.

Sizes are checked before and while decompressing (a 10 MiB gzip body may expand to
gigabytes), and a body that is not what its headers say is a 400 naming the body, so
senders drop it rather than retry it forever.
"""

from __future__ import annotations

import json
import zlib
from typing import Literal

from orchestrix.adapters.logs import json_lines, loki, otlp
from orchestrix.adapters.logs.builder import BatchBuilder
from orchestrix.adapters.metrics.limits import DEFAULT_LIMITS
from orchestrix.adapters.metrics.remote_write import _decompress as snappy_decompress
from orchestrix.domain.errors import PayloadTooLarge, UnsupportedMediaType
from orchestrix.domain.logs import BadLogRecord, LogBatch

Format = Literal["otlp", "loki", "jsonl"]
MAX_BODY = DEFAULT_LIMITS.max_body_bytes
MAX_DECOMPRESSED = DEFAULT_LIMITS.max_decompressed_bytes
PROTOBUF = ("application/x-protobuf", "application/protobuf", "application/octet-stream")


def _bad_body(msg: str) -> BadLogRecord:
    from orchestrix.domain.errors import FieldError

    return BadLogRecord([FieldError(("body",), msg)])


def _gunzip(body: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=31)  # the gzip format
    try:
        raw = inflater.decompress(body, MAX_DECOMPRESSED + 1)
    except zlib.error as exc:
        raise _bad_body(f"body is not gzip data ({exc})") from None
    if len(raw) > MAX_DECOMPRESSED or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"body decompresses to more than {MAX_DECOMPRESSED} bytes")
    if not inflater.eof:
        raise _bad_body("body is truncated gzip data")
    return raw


def decompress(body: bytes, encoding: str | None, *, snappy_default: bool = False) -> bytes:
    if len(body) > MAX_BODY:
        raise PayloadTooLarge(f"body is {len(body)} bytes; the limit is {MAX_BODY} bytes")
    name = (encoding or "").strip().lower()
    if name == "gzip":
        return _gunzip(body)
    if name == "snappy" or (snappy_default and name == ""):
        return snappy_decompress(body, DEFAULT_LIMITS)
    if name in ("", "identity"):
        return body
    raise UnsupportedMediaType(f'Content-Encoding "{encoding}" is not supported')


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _json(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise _bad_body(f"body is not valid JSON: {exc}") from None


def decode(
    kind: Format,
    body: bytes,
    *,
    content_type: str | None,
    content_encoding: str | None,
    bounds: tuple[int, int],
    now_ns: int,
) -> LogBatch:
    media = _media_type(content_type)
    builder = BatchBuilder(bounds)
    if kind == "otlp":
        raw = decompress(body, content_encoding)
        if media in PROTOBUF:
            return otlp.decode_protobuf(raw, builder, now_ns)
        if media == "application/json":
            return otlp.decode_json(_json(raw), builder, now_ns)
        raise UnsupportedMediaType(
            f'Content-Type "{content_type}" is not supported; OTLP/HTTP sends '
            "application/x-protobuf or application/json"
        )
    if kind == "loki":
        if media in PROTOBUF or media == "":
            # Promtail and Alloy send snappy-compressed protobuf, Content-Encoding unset.
            return loki.decode_protobuf(
                decompress(body, content_encoding, snappy_default=True), builder
            )
        if media == "application/json":
            return loki.decode_json(_json(decompress(body, content_encoding)), builder)
        raise UnsupportedMediaType(
            f'Content-Type "{content_type}" is not supported; Loki push takes '
            "application/x-protobuf (snappy) or application/json"
        )
    if media not in ("", "application/x-ndjson", "application/jsonl", "application/json"):
        raise UnsupportedMediaType(
            f'Content-Type "{content_type}" is not supported; send application/x-ndjson'
        )
    raw = decompress(body, content_encoding)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad_body(f"body is not UTF-8 ({exc})") from None
    return json_lines.decode(text, builder, now_ns)
