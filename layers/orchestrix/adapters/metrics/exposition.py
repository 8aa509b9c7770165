"""Prometheus text format (0.0.4) and OpenMetrics 1.0 parser for metric imports.

Used by `POST /api/v1/metrics/import` (scripts, backfill). Histograms and summaries come
out as their plain sample series (`_bucket{le=...}`, `_sum`, `_count`); exemplars are
dropped and counted. Timestamps are milliseconds in the text format and seconds in
OpenMetrics; a sample without one gets the caller's `now_ms`.
"""

from __future__ import annotations

import math
import re

from orchestrix.adapters.metrics.batch import (
    LABEL_NAME_RE,
    METRIC_NAME_LABEL,
    DecodedBatch,
    MetricMetadata,
    SeriesKey,
    out_of_bounds_problem,
    validate_series,
)
from orchestrix.adapters.metrics.errors import (
    InvalidExpositionError,
    InvalidSeriesError,
    MalformedPayloadError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from orchestrix.adapters.metrics.limits import DEFAULT_LIMITS, IngestLimits

OPENMETRICS_TYPE = "application/openmetrics-text"
TEXT_TYPE = "text/plain"

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r'[ \t]*([a-zA-Z_][a-zA-Z0-9_]*)[ \t]*=[ \t]*"((?:[^"\\\n]|\\.)*)"[ \t]*')
_BAD_LABEL_NAME = re.compile(r'[ \t]*([^=\s{},"]*)[ \t]*=')
_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}
_INT = re.compile(r"[+-]?[0-9]+\Z")
_TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
_OPENMETRICS_TYPES = {
    "counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset", "unknown",
}  # fmt: skip


def is_openmetrics(content_type: str | None) -> bool:
    """True for OpenMetrics, False for the Prometheus text format; 415 for anything else."""
    media_type = (content_type or TEXT_TYPE).partition(";")[0].strip().lower()
    if media_type == OPENMETRICS_TYPE:
        return True
    if media_type == TEXT_TYPE:
        return False
    raise UnsupportedMediaTypeError(
        f'Content-Type "{content_type}" is not supported; send {TEXT_TYPE} (Prometheus text '
        f"format) or {OPENMETRICS_TYPE}"
    )


def parse_exposition(
    body: bytes | str,
    *,
    content_type: str | None,
    now_ms: int,
    limits: IngestLimits = DEFAULT_LIMITS,
    timestamp_bounds: tuple[int, int] | None = None,
) -> DecodedBatch:
    """Parse a whole exposition into a batch; samples of one series are grouped.

    Any bad line rejects the whole body (nothing is stored), naming the line; with
    `timestamp_bounds` (inclusive, ms) that includes an explicit timestamp outside them.
    """
    openmetrics = is_openmetrics(content_type)
    if len(body) > limits.max_body_bytes:
        raise PayloadTooLargeError(
            f"body is {len(body)} bytes; the limit is {limits.max_body_bytes} bytes"
        )
    if isinstance(body, bytes):
        try:
            body = body.decode()
        except UnicodeDecodeError as exc:
            raise MalformedPayloadError(f"body is not valid UTF-8 ({exc.reason})") from exc
    return _Parser(openmetrics, now_ms, limits, timestamp_bounds).parse(body)


