"""The columnar form decoded metrics take on their way to the metric store.

Both decoders (remote write, text exposition) produce a `DecodedBatch`: one entry per
series plus flat timestamp/value columns, which is what a COPY into the store wants and far
cheaper to build than one tuple per sample.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import blake2b
from itertools import chain

from orchestrix.adapters.metrics.errors import InvalidSeriesError
from orchestrix.adapters.metrics.limits import IngestLimits

METRIC_NAME_LABEL = "__name__"
STALE_NAN_BITS = 0x7FF0000000000002  # Prometheus' staleness marker, a signalling NaN

LABEL_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
METRIC_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")

Labels = tuple[tuple[str, str], ...]

_SEPARATOR = "\udcff"
# All label names of a series at once, newline-separated: one regex call per series.
_LABEL_NAMES_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*(?:\n[a-zA-Z_][a-zA-Z0-9_]*)*\Z")


def fingerprint(labels: Labels) -> int:
    """Stable 64-bit id of a sorted label set, equal in every process and release.

    BLAKE2b with an 8-byte digest over the UTF-8 bytes `name 0xFF value 0xFF` for each
    label in order (0xFF never occurs in UTF-8, so the encoding is unambiguous), read
    big-endian as a *signed* int64 so it fits a PostgreSQL `bigint` as is. Python's
    `hash()` is salted per process and must not be used for this.
    """
    # "\udcff" becomes the single byte 0xFF under surrogateescape; valid label text never
    # holds a lone surrogate. One join and one encode is ~2x faster than per-label bytes.
    text = _SEPARATOR.join(chain.from_iterable(labels)) + _SEPARATOR
    digest = blake2b(text.encode("utf-8", "surrogateescape"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass(frozen=True, slots=True)
class SeriesKey:
    """A validated series: label pairs sorted by name, with its fingerprint."""

    labels: Labels
    fingerprint: int

    @property
    def metric_name(self) -> str:
        return dict(self.labels)[METRIC_NAME_LABEL]

    def as_dict(self) -> dict[str, str]:
        return dict(self.labels)


@dataclass(frozen=True, slots=True)
class MetricMetadata:
    """TYPE/HELP/UNIT of a metric family, for `/api/v1/metadata`."""

    family: str
    type: str  # counter, gauge, histogram, gaugehistogram, summary, info, stateset, unknown
    help: str = ""
    unit: str = ""


@dataclass(slots=True)
class DecodedBatch:
    """Series plus flat sample columns.

    The samples of `series[i]` are `timestamps_ms[offsets[i]:offsets[i + 1]]` and the
    matching slice of `values`; `len(offsets) == len(series) + 1`. Values are kept bit-exact
    (the staleness NaN survives). A series may appear more than once if a sender repeats it.
    """

    series: list[SeriesKey] = field(default_factory=list)
    offsets: list[int] = field(default_factory=lambda: [0])
    timestamps_ms: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    metadata: list[MetricMetadata] = field(default_factory=list)
    exemplars_dropped: int = 0  # exemplars are not stored (yet)
    histograms_dropped: int = 0  # native histograms are not stored (yet)

    @property
    def sample_count(self) -> int:
        return len(self.values)

    def samples(self, index: int) -> list[tuple[int, float]]:
        lo, hi = self.offsets[index], self.offsets[index + 1]
        return list(zip(self.timestamps_ms[lo:hi], self.values[lo:hi], strict=True))

    def rows(self) -> Iterator[tuple[int, int, float]]:
        """(fingerprint, timestamp_ms, value) per sample, in batch order."""
        for index, key in enumerate(self.series):
            lo, hi = self.offsets[index], self.offsets[index + 1]
            fp = key.fingerprint
            for position in range(lo, hi):
                yield fp, self.timestamps_ms[position], self.values[position]


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


def validate_series(
    pairs: Sequence[tuple[str, str]], limits: IngestLimits, where: str
) -> SeriesKey:
    """Check one series against the data model and limits; return it sorted and keyed.

    Labels with an empty value are dropped: Prometheus treats them as absent, so `{a=""}`
    and `{}` must be the same series. `where` prefixes error messages ("series 12").
    """
    kept = sorted(pairs)
    names, values = zip(*kept, strict=True) if kept else ((), ())
    if "" in values:
        kept = [(name, value) for name, value in kept if value]
        names, values = zip(*kept, strict=True) if kept else ((), ())
    # Fast path: every check at C speed; only a failing series walks label by label.
    if (
        len(kept) > limits.max_labels_per_series
        or METRIC_NAME_LABEL not in names
        or not _LABEL_NAMES_RE.match("\n".join(names))
        or len(set(names)) != len(names)
        or max(map(len, names)) > limits.max_label_name_bytes
        or 4 * max(map(len, values)) > limits.max_label_value_bytes
        or "\x00" in "".join(values)
    ):
        _explain_invalid(kept, limits, where)
    labels = tuple(kept)
    metric_name = dict(labels)[METRIC_NAME_LABEL]
    if not METRIC_NAME_RE.match(metric_name):
        raise InvalidSeriesError(f'{where}: metric name "{metric_name}" is invalid')
    return SeriesKey(labels, fingerprint(labels))


def _explain_invalid(kept: Sequence[tuple[str, str]], limits: IngestLimits, where: str) -> None:
    """Raise the error for the first problem found; return if the series is in fact fine.

    The fast path's value-length test is conservative (4 bytes per character), so a long
    non-ASCII value can land here and pass.
    """
    if len(kept) > limits.max_labels_per_series:
        raise InvalidSeriesError(
            f"{where}: {len(kept)} labels exceed the limit of {limits.max_labels_per_series}"
        )
    previous = None
    for name, value in kept:
        if name == previous:
            raise InvalidSeriesError(f'{where}: duplicate label name "{name}"')
        previous = name
        if not LABEL_NAME_RE.match(name):
            raise InvalidSeriesError(f'{where}: label name "{name}" is invalid')
        if len(name) > limits.max_label_name_bytes:
            raise InvalidSeriesError(
                f'{where}: label name "{name[:64]}..." is longer than '
                f"{limits.max_label_name_bytes} bytes"
            )
        if "\x00" in value:
            # PostgreSQL text cannot hold NUL; Prometheus' own TSDB would store it, but a
            # value nobody can type in a selector is a sender bug worth reporting.
            raise InvalidSeriesError(f'{where}: value of label "{name}" contains a NUL character')
        if _utf8_len(value) > limits.max_label_value_bytes:
            raise InvalidSeriesError(
                f'{where}: value of label "{name}" is longer than '
                f"{limits.max_label_value_bytes} bytes"
            )
    if previous is None or all(name != METRIC_NAME_LABEL for name, _ in kept):
        raise InvalidSeriesError(f"{where}: no metric name (label __name__ is missing)")


def first_out_of_bounds(timestamps: Sequence[int], bounds: tuple[int, int]) -> int | None:
    """Position of the first timestamp outside the inclusive `bounds`, or None.

    min/max run at C speed; only a batch that fails walks sample by sample.
    """
    low, high = bounds
    if not timestamps or (min(timestamps) >= low and max(timestamps) <= high):
        return None
    return next(i for i, t in enumerate(timestamps) if t < low or t > high)


def _iso(ms: int) -> str:
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):
        return "out of any calendar range"


def out_of_bounds_problem(timestamp_ms: int, bounds: tuple[int, int]) -> str:
    """Why a timestamp is refused, for a problem detail."""
    low, high = bounds
    if abs(timestamp_ms) >= 2**63:
        return "it does not fit in an int64"
    if timestamp_ms < low:
        return f"{timestamp_ms} ms ({_iso(timestamp_ms)}) is before {_iso(low)}"
    return (
        f"{timestamp_ms} ms ({_iso(timestamp_ms)}) is after {_iso(high)}, the latest accepted "
        "(the server's clock plus a short grace period)"
    )
