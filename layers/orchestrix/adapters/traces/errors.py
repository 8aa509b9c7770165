"""Why an OTLP trace export was refused: status, title and where in the request.

The HTTP layer turns each into `application/problem+json` without reading the message; the
message names the place in OTLP's JSON terms whichever encoding was sent, e.g.
`resourceSpans[0].scopeSpans[1].spans[3].traceId: ...`.
"""

from __future__ import annotations

Loc = tuple[str | int, ...]


def dotted(loc: Loc) -> str:
    """("resourceSpans", 0, "spans", 3) -> "resourceSpans[0].spans[3]"."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


class OtlpIngestError(Exception):
    status = 400
    title = "Invalid OTLP request"

    def __init__(self, detail: str, loc: Loc = ()) -> None:
        super().__init__(f"{dotted(loc)}: {detail}" if loc else detail)
        self.loc = loc

    @property
    def detail(self) -> str:
        return str(self)


class MalformedOtlpError(OtlpIngestError):
    """Not gzip, not protobuf, not JSON, or not shaped like an export request."""

    title = "Malformed OTLP payload"


class InvalidSpanError(OtlpIngestError):
    """A span breaks the data model (bad id, times, kind, text PostgreSQL cannot store)."""

    title = "Invalid span"


class OtlpTooLargeError(OtlpIngestError):
    status = 413
    title = "Payload too large"


class UnsupportedOtlpMediaError(OtlpIngestError):
    status = 415
    title = "Unsupported media type"
