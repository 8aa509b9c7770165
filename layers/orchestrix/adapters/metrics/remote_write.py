"""Prometheus remote write 1.0: decode (and encode) snappy-compressed `WriteRequest`s.

A sender repeats the same series every scrape, so the decoder keeps validated `SeriesKey`s
in bounded caches keyed by raw bytes: a warm Lambda validates and hashes each series once,
then only copies samples. The request is parsed as a `RawWriteRequest` (prompb/raw.py), each
time series left as its encoded bytes. A series as Prometheus sends it is its encoded labels
followed by its samples (a value and a timestamp each); when those label bytes are a series
seen before, the samples are read from the bytes after them directly, at fixed places (see
`_remember`): no message object per series or sample. Any other series (a new one, one with
exemplars or histograms, a timestamp before 1971) is parsed with `FastTimeSeries`
(prompb/remote.proto), whose labels stay raw bytes.
"""

from __future__ import annotations

import struct
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import islice

import cramjam

# protobuf ships no type information; DecodeError is the only name used from it.
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from orchestrix.adapters.metrics.batch import (
    DecodedBatch,
    MetricMetadata,
    SeriesKey,
    first_out_of_bounds,
    out_of_bounds_problem,
    validate_series,
)
from orchestrix.adapters.metrics.errors import (
    InvalidSeriesError,
    MalformedPayloadError,
    PayloadTooLargeError,
    SampleOutOfBoundsError,
    UnsupportedMediaTypeError,
)
from orchestrix.adapters.metrics.limits import DEFAULT_LIMITS, IngestLimits
from orchestrix.adapters.metrics.prompb import remote_pb2 as pb
from orchestrix.adapters.metrics.prompb.raw import RawWriteRequest

REMOTE_WRITE_V1_MESSAGE = "prometheus.WriteRequest"
REMOTE_WRITE_V2_MESSAGE = "io.prometheus.write.v2.Request"

_METRIC_TYPES = {
    pb.MetricMetadata.UNKNOWN: "unknown",
    pb.MetricMetadata.COUNTER: "counter",
    pb.MetricMetadata.GAUGE: "gauge",
    pb.MetricMetadata.HISTOGRAM: "histogram",
    pb.MetricMetadata.GAUGEHISTOGRAM: "gaugehistogram",
    pb.MetricMetadata.SUMMARY: "summary",
    pb.MetricMetadata.INFO: "info",
    pb.MetricMetadata.STATESET: "stateset",
}
_METRIC_TYPE_NUMBERS = {name: number for number, name in _METRIC_TYPES.items()}


def check_remote_write_headers(content_type: str | None, content_encoding: str | None) -> None:
    """Accept remote write 1.0 only; raise 415 for 2.0 or anything that is not snappy+proto.

    Missing headers are tolerated (old senders omit them and 1.0 is the only choice then).
    """
    encoding = ("snappy" if content_encoding is None else content_encoding).strip().lower()
    if encoding != "snappy":
        raise UnsupportedMediaTypeError(
            f'Content-Encoding "{content_encoding}" is not supported; remote write uses snappy'
        )
    if not content_type:
        return
    media_type, _, params = content_type.partition(";")
    if media_type.strip().lower() != "application/x-protobuf":
        raise UnsupportedMediaTypeError(
            f'Content-Type "{content_type}" is not supported; remote write 1.0 sends '
            "application/x-protobuf"
        )
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() != "proto":
            continue
        message = value.strip().strip('"')
        if message == REMOTE_WRITE_V2_MESSAGE:
            raise UnsupportedMediaTypeError(
                f"remote write 2.0 ({REMOTE_WRITE_V2_MESSAGE}) is not supported; configure "
                f"the sender for remote write 1.0 (protobuf_message: {REMOTE_WRITE_V1_MESSAGE})"
            )
        if message != REMOTE_WRITE_V1_MESSAGE:
            raise UnsupportedMediaTypeError(
                f'protobuf message "{message}" is not supported; expected {REMOTE_WRITE_V1_MESSAGE}'
            )


