"""One OTLP/HTTP export request: media type, gzip, size limits, then the decoder it names."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from orchestrix.adapters.traces import otlp_json, otlp_proto
from orchestrix.adapters.traces.errors import (
    MalformedOtlpError,
    OtlpTooLargeError,
    UnsupportedOtlpMediaError,
)
from orchestrix.domain.traces import Span

PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")
JSON_TYPE = "application/json"


@dataclass(frozen=True)
class OtlpLimits:
    # API Gateway refuses bodies over 10 MB before we see them.
    max_body_bytes: int = 10 * 1024 * 1024
    max_decompressed_bytes: int = 64 * 1024 * 1024
    max_spans: int = 50_000


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _gunzip(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        raw = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise MalformedOtlpError(f"body is not valid gzip data ({exc})") from None
    if len(raw) > limit:
        raise OtlpTooLargeError(f"body decompresses to more than {limit} bytes")
    if not inflater.eof:
        raise MalformedOtlpError("gzip body is truncated")
    return raw


def decode_export(
    body: bytes,
    *,
    content_type: str | None,
    content_encoding: str | None,
    bounds: tuple[int, int],
    limits: OtlpLimits = OtlpLimits(),
) -> list[Span]:
    """Every span of an ExportTraceServiceRequest, validated; `bounds` (ns, inclusive) is
    the range a span's start may take. Raises an `OtlpIngestError` naming the problem."""
    if len(body) > limits.max_body_bytes:
        raise OtlpTooLargeError(f"body is {len(body)} bytes; the limit is {limits.max_body_bytes}")
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "gzip":
        body = _gunzip(body, limits.max_decompressed_bytes)
    elif encoding != "identity":
        raise UnsupportedOtlpMediaError(
            f'Content-Encoding "{content_encoding}" is not supported; send gzip or identity'
        )
    kind = media_type(content_type)
    if kind in PROTOBUF_TYPES:
        return otlp_proto.decode(body, bounds, limits.max_spans)
    if kind == JSON_TYPE:
        return otlp_json.decode(body, bounds, limits.max_spans)
    raise UnsupportedOtlpMediaError(
        f'Content-Type "{content_type}" is not supported; OTLP/HTTP sends '
        "application/x-protobuf or application/json"
    )
