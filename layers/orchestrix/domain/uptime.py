"""Uptime bars: per UTC day, how long a component spent in each status.

Statuspage's formula, so numbers agree with what users know from it: a day's uptime is
`1 - (major_outage + 0.3 * partial_outage) / time observed`; degraded performance and
maintenance count as up. A day before the component existed has no data.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from orchestrix.domain.status_pages import ComponentChange, ComponentStatus, UptimeDay, worst

PARTIAL_WEIGHT = 0.3
BAR_DAYS = 90


def uptime_days(
    changes: list[ComponentChange], now: datetime, days: int = BAR_DAYS
) -> list[UptimeDay]:
    """Oldest day first, today last. `changes` in time order; the first one may predate the
    window (it says which status the window starts in)."""
    today = now.astimezone(UTC).date()
    first_day = today - timedelta(days=days - 1)
    out: list[UptimeDay] = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = min(start + timedelta(days=1), now)
        out.append(_day(day, _segments(changes, start, end)))
    return out


def _segments(
    changes: list[ComponentChange], start: datetime, end: datetime
) -> list[tuple[ComponentStatus, float]]:
    """(status, seconds) spans within [start, end)."""
    spans: list[tuple[ComponentStatus, float]] = []
    for index, change in enumerate(changes):
        until = changes[index + 1].at if index + 1 < len(changes) else end
        lo, hi = max(change.at, start), min(until, end)
        if hi > lo:
            spans.append((change.status, (hi - lo).total_seconds()))
    return spans


def _day(day: date, spans: list[tuple[ComponentStatus, float]]) -> UptimeDay:
    observed = sum(seconds for _, seconds in spans)
    if observed <= 0:
        return UptimeDay(day.isoformat(), None, None)
    by_status: dict[str, int] = {}
    for status, seconds in spans:
        by_status[status.value] = by_status.get(status.value, 0) + round(seconds)
    down = sum(s for st, s in spans if st is ComponentStatus.MAJOR_OUTAGE) + PARTIAL_WEIGHT * sum(
        s for st, s in spans if st is ComponentStatus.PARTIAL_OUTAGE
    )
    outages = {
        k: v
        for k, v in by_status.items()
        if k in ("degraded_performance", "partial_outage", "major_outage")
    }
    return UptimeDay(
        day.isoformat(),
        worst([status for status, _ in spans]),
        round(100.0 * (1 - down / observed), 3),
        outages,
    )


def overall(days: list[UptimeDay]) -> float | None:
    """The window's uptime, each observed day weighing the same."""
    seen = [d.uptime for d in days if d.uptime is not None]
    return round(sum(seen) / len(seen), 3) if seen else None
