"""Prometheus durations (`30s`, `5m`, `1h30m`, `1d`) to and from seconds."""

from __future__ import annotations

import re

_UNITS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
_PART = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")


def parse_duration(text: str) -> int:
    """Whole seconds; raises ValueError with Prometheus' wording for anything else."""
    s = text.strip()
    if s == "0":
        return 0
    pos, total = 0, 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += int(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise ValueError(f'not a valid duration string: "{text}"')
    return int(total)


def format_duration(seconds: int) -> str:
    """Prometheus' model.Duration.String(): `1h30m`, `5m`, `0s`."""
    if seconds == 0:
        return "0s"
    out = []
    for unit in ("y", "w", "d", "h", "m", "s"):
        size = int(_UNITS[unit])
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out)
