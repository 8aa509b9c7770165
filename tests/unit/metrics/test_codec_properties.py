"""Round-trip properties: whatever valid series go in come back out unchanged."""

from __future__ import annotations

import math
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrix.adapters.metrics import RemoteWriteDecoder, encode_write_request, parse_exposition

label_names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,15}", fullmatch=True).filter(
    lambda name: name != "__name__"
)
# Any Unicode but NUL, which the store cannot hold (and the decoder refuses).
label_values = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=30,
)
metric_names = st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,20}", fullmatch=True)
values = st.floats(allow_nan=True, allow_infinity=True) | st.integers(0, 2**64 - 1).map(
    lambda bits: struct.unpack("<d", struct.pack("<Q", bits))[0]
)
samples = st.lists(st.tuples(st.integers(-(2**62), 2**62), values), min_size=1, max_size=5)
series = st.tuples(metric_names, st.dictionaries(label_names, label_values, max_size=6), samples)
# Millisecond times of the years 1971-2109 (6-byte varints, the decoder's fast path).
scrapes = st.lists(st.tuples(st.integers(2**35, 2**42 - 1), values), min_size=1, max_size=5)


def _bits(value: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", value))[0]


@settings(max_examples=100, deadline=None)
@given(st.lists(series, min_size=1, max_size=8))
def test_remote_write_round_trip_preserves_labels_timestamps_and_value_bits(
    generated: list[tuple[str, dict[str, str], list[tuple[int, float]]]],
) -> None:
    body = encode_write_request(
        ({"__name__": name, **labels}, sample_list) for name, labels, sample_list in generated
    )

    batch = RemoteWriteDecoder().decode(body)

    assert len(batch.series) == len(generated)
    for index, (name, labels, sample_list) in enumerate(generated):
        assert batch.series[index].as_dict() == {"__name__": name, **labels}
        decoded = batch.samples(index)
        assert [ts for ts, _ in decoded] == [ts for ts, _ in sample_list]
        # Zero may come back as +0.0 or -0.0 (whether proto3 writes -0.0 depends on the
        # runtime); the two are the same sample value. Every other value keeps its bits.
        assert [0 if v == 0 else _bits(v) for _, v in decoded] == [
            0 if v == 0 else _bits(v) for _, v in sample_list
        ]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        series, min_size=1, max_size=8, unique_by=lambda s: (s[0], tuple(sorted(s[1].items())))
    )
)
def test_text_format_round_trip_matches_the_remote_write_decoding(
    generated: list[tuple[str, dict[str, str], list[tuple[int, float]]]],
) -> None:
    lines = []
    for name, labels, sample_list in generated:
        rendered = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
        for timestamp, value in sample_list:
            lines.append(f"{name}{{{rendered}}} {value!r} {timestamp}")
    text = "\n".join(lines) + "\n"
    wire = encode_write_request(
        ({"__name__": name, **labels}, sample_list) for name, labels, sample_list in generated
    )

    parsed = parse_exposition(text, content_type="text/plain", now_ms=0)
    decoded = RemoteWriteDecoder().decode(wire)

    assert parsed.series == decoded.series
    assert parsed.offsets == decoded.offsets
    assert parsed.timestamps_ms == decoded.timestamps_ms
    for mine, theirs in zip(parsed.values, decoded.values, strict=True):
        assert mine == theirs or (math.isnan(mine) and math.isnan(theirs))


@settings(max_examples=100, deadline=None)
@given(st.lists(series, min_size=1, max_size=8), st.data())
def test_a_decoder_that_saw_the_series_reads_the_next_request_as_a_fresh_one_does(
    generated: list[tuple[str, dict[str, str], list[tuple[int, float]]]], data: st.DataObject
) -> None:
    # Given a decoder that has decoded these series once (so that it knows their bytes)
    labels = [{"__name__": name, **extra} for name, extra, _ in generated]
    warm = RemoteWriteDecoder()
    warm.decode(encode_write_request(zip(labels, (s for _, _, s in generated), strict=True)))

    # When the same series come again with other samples, mostly as Prometheus sends them
    later = [data.draw(scrapes | samples) for _ in labels]
    body = encode_write_request(zip(labels, later, strict=True))
    seen, fresh = warm.decode(body), RemoteWriteDecoder().decode(body)

    # Then it reads exactly what a decoder seeing them for the first time reads
    assert seen.series == fresh.series
    assert seen.offsets == fresh.offsets
    assert seen.timestamps_ms == fresh.timestamps_ms
    assert [_bits(v) for v in seen.values] == [_bits(v) for v in fresh.values]
