"""Collects decoded records into a `LogBatch`, checking each one and naming bad ones.

Every decoder (OTLP, Loki push, JSON lines) feeds records through one `BatchBuilder`, so
the rules are the same whatever the wire format: valid label names, a storable line, a
timestamp inside [now - retention, now + 10 min]. A bad record is reported with its place
in the request as the sender numbered it (`streams[2].values[5][0]`); the request is then
refused whole, so nothing of it is stored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from orchestrix.adapters.metrics.batch import fingerprint
from orchestrix.domain.errors import FieldError
from orchestrix.domain.logs import (
    BadLogRecord,
    Labels,
    LogBatch,
    StreamBatch,
    label_errors,
    line_problem,
    timestamp_problem,
)

Loc = tuple[str | int, ...]
MAX_ERRORS = 20  # reported per request; the first ones are enough to fix a sender
MAX_LINES_PER_REQUEST = 100_000


class BatchBuilder:
    def __init__(self, bounds: tuple[int, int]) -> None:
        self.bounds = bounds
        self.errors: list[FieldError] = []
        self._streams: dict[Labels, StreamBatch] = {}
        self._lines = 0

    def fail(self, loc: Loc, msg: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(FieldError(loc, msg))

    def stream(self, pairs: Sequence[tuple[str, str]], loc: Loc) -> StreamBatch | None:
        """The stream of these labels (empty values dropped, as Loki does), or None if bad."""
        kept = [(name, value) for name, value in pairs if value != ""]
        problems = label_errors(kept, loc)
        if problems:
            for problem in problems:
                self.fail(problem.loc, problem.msg)
            return None
        labels: Labels = tuple(sorted(kept))
        found = self._streams.get(labels)
        if found is None:
            found = self._streams[labels] = StreamBatch(labels, fingerprint(labels))
        return found

    def add(
        self,
        stream: StreamBatch | None,
        ts: int,
        line: str,
        metadata: dict[str, Any] | None,
        ts_loc: Loc,
        line_loc: Loc,
    ) -> None:
        self._lines += 1
        problem = timestamp_problem(ts, self.bounds)
        if problem is not None:
            self.fail(ts_loc, problem)
            return
        problem = line_problem(line)
        if problem is not None:
            self.fail(line_loc, problem)
            return
        if stream is None:
            return
        stream.timestamps.append(ts)
        stream.lines.append(line)
        stream.metadata.append(_metadata_json(metadata, line_loc[:-1], self))

    def build(self) -> LogBatch:
        if self._lines > MAX_LINES_PER_REQUEST:
            self.errors.insert(
                0,
                FieldError(
                    ("body",), f"{self._lines} lines; at most {MAX_LINES_PER_REQUEST} per request"
                ),
            )
        if self.errors:
            raise BadLogRecord(self.errors)
        return LogBatch([s for s in self._streams.values() if s.lines])


def _finite(value: Any) -> Any:
    """Non-finite floats as their names ("NaN", "Infinity"), which jsonb can store."""
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def _metadata_json(metadata: dict[str, Any] | None, loc: Loc, builder: BatchBuilder) -> str | None:
    if not metadata:
        return None
    try:
        text = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError:  # NaN or infinity (OTLP doubles may be): JSON, hence jsonb, has none
        text = json.dumps(_finite(metadata), separators=(",", ":"), ensure_ascii=False)
    problem = line_problem(text.replace("\\u0000", "\x00"))
    if problem is not None:
        builder.fail((*loc, "metadata"), problem)
        return None
    return text