def _decompress(body: bytes, limits: IngestLimits) -> bytes:
    if len(body) > limits.max_body_bytes:
        raise PayloadTooLargeError(
            f"body is {len(body)} bytes; the limit is {limits.max_body_bytes} bytes"
        )
    try:
        # The block format starts with the uncompressed length: refuse before allocating.
        size = cramjam.snappy.decompress_raw_len(body)
        if size > limits.max_decompressed_bytes:
            raise PayloadTooLargeError(
                f"body decompresses to {size} bytes; the limit is "
                f"{limits.max_decompressed_bytes} bytes"
            )
        raw: bytes = cramjam.snappy.decompress_raw(body).read()
    except cramjam.DecompressionError as exc:
        raise MalformedPayloadError(f"body is not snappy block-compressed data ({exc})") from exc
    return raw


class RemoteWriteDecoder:
    """Turns remote-write bodies into `DecodedBatch`es; keep one per process (it caches).

    The series cache only grows with distinct valid label sets and is emptied when it
    reaches `cache_size`, which bounds memory without bookkeeping on the hot path.
    """

    def __init__(self, limits: IngestLimits = DEFAULT_LIMITS, *, cache_size: int = 100_000) -> None:
        self.limits = limits
        self._cache_size = cache_size
        self._cache: dict[tuple[bytes, ...], SeriesKey] = {}
        # A series' encoded labels (all its label fields, as sent) -> its key; and the last
        # bytes of a one-sample series (a 6-byte varint timestamp) -> the timestamp.
        self._by_label_bytes: dict[bytes, SeriesKey] = {}
        self._timestamps: dict[bytes, int] = {}

    def decode(
        self,
        body: bytes,
        *,
        content_type: str | None = None,
        content_encoding: str | None = None,
        timestamp_bounds: tuple[int, int] | None = None,
    ) -> DecodedBatch:
        """Decode and validate a whole request; any bad series or sample rejects all of it.

        With `timestamp_bounds` (inclusive, ms), a sample outside them is a 400 naming it
        (`timeseries[3].samples[0].timestamp`): Prometheus does not retry a 4xx, so one bad
        sample cannot stall the sender, and nothing of the request is stored.
        """
        check_remote_write_headers(content_type, content_encoding)
        raw = _decompress(body, self.limits)
        try:
            request = RawWriteRequest.FromString(raw)
        except DecodeError as exc:
            raise MalformedPayloadError(
                f"body is not a valid {REMOTE_WRITE_V1_MESSAGE} protobuf message ({exc})"
            ) from exc
        all_series = request.timeseries
        if len(all_series) > self.limits.max_series_per_request:
            raise PayloadTooLargeError(
                f"request has {len(all_series)} series; the limit is "
                f"{self.limits.max_series_per_request}"
            )
        batch = DecodedBatch(metadata=[_metadata(i, m) for i, m in enumerate(request.metadata)])
        self._fill(batch, all_series)
        if timestamp_bounds is not None:
            _check_timestamps(batch, all_series, timestamp_bounds)
        if batch.sample_count > self.limits.max_samples_per_request:
            raise PayloadTooLargeError(
                f"request has {batch.sample_count} samples; the limit is "
                f"{self.limits.max_samples_per_request}"
            )
        return batch

    def _fill(self, batch: DecodedBatch, all_series: Sequence[bytes]) -> None:
        # The hot loop: locals instead of attribute lookups, no object per series or sample
        # on the fast path (see `_remember`).
        known = self._by_label_bytes  # empty on a first request: no fast path to try
        by_label_bytes = known.get
        timestamp_of = self._timestamps.get
        value_at = _DOUBLE.unpack_from
        add_series = batch.series.append
        add_offset = batch.offsets.append
        values = batch.values
        add_timestamp = batch.timestamps_ms.append
        add_value = values.append
        exemplars = histograms = 0
        for index, encoded in enumerate(all_series):
            n = len(encoded)
            if n > 18 and encoded[n - 18] == 0x12 and encoded[n - 17] == 16:
                if encoded[n - 16] == 0x09 and encoded[n - 7] == 0x10:
                    key = by_label_bytes(encoded[: n - 18])
                    timestamp = timestamp_of(encoded[n - 6 :])
                    if key is not None and timestamp is None:
                        timestamp = self._timestamp(encoded[n - 6 :])
                    if key is not None and timestamp is not None:
                        add_series(key)
                        add_timestamp(timestamp)
                        add_value(value_at(encoded, n - 15)[0])
                        add_offset(len(values))
                        continue
                    if key is None and known and self._several_samples(batch, encoded):
                        continue
            elif (
                n > 9 and encoded[n - 9] == 0x12 and encoded[n - 8] == 7 and encoded[n - 7] == 0x10
            ):
                key = by_label_bytes(encoded[: n - 9])
                timestamp = timestamp_of(encoded[n - 6 :])
                if key is not None and timestamp is None:
                    timestamp = self._timestamp(encoded[n - 6 :])
                if key is not None and timestamp is not None:
                    add_series(key)
                    add_timestamp(timestamp)
                    add_value(0.0)  # proto3 leaves a zero value out
                    add_offset(len(values))
                    continue
            try:
                series = pb.FastTimeSeries.FromString(encoded)
            except DecodeError as exc:
                raise MalformedPayloadError(
                    f"body is not a valid {REMOTE_WRITE_V1_MESSAGE} protobuf message "
                    f"(timeseries[{index}]: {exc})"
                ).at("timeseries", index) from exc
            samples = series.samples
            if not samples:
                # A native-histogram series carries no float samples; senders never mix
                # both in one TimeSeries, so this is the only place histograms are counted.
                histograms += len(series.histograms)
                continue
            if series.exemplars:
                exemplars += len(series.exemplars)
            raw_labels = tuple(series.labels)
            key = self._cache.get(raw_labels)
            if key is None:
                key = self._admit(raw_labels, index)
            add_series(key)
            for sample in samples:
                add_timestamp(sample.timestamp)
                add_value(sample.value)
            add_offset(len(values))
            if not series.exemplars and not series.histograms:
                self._remember(encoded, raw_labels, key)
        batch.exemplars_dropped = exemplars
        batch.histograms_dropped = histograms

    def _several_samples(self, batch: DecodedBatch, encoded: bytes) -> bool:
        """The fast path for a series seen before sent with several samples, each with a
        value and a 6-byte timestamp (see `_remember`); False (nothing added) if it is not
        one."""
        n = start = len(encoded)
        while (
            start > 18
            and encoded[start - 18] == 0x12
            and encoded[start - 17] == 16
            and encoded[start - 16] == 0x09
            and encoded[start - 7] == 0x10
        ):
            start -= 18
        key = self._by_label_bytes.get(encoded[:start])
        if key is None:
            return False
        fields = _sample_fields((n - start) // 18)
        unpacked = fields.unpack_from(encoded, start)  # value, varint, value, varint, ...
        timestamps = list(map(self._timestamps.get, unpacked[1::2]))
        if None in timestamps:
            timestamps = [self._timestamp(varint) for varint in unpacked[1::2]]
            if None in timestamps:
                return False
        batch.series.append(key)
        batch.timestamps_ms.extend(timestamps)  # type: ignore[arg-type]  # no None left
        batch.values.extend(unpacked[0::2])
        batch.offsets.append(len(batch.values))
        return True

    def _remember(self, encoded: bytes, raw_labels: Sequence[bytes], key: SeriesKey) -> None:
        """Remember a series' label bytes for the fast path of the next requests.

        The fast path takes a series whose bytes are label bytes remembered here followed
        by sample fields of a fixed shape: each tag 0x12, length 16, the value (tag 0x09, 8
        bytes of double) and the timestamp (tag 0x10, a 6-byte varint: any millisecond time
        from 1971 to 2109); or, for a single sample, length 7 and the timestamp alone
        (proto3 leaves out a zero value). It checks that shape itself; what must hold here
        is that the remembered bytes are exactly a series' label fields (the labels, as
        sent, encoded again): then those bytes followed by such sample fields can only parse
        as that series with those samples, whose values and timestamps sit at fixed places.
        """
        try:
            labels = b"".join([_LABEL_TAGS[len(raw)] + raw for raw in raw_labels])
        except IndexError:
            return  # a label of 128 bytes or more (a longer length prefix): not remembered
        if not encoded.startswith(labels):
            return
        if len(self._by_label_bytes) >= self._cache_size:
            self._by_label_bytes.clear()
        self._by_label_bytes[labels] = key

    def _timestamp(self, varint: bytes) -> int | None:
        """The value of a well-formed 6-byte varint (remembered), else None."""
        if any(byte < 0x80 for byte in varint[:5]) or varint[5] >= 0x80:
            return None
        value = 0
        for shift, byte in enumerate(varint):
            value |= (byte & 0x7F) << (7 * shift)
        if len(self._timestamps) >= _TIMESTAMP_CACHE_SIZE:
            self._timestamps.clear()
        self._timestamps[varint] = value
        return value

    def _admit(self, raw_labels: tuple[bytes, ...], index: int) -> SeriesKey:
        where = f"timeseries[{index}]"
        pairs = []
        for raw in raw_labels:
            try:
                label = pb.Label.FromString(raw)
            except DecodeError as exc:
                raise InvalidSeriesError(f"{where}: label is not valid UTF-8 protobuf").at(
                    "timeseries", index, "labels"
                ) from exc
            pairs.append((label.name, label.value))
        try:
            key = validate_series(pairs, self.limits, where)
        except InvalidSeriesError as exc:
            raise exc.at("timeseries", index, "labels") from None
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[raw_labels] = key
        return key


_DOUBLE = struct.Struct("<d")
_TIMESTAMP_CACHE_SIZE = 100_000


@lru_cache(maxsize=256)
def _sample_fields(count: int) -> struct.Struct:
    """`count` sample fields of the fast path: per field its value and its varint bytes."""
    return struct.Struct("<" + "3xd1x6s" * count)


# TimeSeries field 1 (a Label) starts with its tag and its length, one byte each below 128.
_LABEL_TAGS = [bytes((0x0A, length)) for length in range(128)]


def _check_timestamps(
    batch: DecodedBatch, all_series: Sequence[bytes], bounds: tuple[int, int]
) -> None:
    position = first_out_of_bounds(batch.timestamps_ms, bounds)
    if position is None:
        return
    # Name the sample as the sender numbered it: batch series skip sample-less ones.
    series = bisect_right(batch.offsets, position) - 1
    with_samples = (
        i for i, s in enumerate(all_series) if len(pb.FastTimeSeries.FromString(s).samples)
    )
    index = next(islice(with_samples, series, None))
    sample = position - batch.offsets[series]
    problem = out_of_bounds_problem(batch.timestamps_ms[position], bounds)
    raise SampleOutOfBoundsError(f"timeseries[{index}].samples[{sample}].timestamp: {problem}").at(
        "timeseries", index, "samples", sample, "timestamp"
    )


def _metadata(index: int, message: pb.MetricMetadata) -> MetricMetadata:
    for name in ("metric_family_name", "help", "unit"):
        if "\x00" in getattr(message, name):
            raise InvalidSeriesError(
                f"metadata[{index}].{name}: NUL characters are not allowed"
            ).at("metadata", index, name)
    return MetricMetadata(
        family=message.metric_family_name,
        type=_METRIC_TYPES.get(message.type, "unknown"),
        help=message.help,
        unit=message.unit,
    )


SeriesInput = tuple[Mapping[str, str] | Sequence[tuple[str, str]], Sequence[tuple[int, float]]]


def encode_write_request(
    series: Iterable[SeriesInput],
    *,
    metadata: Iterable[MetricMetadata] = (),
    sort_labels: bool = True,
    compress: bool = True,
) -> bytes:
    """Build a remote write 1.0 body: `(labels, [(timestamp_ms, value), ...])` per series.

    Labels are sorted as Prometheus sends them unless `sort_labels=False` (tests use that
    to send what a sloppy client would). Returns snappy block-compressed bytes by default.
    """
    request = pb.WriteRequest()
    for labels, samples in series:
        message = request.timeseries.add()
        pairs = list(labels.items()) if isinstance(labels, Mapping) else list(labels)
        for name, label_value in sorted(pairs) if sort_labels else pairs:
            message.labels.add(name=name, value=label_value)
        for timestamp, sample_value in samples:
            message.samples.add(timestamp=timestamp, value=sample_value)
    for meta in metadata:
        request.metadata.add(
            type=_METRIC_TYPE_NUMBERS.get(meta.type, pb.MetricMetadata.UNKNOWN),
            metric_family_name=meta.family,
            help=meta.help,
            unit=meta.unit,
        )
    raw = request.SerializeToString()
    return bytes(cramjam.snappy.compress_raw(raw).read()) if compress else raw


def encode_batch(batch: DecodedBatch) -> bytes:
    """Re-encode a decoded batch (round trips, compatibility tests, benchmarks)."""
    return encode_write_request(
        ((key.labels, batch.samples(i)) for i, key in enumerate(batch.series)),
        metadata=batch.metadata,
    )
