"""Warnings and infos attached to a query result (Prometheus' util/annotations).

Each annotation is kept as its final message, already suffixed with the position of the
expression that caused it (``(line:column)``), and deduplicated by message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WARNING = "PromQL warning"
INFO = "PromQL info"


def position(query: str, offset: int) -> str:
    """Prometheus' PositionRange.StartPosInput: 1-based ``line:column`` of an offset."""
    if offset < 0 or offset > len(query):
        return "unknown position"
    line = 1 + query.count("\n", 0, offset)
    last_break = query.rfind("\n", 0, offset)
    return f"{line}:{offset - last_break}"


@dataclass
class Annotations:
    query: str = ""
    warnings: dict[str, None] = field(default_factory=dict)
    infos: dict[str, None] = field(default_factory=dict)

    def warn(self, text: str, pos: int) -> None:
        self.warnings[f"{WARNING}: {text} ({position(self.query, pos)})"] = None

    def info(self, text: str, pos: int) -> None:
        self.infos[f"{INFO}: {text} ({position(self.query, pos)})"] = None
