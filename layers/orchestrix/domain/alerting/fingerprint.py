"""Alert identity: the same labels (or the same dedup key) are the same alert."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping


def fingerprint(labels: Mapping[str, str], dedup_key: str | None = None) -> str:
    """16 hex digits; stable across processes and sources (a rule and a Prometheus push of
    the same labels meet in one alert)."""
    if dedup_key:
        raw = "dedup\x00" + dedup_key
    else:
        raw = json.dumps(sorted(labels.items()), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]
