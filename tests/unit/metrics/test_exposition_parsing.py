"""Prometheus text format and OpenMetrics imports become the same batch as remote write."""

from __future__ import annotations

import math

import pytest

from orchestrix.adapters.metrics import (
    IngestLimits,
    InvalidExpositionError,
    MetricMetadata,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    parse_exposition,
)

NOW = 1_790_000_000_000
TEXT = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"

NODE_EXPORTER_PAGE = """\
# HELP go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 2.4879e-05
go_gc_duration_seconds{quantile="0.5"} 4.1263e-05
go_gc_duration_seconds{quantile="1"} 0.000587338
go_gc_duration_seconds_sum 0.012046655
go_gc_duration_seconds_count 231
# HELP http_request_duration_seconds Request latency.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{handler="/api",le="0.1"} 120
http_request_duration_seconds_bucket{handler="/api",le="0.5"} 131
http_request_duration_seconds_bucket{handler="/api",le="+Inf"} 133
http_request_duration_seconds_sum{handler="/api"} 17.5
http_request_duration_seconds_count{handler="/api"} 133
# HELP node_filesystem_avail_bytes Filesystem space available to non-root users in bytes.
# TYPE node_filesystem_avail_bytes gauge
node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 4.1218048e+10
node_filesystem_avail_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 8.30107648e+08
# A free-form comment the text format allows.
# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1.78999e+09
# TYPE temperature_celsius untyped
temperature_celsius{room="lab \\"A\\"",path="C:\\\\tmp",note="two\\nlines"} -Inf 1789999999000
up NaN
scrape_samples_scraped +Inf
"""


def test_a_real_metrics_page_parses_into_series_samples_and_metadata() -> None:
    batch = parse_exposition(NODE_EXPORTER_PAGE.encode(), content_type=TEXT, now_ms=NOW)

    names = [key.metric_name for key in batch.series]
    assert names[:5] == ["go_gc_duration_seconds"] * 3 + [
        "go_gc_duration_seconds_sum",
        "go_gc_duration_seconds_count",
    ]
    assert batch.series[5].as_dict() == {
        "__name__": "http_request_duration_seconds_bucket",
        "handler": "/api",
        "le": "0.1",
    }
    assert batch.series[7].as_dict()["le"] == "+Inf"
    assert len(batch.series) == 16
    assert batch.values[:5] == [2.4879e-05, 4.1263e-05, 0.000587338, 0.012046655, 231.0]
    assert batch.values[11] == 8.30107648e08
    assert all(ts == NOW for ts in batch.timestamps_ms[:13])
    assert {m.family: m.type for m in batch.metadata} == {
        "go_gc_duration_seconds": "summary",
        "http_request_duration_seconds": "histogram",
        "node_filesystem_avail_bytes": "gauge",
        "process_start_time_seconds": "gauge",
        "temperature_celsius": "unknown",
    }
    assert batch.metadata[1].help == "Request latency."


def test_escaped_label_values_explicit_timestamps_and_special_values() -> None:
    batch = parse_exposition(NODE_EXPORTER_PAGE, content_type=TEXT, now_ms=NOW)

    temperature = batch.series[13]
    assert temperature.as_dict() == {
        "__name__": "temperature_celsius",
        "note": "two\nlines",
        "path": "C:\\tmp",
        "room": 'lab "A"',
    }
    assert batch.samples(13) == [(1789999999000, -math.inf)]
    assert math.isnan(batch.values[14])
    assert batch.values[15] == math.inf


def test_samples_of_one_series_on_several_lines_are_grouped_for_backfill() -> None:
    text = 'load{host="a"} 1 1000\nload{host="b"} 5 1000\nload{host="a"} 2 2000\n'

    batch = parse_exposition(text, content_type=TEXT, now_ms=NOW)

    assert [key.as_dict()["host"] for key in batch.series] == ["a", "b"]
    assert batch.samples(0) == [(1000, 1.0), (2000, 2.0)]
    assert batch.offsets == [0, 2, 3]


def test_openmetrics_timestamps_are_seconds_and_units_and_exemplars_are_handled() -> None:
    text = (
        "# TYPE rpc_seconds histogram\n"
        "# UNIT rpc_seconds seconds\n"
        '# HELP rpc_seconds RPC latency \\"p\\".\n'
        'rpc_seconds_bucket{le="0.5"} 3 1789999999.123 # {trace_id="abc"} 0.2 1789999998.5\n'
        'rpc_seconds_bucket{le="+Inf"} 4 1789999999\n'
        "rpc_seconds_count 4\n"
        "# EOF\n"
    )

    batch = parse_exposition(text, content_type=OPENMETRICS, now_ms=NOW)

    assert batch.timestamps_ms == [1789999999123, 1789999999000, NOW]
    assert batch.exemplars_dropped == 1
    assert batch.metadata == [
        MetricMetadata("rpc_seconds", "histogram", 'RPC latency "p".', "seconds")
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('up{job="a"} 1\nup{1bad="x"} 1\n', 'line 2: label name "1bad" is invalid'),
        ('up{job="a",job="b"} 1\n', 'line 1: duplicate label name "job"'),
        ("up\n", "line 1: expected `value [timestamp]`"),
        ("up 1 2 3\n", "line 1: expected `value [timestamp]`"),
        ("up one\n", 'line 1: value "one" is not a number'),
        ("up 1_000\n", 'line 1: value "1_000" is not a number'),
        ("up 1 1.5\n", 'line 1: timestamp "1.5" is not integer ms'),
        ('up{job="a\\x"} 1\n', "line 1: invalid escape sequence \\x"),
        ('up{job="a" 1\n', "line 1: expected , or } at column 12"),
        ("# TYPE up thing\n", 'line 1: unknown metric type "thing"'),
        ("up-down 1\n", "line 1: invalid character after 'up'"),
        ("\n\n{} 1\n", "line 3: expected a metric name"),
    ],
)
def test_malformed_text_names_the_line_and_the_problem(text: str, message: str) -> None:
    with pytest.raises(InvalidExpositionError) as caught:
        parse_exposition(text, content_type=TEXT, now_ms=NOW)

    assert caught.value.status == 400
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("up 1\n", "line 1: missing # EOF"),
        ("up 1\n# EOF\nup 2\n", "line 3: content after # EOF"),
        ("up 1\n\n# EOF\n", "line 2: empty line"),
    ],
)
def test_openmetrics_requires_a_final_eof(text: str, message: str) -> None:
    with pytest.raises(InvalidExpositionError, match=message):
        parse_exposition(text, content_type=OPENMETRICS, now_ms=NOW)


def test_other_content_types_are_refused_with_415() -> None:
    with pytest.raises(UnsupportedMediaTypeError) as caught:
        parse_exposition("up 1\n", content_type="application/json", now_ms=NOW)

    assert caught.value.status == 415


def test_oversized_imports_are_refused_with_413() -> None:
    limits = IngestLimits(max_samples_per_request=2)

    with pytest.raises(PayloadTooLargeError, match="more than 2 samples"):
        parse_exposition("a 1\nb 1\nc 1\n", content_type=TEXT, now_ms=NOW, limits=limits)
    with pytest.raises(PayloadTooLargeError, match="body is 12 bytes"):
        parse_exposition(
            "a 1\nb 1\nc 1\n", content_type=None, now_ms=NOW, limits=IngestLimits(max_body_bytes=11)
        )
