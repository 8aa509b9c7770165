"""The committed protobuf code keeps Prometheus' field numbers and loads on our runtime."""

from __future__ import annotations

import pytest

from orchestrix.adapters.metrics.prompb import remote_pb2 as pb


@pytest.mark.parametrize(
    ("message", "fields"),
    [
        (pb.WriteRequest, {"timeseries": 1, "metadata": 3}),
        (pb.FastWriteRequest, {"timeseries": 1, "metadata": 3}),
        (pb.TimeSeries, {"labels": 1, "samples": 2, "exemplars": 3, "histograms": 4}),
        (pb.FastTimeSeries, {"labels": 1, "samples": 2, "exemplars": 3, "histograms": 4}),
        (pb.Label, {"name": 1, "value": 2}),
        (pb.Sample, {"value": 1, "timestamp": 2}),
        (pb.MetricMetadata, {"type": 1, "metric_family_name": 2, "help": 4, "unit": 5}),
    ],
)
def test_field_numbers_match_upstream_prompb(message: type, fields: dict[str, int]) -> None:
    numbers = {f.name: f.number for f in message.DESCRIPTOR.fields}  # type: ignore[attr-defined]
    assert numbers == fields


def test_fast_variant_reads_what_the_standard_message_writes() -> None:
    request = pb.WriteRequest()
    series = request.timeseries.add()
    series.labels.add(name="__name__", value="up")
    series.samples.add(value=1.0, timestamp=5)

    fast = pb.FastWriteRequest.FromString(request.SerializeToString())

    label = pb.Label.FromString(fast.timeseries[0].labels[0])
    assert (label.name, label.value) == ("__name__", "up")
    assert fast.timeseries[0].samples[0].timestamp == 5
