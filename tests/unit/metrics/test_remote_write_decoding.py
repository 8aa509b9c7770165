"""Remote write 1.0 bodies decode to the columnar batch, or fail with a typed error."""

from __future__ import annotations

import math
import struct

import cramjam
import pytest

from orchestrix.adapters.metrics import (
    STALE_NAN_BITS,
    IngestLimits,
    InvalidSeriesError,
    MalformedPayloadError,
    MetricMetadata,
    PayloadTooLargeError,
    RemoteWriteDecoder,
    UnsupportedMediaTypeError,
    encode_batch,
    encode_write_request,
    fingerprint,
)
from orchestrix.adapters.metrics.prompb import remote_pb2 as pb

T0 = 1_790_000_000_000
STALE = struct.unpack("<d", struct.pack("<Q", STALE_NAN_BITS))[0]


def _bits(value: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def _snappy(raw: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(raw).read())


def test_decoded_batch_holds_every_series_and_sample_in_order() -> None:
    # given two series as Prometheus would send them
    body = encode_write_request(
        [
            (
                {"__name__": "up", "job": "node", "instance": "a:9100"},
                [(T0, 1.0), (T0 + 15_000, 0.0)],
            ),
            ({"__name__": "http_requests_total", "code": "200"}, [(T0, 1027.0)]),
        ]
    )

    # when
    batch = RemoteWriteDecoder().decode(
        body, content_type="application/x-protobuf", content_encoding="snappy"
    )

    # then
    assert [key.labels for key in batch.series] == [
        (("__name__", "up"), ("instance", "a:9100"), ("job", "node")),
        (("__name__", "http_requests_total"), ("code", "200")),
    ]
    assert batch.offsets == [0, 2, 3]
    assert batch.timestamps_ms == [T0, T0 + 15_000, T0]
    assert batch.values == [1.0, 0.0, 1027.0]
    assert batch.samples(0) == [(T0, 1.0), (T0 + 15_000, 0.0)]
    assert list(batch.rows())[2] == (batch.series[1].fingerprint, T0, 1027.0)


def test_staleness_marker_survives_decoding_bit_for_bit() -> None:
    body = encode_write_request([({"__name__": "up"}, [(T0, STALE), (T0 + 1, math.nan)])])

    batch = RemoteWriteDecoder().decode(body)

    assert _bits(batch.values[0]) == STALE_NAN_BITS
    assert _bits(batch.values[1]) == _bits(math.nan)
    assert _bits(batch.values[0]) != _bits(batch.values[1])


def test_unsorted_labels_are_sorted_and_give_the_same_fingerprint() -> None:
    labels = [("job", "node"), ("__name__", "up"), ("instance", "a")]
    body = encode_write_request([(labels, [(T0, 1.0)])], sort_labels=False)

    key = RemoteWriteDecoder().decode(body).series[0]

    assert key.labels == (("__name__", "up"), ("instance", "a"), ("job", "node"))
    assert key.fingerprint == fingerprint(key.labels)


def test_fingerprint_is_a_documented_stable_value() -> None:
    # blake2b-64 over b"__name__\xffup\xffjob\xffnode\xff", big-endian signed
    labels = (("__name__", "up"), ("job", "node"))
    from hashlib import blake2b

    expected = int.from_bytes(
        blake2b(b"__name__\xffup\xffjob\xffnode\xff", digest_size=8).digest(), "big", signed=True
    )
    assert fingerprint(labels) == expected
    assert -(2**63) <= fingerprint(labels) < 2**63


def test_empty_label_values_are_treated_as_absent() -> None:
    body = encode_write_request([({"__name__": "up", "env": ""}, [(T0, 1.0)])])

    key = RemoteWriteDecoder().decode(body).series[0]

    assert key.labels == (("__name__", "up"),)


def test_repeated_requests_reuse_cached_series_keys() -> None:
    decoder = RemoteWriteDecoder(cache_size=1)
    first_body = encode_write_request([({"__name__": "up"}, [(T0, 1.0)])])
    other_body = encode_write_request([({"__name__": "down"}, [(T0, 1.0)])])

    first = decoder.decode(first_body).series[0]
    again = decoder.decode(first_body).series[0]
    decoder.decode(other_body)  # evicts: the cache holds one entry
    after_eviction = decoder.decode(first_body).series[0]

    assert again is first
    assert after_eviction == first and after_eviction is not first


def test_metadata_and_dropped_histograms_and_exemplars_are_reported() -> None:
    request = pb.WriteRequest()
    floats = request.timeseries.add()
    floats.labels.add(name="__name__", value="rpc_seconds_count")
    floats.samples.add(timestamp=T0, value=3.0)
    exemplar = floats.exemplars.add(value=0.2, timestamp=T0)
    exemplar.labels.add(name="trace_id", value="abc")
    native = request.timeseries.add()
    native.labels.add(name="__name__", value="rpc_seconds")
    native.histograms.add(count_int=3, sum=0.6, schema=3, timestamp=T0)
    request.metadata.add(
        type=pb.MetricMetadata.HISTOGRAM, metric_family_name="rpc_seconds", help="RPC latency."
    )

    batch = RemoteWriteDecoder().decode(_snappy(request.SerializeToString()))

    assert [key.metric_name for key in batch.series] == ["rpc_seconds_count"]
    assert batch.exemplars_dropped == 1
    assert batch.histograms_dropped == 1
    assert batch.metadata == [MetricMetadata("rpc_seconds", "histogram", "RPC latency.", "")]


def test_encode_batch_round_trips_a_decoded_batch() -> None:
    body = encode_write_request(
        [
            ({"__name__": "a", "x": "1"}, [(T0, 1.5), (T0 + 1, -2.0)]),
            ({"__name__": "b"}, [(0, 0.0)]),
        ],
        metadata=[MetricMetadata("a", "gauge", "An a.", "seconds")],
    )
    decoder = RemoteWriteDecoder()
    batch = decoder.decode(body)

    assert decoder.decode(encode_batch(batch)) == batch


def test_bad_snappy_is_rejected_with_400() -> None:
    with pytest.raises(MalformedPayloadError) as caught:
        RemoteWriteDecoder().decode(b"\x10this is not snappy")

    assert caught.value.status == 400
    assert "snappy" in str(caught.value)


def test_bad_protobuf_is_rejected_with_400() -> None:
    with pytest.raises(MalformedPayloadError) as caught:
        RemoteWriteDecoder().decode(_snappy(b"\x0a\x05\x0a\x03\x0a"))

    assert caught.value.status == 400
    assert "prometheus.WriteRequest" in str(caught.value)


def test_label_value_that_is_not_utf8_is_rejected() -> None:
    # TimeSeries{labels: [Label{name: "__name__", value: b"\xff"}]}
    label = b"\x0a\x08__name__\x12\x01\xff"
    series = b"\x0a" + bytes([len(label)]) + label + b"\x12\x02\x10\x01"
    request = b"\x0a" + bytes([len(series)]) + series

    with pytest.raises(InvalidSeriesError, match=r"timeseries\[0\]: label is not valid UTF-8"):
        RemoteWriteDecoder().decode(_snappy(request))


def test_compressed_body_over_the_limit_is_rejected_with_413() -> None:
    body = encode_write_request([({"__name__": "up"}, [(T0, 1.0)])])

    with pytest.raises(PayloadTooLargeError) as caught:
        RemoteWriteDecoder(IngestLimits(max_body_bytes=len(body) - 1)).decode(body)

    assert caught.value.status == 413


def test_decompressed_size_over_the_limit_is_refused_before_decompressing() -> None:
    body = _snappy(b"\x00" * 10_000)  # compresses to a few hundred bytes

    with pytest.raises(PayloadTooLargeError, match="decompresses to 10000 bytes"):
        RemoteWriteDecoder(IngestLimits(max_decompressed_bytes=9_999)).decode(body)


def test_too_many_series_or_samples_is_rejected_with_413() -> None:
    body = encode_write_request(
        [({"__name__": f"m{i}"}, [(T0, 1.0), (T0 + 1, 2.0)]) for i in range(3)]
    )

    with pytest.raises(PayloadTooLargeError, match="3 series; the limit is 2"):
        RemoteWriteDecoder(IngestLimits(max_series_per_request=2)).decode(body)
    with pytest.raises(PayloadTooLargeError, match="6 samples; the limit is 5"):
        RemoteWriteDecoder(IngestLimits(max_samples_per_request=5)).decode(body)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"job": "node"}, "timeseries[1]: no metric name (label __name__ is missing)"),
        ({"__name__": "up", "1bad": "x"}, 'timeseries[1]: label name "1bad" is invalid'),
        ({"__name__": "up", "bad-name": "x"}, 'timeseries[1]: label name "bad-name" is invalid'),
        ({"__name__": "up{x}"}, 'timeseries[1]: metric name "up{x}" is invalid'),
        (
            {"__name__": "up", "v": "x" * 2049},
            'timeseries[1]: value of label "v" is longer than 2048',
        ),
        ({"__name__": "up", "n" * 1025: "x"}, 'timeseries[1]: label name "nnnn'),
        (
            {"__name__": "up", **{f"l{i}": "x" for i in range(30)}},
            "timeseries[1]: 31 labels exceed",
        ),
        ({"__name__": "up", "v": "a\x00b"}, 'timeseries[1]: value of label "v" contains a NUL'),
    ],
)
def test_invalid_series_is_rejected_with_400_naming_it(
    labels: dict[str, str], message: str
) -> None:
    body = encode_write_request([({"__name__": "ok"}, [(T0, 1.0)]), (labels, [(T0, 1.0)])])

    with pytest.raises(InvalidSeriesError) as caught:
        RemoteWriteDecoder().decode(body)

    assert caught.value.status == 400
    assert str(caught.value).startswith(message)