class _Parser:
    def __init__(
        self,
        openmetrics: bool,
        now_ms: int,
        limits: IngestLimits,
        bounds: tuple[int, int] | None = None,
    ) -> None:
        self.openmetrics = openmetrics
        self.bounds = bounds
        self.now_ms = now_ms
        self.limits = limits
        self.metadata: dict[str, MetricMetadata] = {}
        self.samples: dict[tuple[tuple[str, str], ...], tuple[SeriesKey, list[int], list[float]]]
        self.samples = {}
        self.sample_count = 0
        self.exemplars = 0

    def parse(self, text: str) -> DecodedBatch:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        seen_eof = False
        for number, line in enumerate(lines, start=1):
            line = line.rstrip("\r")
            if seen_eof:
                raise InvalidExpositionError(number, "content after # EOF")
            if line.startswith("#"):
                seen_eof = self._comment(number, line)
            elif line.strip():
                self._sample(number, line)
            elif self.openmetrics:
                raise InvalidExpositionError(number, "empty line (not allowed in OpenMetrics)")
        if self.openmetrics and not seen_eof:
            raise InvalidExpositionError(len(lines), "missing # EOF at the end of OpenMetrics")
        return self._batch()

    def _comment(self, number: int, line: str) -> bool:
        parts = line[1:].strip().split(None, 2)
        if parts == ["EOF"] and self.openmetrics:
            return True
        if len(parts) < 2 or parts[0] not in ("HELP", "TYPE", "UNIT"):
            if self.openmetrics:
                raise InvalidExpositionError(number, f"unknown comment {line[:40]!r}")
            return False  # free-form comments are allowed in the text format
        keyword, family = parts[0], parts[1]
        argument = parts[2] if len(parts) == 3 else ""
        if not _METRIC_NAME.fullmatch(family):
            raise InvalidExpositionError(number, f'metric name "{family}" is invalid')
        current = self.metadata.get(family, MetricMetadata(family, "unknown"))
        if "\x00" in argument:
            raise InvalidExpositionError(number, f"{keyword} text contains a NUL character")
        if keyword == "HELP":
            text = _unescape(argument, number, quotes=self.openmetrics)
            current = MetricMetadata(family, current.type, text, current.unit)
        elif keyword == "TYPE":
            kind = argument.strip()
            allowed = _OPENMETRICS_TYPES if self.openmetrics else _TYPES
            if kind not in allowed:
                raise InvalidExpositionError(number, f'unknown metric type "{kind}"')
            kind = "unknown" if kind == "untyped" else kind
            current = MetricMetadata(family, kind, current.help, current.unit)
        else:
            current = MetricMetadata(family, current.type, current.help, argument.strip())
        self.metadata[family] = current
        return False

    def _sample(self, number: int, line: str) -> None:
        match = _METRIC_NAME.match(line)
        if not match:
            raise InvalidExpositionError(number, f"expected a metric name at {line[:40]!r}")
        pairs = [(METRIC_NAME_LABEL, match.group())]
        position = match.end()
        if line.startswith("{", position):
            position = self._labels(number, line, position + 1, pairs)
        if position == match.end() < len(line) and not line.startswith((" ", "\t"), position):
            raise InvalidExpositionError(number, f"invalid character after {match.group()!r}")
        tokens = line[position:].split()
        if self.openmetrics and "#" in tokens:
            # OpenMetrics exemplar: `value [timestamp] # {labels} value [timestamp]`.
            tokens = tokens[: tokens.index("#")]
            self.exemplars += 1
        if not tokens or len(tokens) > 2:
            raise InvalidExpositionError(number, "expected `value [timestamp]` after the series")
        value = _float(tokens[0], number)
        timestamp = self._timestamp(tokens[1], number) if len(tokens) == 2 else self.now_ms
        self._add(number, pairs, timestamp, value)

    def _labels(self, number: int, line: str, position: int, pairs: list[tuple[str, str]]) -> int:
        while True:
            while line.startswith((" ", "\t"), position):
                position += 1
            if line.startswith("}", position):
                return position + 1
            match = _LABEL.match(line, position)
            if not match:
                bad = _BAD_LABEL_NAME.match(line, position)
                if bad and bad.group(1) and not LABEL_NAME_RE.match(bad.group(1)):
                    problem = f'label name "{bad.group(1)}" is invalid'
                else:
                    problem = f"malformed label set at column {position + 1}"
                raise InvalidExpositionError(number, problem)
            name, raw = match.groups()
            pairs.append((name, _unescape(raw, number, quotes=True)))
            position = match.end()
            if line.startswith(",", position):
                position += 1
            elif not line.startswith("}", position):
                raise InvalidExpositionError(number, f"expected , or }} at column {position + 1}")

    def _timestamp(self, token: str, number: int) -> int:
        if not self.openmetrics:
            if not _INT.match(token):
                raise InvalidExpositionError(number, f'timestamp "{token}" is not integer ms')
            if len(token) > 20:  # beyond int64 (and int() refuses > 4,300 digits)
                raise InvalidExpositionError(number, f'timestamp "{token[:24]}..." is not an int64')
            timestamp = int(token)
        else:
            seconds = _float(token, number)
            if not math.isfinite(seconds):
                raise InvalidExpositionError(number, f'timestamp "{token}" is not finite')
            timestamp = round(seconds * 1000)
        if self.bounds is not None and not self.bounds[0] <= timestamp <= self.bounds[1]:
            problem = out_of_bounds_problem(timestamp, self.bounds)
            raise InvalidExpositionError(number, f"timestamp {problem}")
        return timestamp

    def _add(self, number: int, pairs: list[tuple[str, str]], timestamp: int, value: float) -> None:
        try:
            key = validate_series(pairs, self.limits, f"line {number}")
        except InvalidSeriesError as exc:
            raise InvalidExpositionError(number, str(exc).partition(": ")[2]) from exc
        entry = self.samples.get(key.labels)
        if entry is None:
            if len(self.samples) >= self.limits.max_series_per_request:
                raise PayloadTooLargeError(
                    f"more than {self.limits.max_series_per_request} series in one import"
                )
            entry = self.samples[key.labels] = (key, [], [])
        self.sample_count += 1
        if self.sample_count > self.limits.max_samples_per_request:
            raise PayloadTooLargeError(
                f"more than {self.limits.max_samples_per_request} samples in one import"
            )
        entry[1].append(timestamp)
        entry[2].append(value)

    def _batch(self) -> DecodedBatch:
        batch = DecodedBatch(metadata=list(self.metadata.values()))
        batch.exemplars_dropped = self.exemplars
        for key, timestamps, values in self.samples.values():
            batch.series.append(key)
            batch.timestamps_ms.extend(timestamps)
            batch.values.extend(values)
            batch.offsets.append(len(batch.values))
        return batch


def _float(token: str, number: int) -> float:
    # Python's float() also takes "1_000" and "infinity"; Prometheus' parser does not take
    # underscores, so refuse them rather than store a number the sender did not mean.
    try:
        if "_" in token:
            raise ValueError(token)
        return float(token)
    except ValueError:
        raise InvalidExpositionError(number, f'value "{token}" is not a number') from None


def _unescape(raw: str, number: int, *, quotes: bool) -> str:
    if "\\" not in raw:
        return raw

    def replace(match: re.Match[str]) -> str:
        char = match.group(1)
        if char in _ESCAPES and (quotes or char != '"'):
            return _ESCAPES[char]
        raise InvalidExpositionError(number, f"invalid escape sequence \\{char}")

    return _ESCAPE.sub(replace, raw)
