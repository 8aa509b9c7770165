"""Metrics ingestion codecs: Prometheus remote write 1.0 and text/OpenMetrics exposition.

Both produce a columnar `DecodedBatch` for the metric store; every rejection is a
`MetricsIngestError` carrying its HTTP status (400, 413 or 415).
"""

from orchestrix.adapters.metrics.batch import (
    STALE_NAN_BITS,
    DecodedBatch,
    MetricMetadata,
    SeriesKey,
    fingerprint,
)
from orchestrix.adapters.metrics.errors import (
    InvalidExpositionError,
    InvalidSeriesError,
    MalformedPayloadError,
    MetricsIngestError,
    PayloadTooLargeError,
    RemoteWriteError,
    UnsupportedMediaTypeError,
)
from orchestrix.adapters.metrics.exposition import parse_exposition
from orchestrix.adapters.metrics.limits import DEFAULT_LIMITS, IngestLimits
from orchestrix.adapters.metrics.remote_write import (
    RemoteWriteDecoder,
    check_remote_write_headers,
    encode_batch,
    encode_write_request,
)

__all__ = [
    "DEFAULT_LIMITS",
    "STALE_NAN_BITS",
    "DecodedBatch",
    "IngestLimits",
    "InvalidExpositionError",
    "InvalidSeriesError",
    "MalformedPayloadError",
    "MetricMetadata",
    "MetricsIngestError",
    "PayloadTooLargeError",
    "RemoteWriteDecoder",
    "RemoteWriteError",
    "SeriesKey",
    "UnsupportedMediaTypeError",
    "check_remote_write_headers",
    "encode_batch",
    "encode_write_request",
    "fingerprint",
    "parse_exposition",
]