def test_duplicate_label_names_are_rejected() -> None:
    body = encode_write_request(
        [([("__name__", "up"), ("job", "a"), ("job", "b")], [(T0, 1.0)])], sort_labels=False
    )

    with pytest.raises(InvalidSeriesError, match=r'timeseries\[0\]: duplicate label name "job"'):
        RemoteWriteDecoder().decode(body)


def test_long_non_ascii_value_within_the_byte_limit_is_accepted() -> None:
    value = "é" * 1000  # 2000 bytes, under the 2048-byte limit
    body = encode_write_request([({"__name__": "up", "v": value}, [(T0, 1.0)])])

    assert RemoteWriteDecoder().decode(body).series[0].as_dict()["v"] == value


def test_remote_write_2_is_refused_with_415_and_says_what_to_configure() -> None:
    body = encode_write_request([({"__name__": "up"}, [(T0, 1.0)])])

    with pytest.raises(UnsupportedMediaTypeError) as caught:
        RemoteWriteDecoder().decode(
            body,
            content_type="application/x-protobuf;proto=io.prometheus.write.v2.Request",
            content_encoding="snappy",
        )

    assert caught.value.status == 415
    assert "remote write 2.0" in str(caught.value)
    assert "protobuf_message: prometheus.WriteRequest" in str(caught.value)


