"""Remote write decode throughput: Orchestrix's decoder versus a straightforward one.

The reference decoder is what one writes first: parse the standard `WriteRequest` (string
labels) with the same upb runtime and emit one `(labels, timestamp, value)` tuple per
sample. Both run in this process on one core, on the same bodies.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable

import cramjam

from orchestrix.adapters.metrics import RemoteWriteDecoder, encode_write_request
from orchestrix.adapters.metrics.prompb import remote_pb2 as pb

T0 = 1_790_000_000_000
REPEATS = 7
Row = tuple[tuple[tuple[str, str], ...], int, float]

_DESCRIPTION = f"""
Time to turn one snappy-compressed remote write 1.0 body into the columnar batch the metric
store copies (decompress + protobuf parse + validation + columns): median CPU time of
{REPEATS} runs, one core. The reference parses the standard `WriteRequest` with the same upb
runtime and builds one `(labels, timestamp, value)` tuple per sample, without validation.
"Warm" is the steady state of a Lambda container: Prometheus resends the same series every
scrape, and the decoder caches validated series by their raw label bytes; a series seen
before with its samples in the usual shape (a value and a millisecond timestamp each) is
read from its encoded bytes without a message object per series or sample (the request is
the same body again here: the samples' values are read all the same). 10,000 × 10 is the
throughput target shape (goal ≥ 1 M samples/s); 2,000 × 1 is what Prometheus 3.x sends in
steady state, where per-series cost dominates.
"""


def _body(series: int, samples: int) -> bytes:
    """Series shaped like node_exporter's: 7 labels, a few hundred distinct names."""
    return encode_write_request(
        (
            {
                "__name__": f"node_metric_{i % 300}",
                "instance": f"10.0.{i % 50}.{i % 200}:9100",
                "job": "node",
                "cpu": str(i % 16),
                "mode": ("user", "system", "idle", "iowait")[i % 4],
                "env": "prod",
                "series": str(i),
            },
            [(T0 + j * 15_000, i * 0.25 + j) for j in range(samples)],
        )
        for i in range(series)
    )


def _reference(body: bytes) -> list[Row]:
    request = pb.WriteRequest.FromString(cramjam.snappy.decompress_raw(body).read())
    rows: list[Row] = []
    for series in request.timeseries:
        labels = tuple(sorted((label.name, label.value) for label in series.labels))
        rows.extend((labels, sample.timestamp, sample.value) for sample in series.samples)
    return rows


def _median_seconds(
    action: Callable[[], object], setup: Callable[[], object] | None = None
) -> float:
    # CPU time of this process: the figure is per core and does not move when other
    # processes share the machine. The collector runs before, not during, each run.
    timings = []
    for _ in range(REPEATS):
        if setup is not None:
            setup()
        gc.collect()
        start = time.process_time()
        action()
        timings.append(time.process_time() - start)
    return statistics.median(timings)


def _measure(series: int, samples: int) -> list[str]:
    body = _body(series, samples)
    total = series * samples
    warm = RemoteWriteDecoder()
    warm.decode(body)
    decoders: list[RemoteWriteDecoder] = []

    def fresh() -> None:
        decoders[:] = [RemoteWriteDecoder()]

    reference = _median_seconds(lambda: _reference(body))
    cold = _median_seconds(lambda: decoders[0].decode(body), setup=fresh)
    hot = _median_seconds(lambda: warm.decode(body))
    shape = f"{series:,} series × {samples} sample{'s' if samples > 1 else ''}"
    size = f"{len(body) / 1e6:.2f} MB"

    def row(name: str, seconds: float) -> str:
        return (
            f"| {shape} ({size}) | {name} | {seconds * 1e3:.1f} ms | "
            f"{total / seconds / 1e6:.2f} M | {reference / seconds:.2f}× |"
        )

    return [
        row("reference (string labels, per-sample tuples)", reference),
        row("Orchestrix, first request (empty series cache)", cold),
        row("Orchestrix, warm (series seen before)", hot),
    ]


def run() -> str:
    lines = [
        "## Remote write decoding",
        "",
        " ".join(_DESCRIPTION.split()),
        "",
        "| request | decoder | time | samples/s | vs reference |",
        "|---|---|---:|---:|---:|",
    ]
    lines += _measure(10_000, 10)
    lines += _measure(2_000, 1)
    return "\n".join(lines) + "\n"
