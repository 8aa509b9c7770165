"""`POST /api/v1/logs/ingest`: one JSON object per line (NDJSON), for scripts and shippers
that speak neither OTLP nor Loki:

    {"labels": {"app": "api"}, "line": "GET /x 500", "timestamp": "2026-12-04T10:00:00Z"}

`timestamp` is RFC 3339, or Unix nanoseconds as an integer or decimal string, and may be
left out (the time of arrival); `metadata` is an optional object stored with the line.
Problems are named by the line's index from 0: `lines[3].timestamp`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from orchestrix.adapters.logs.builder import BatchBuilder, Loc
from orchestrix.domain.logs import NS_PER_S, LogBatch


def _timestamp(value: Any, now_ns: int) -> int | None:
    if value is None:
        return now_ns
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        return int(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                return None
            return int(parsed.timestamp()) * NS_PER_S + parsed.microsecond * 1000
        except (ValueError, OverflowError):
            return None
    return None


def decode(text: str, builder: BatchBuilder, now_ns: int) -> LogBatch:
    for index, raw in enumerate(text.splitlines()):
        if not raw.strip():
            continue
        where: Loc = ("lines", index)
        try:
            item = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            builder.fail(where, f"not a JSON object: {exc}")
            continue
        if not isinstance(item, dict):
            builder.fail(where, "must be a JSON object")
            continue
        labels, line, metadata = item.get("labels"), item.get("line"), item.get("metadata")
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            builder.fail((*where, "labels"), "must be an object of label name to string")
            continue
        if not isinstance(line, str):
            builder.fail((*where, "line"), "must be a string")
            continue
        if metadata is not None and not isinstance(metadata, dict):
            builder.fail((*where, "metadata"), "must be an object")
            continue
        ts = _timestamp(item.get("timestamp"), now_ns)
        if ts is None:
            builder.fail((*where, "timestamp"), "must be RFC 3339 with a zone, or Unix nanoseconds")
            continue
        stream = builder.stream(list(labels.items()), (*where, "labels"))
        builder.add(stream, ts, line, metadata, (*where, "timestamp"), (*where, "line"))
    return builder.build()