@pytest.mark.parametrize(
    ("content_type", "content_encoding"),
    # An empty Content-Encoding is a header sent blank, not the header left out.
    [
        ("application/json", "snappy"),
        ("application/x-protobuf", "gzip"),
        ("application/x-protobuf", ""),
    ],
)
def test_other_media_types_are_refused_with_415(content_type: str, content_encoding: str) -> None:
    body = encode_write_request([({"__name__": "up"}, [(T0, 1.0)])])

    with pytest.raises(UnsupportedMediaTypeError):
        RemoteWriteDecoder().decode(
            body, content_type=content_type, content_encoding=content_encoding
        )


def test_explicit_remote_write_1_proto_parameter_is_accepted() -> None:
    body = encode_write_request([({"__name__": "up"}, [(T0, 1.0)])])

    batch = RemoteWriteDecoder().decode(
        body, content_type="application/x-protobuf; proto=prometheus.WriteRequest"
    )

    assert batch.sample_count == 1


def test_a_malformed_series_inside_a_well_framed_request_is_rejected_with_400() -> None:
    # WriteRequest{timeseries: [<3 bytes that end inside a field>]}
    with pytest.raises(MalformedPayloadError) as caught:
        RemoteWriteDecoder().decode(_snappy(b"\x0a\x03\x0a\x05\x0a"))

    assert caught.value.status == 400
    assert "timeseries[0]" in str(caught.value)


def test_a_known_series_that_now_carries_an_exemplar_still_has_it_counted() -> None:
    # Given a series seen before (one sample, the shape every scrape has)
    decoder = RemoteWriteDecoder()
    decoder.decode(encode_write_request([({"__name__": "rpc_total"}, [(T0, 1.0)])]))

    # When it comes again with an exemplar after its sample
    request = pb.WriteRequest()
    series = request.timeseries.add()
    series.labels.add(name="__name__", value="rpc_total")
    series.samples.add(timestamp=T0 + 15_000, value=2.0)
    series.exemplars.add(value=0.2, timestamp=T0 + 15_000).labels.add(name="trace_id", value="a")
    batch = decoder.decode(_snappy(request.SerializeToString()))

    # Then the sample is read and the exemplar counted as dropped
    assert batch.samples(0) == [(T0 + 15_000, 2.0)]
    assert batch.exemplars_dropped == 1


_FAST_PATH_VALUES = [1.0, 0.0, -0.0, math.inf, -math.nan, STALE, 5e-324, -1.5e308]


@pytest.mark.parametrize("timestamp", [T0, 0, -1, 2**35, 2**35 - 1, 2**42 - 1, 2**42, T0 + 1])
@pytest.mark.parametrize("value", _FAST_PATH_VALUES)
def test_series_seen_before_decode_exactly_as_a_fresh_decoder_reads_them(
    timestamp: int, value: float
) -> None:
    # Given a decoder that has seen these series with other samples
    labels = [{"__name__": "up", "job": "node", "i": str(i)} for i in range(3)]
    warm = RemoteWriteDecoder()
    warm.decode(encode_write_request([(s, [(T0 - 15_000, 7.0)]) for s in labels]))

    # When their next scrape comes, one series with two samples
    body = encode_write_request(
        [
            (labels[0], [(timestamp, value)]),
            (labels[1], [(timestamp, value), (timestamp + 1, 3.0)]),
            (labels[2], [(timestamp, value)]),
        ]
    )
    seen, fresh = warm.decode(body), RemoteWriteDecoder().decode(body)

    # Then the warm decoder reads what a fresh one reads, value bits included
    assert seen.series == fresh.series
    assert seen.offsets == fresh.offsets
    assert seen.timestamps_ms == fresh.timestamps_ms
    assert [_bits(v) for v in seen.values] == [_bits(v) for v in fresh.values]
