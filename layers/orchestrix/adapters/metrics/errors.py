"""Errors raised while decoding metrics sent to Orchestrix.

Each error carries the HTTP status, a short title and a stable code, so the HTTP layer can
turn any of them into `application/problem+json` without looking at the message text. The
message itself says what was wrong and where ("series 12: label name "1bad" is invalid").
"""

from __future__ import annotations


class MetricsIngestError(Exception):
    """Base class: a client sent metrics that cannot be accepted."""

    status: int = 400
    title: str = "Invalid metrics payload"
    code: str = "invalid-metrics"
    # Where in the request the problem is, e.g. ("timeseries", 3, "samples", 0, "timestamp");
    # the HTTP layer lists it as the problem's `errors[0].loc`.
    loc: tuple[str | int, ...] = ()

    @property
    def detail(self) -> str:
        return str(self)

    def at(self, *loc: str | int) -> MetricsIngestError:
        self.loc = loc
        return self


class RemoteWriteError(MetricsIngestError):
    """A Prometheus remote-write request was rejected."""


class MalformedPayloadError(RemoteWriteError):
    """The body is not snappy-compressed protobuf (or not UTF-8 text)."""

    title = "Malformed payload"
    code = "malformed-payload"


class InvalidSeriesError(RemoteWriteError):
    """A series breaks the data model: no metric name, bad/duplicate labels, limits."""

    title = "Invalid series"
    code = "invalid-series"


class SampleOutOfBoundsError(RemoteWriteError):
    """A sample timestamp outside what the store accepts (before 1970, too far ahead)."""

    title = "Sample out of bounds"
    code = "sample-out-of-bounds"


class PayloadTooLargeError(RemoteWriteError):
    """The body, its decompressed size, or its series/sample count exceeds a limit."""

    status = 413
    title = "Payload too large"
    code = "payload-too-large"


class UnsupportedMediaTypeError(RemoteWriteError):
    """Wrong Content-Type or Content-Encoding (e.g. remote write 2.0)."""

    status = 415
    title = "Unsupported media type"
    code = "unsupported-media-type"


class InvalidExpositionError(MetricsIngestError):
    """A line of Prometheus text / OpenMetrics input could not be parsed."""

    title = "Invalid exposition format"
    code = "invalid-exposition"

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.loc = ("body", "line", line)
