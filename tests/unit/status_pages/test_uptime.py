"""Uptime bars from a component's status history (Statuspage's weighting)."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrix.domain.status_pages import ComponentChange, ComponentStatus
from orchestrix.domain.uptime import overall, uptime_days

OP, PARTIAL, MAJOR = (
    ComponentStatus.OPERATIONAL,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.MAJOR_OUTAGE,
)


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def test_major_outage_counts_fully_and_partial_outage_at_thirty_percent() -> None:
    changes = [
        ComponentChange(at(1), OP),
        ComponentChange(at(2, 6), MAJOR),  # 6 hours of major outage on the 2nd
        ComponentChange(at(2, 12), OP),
        ComponentChange(at(3, 0), PARTIAL),  # a whole day of partial outage on the 3rd
        ComponentChange(at(4, 0), OP),
    ]
    days = uptime_days(changes, now=at(5, 12), days=5)

    assert [d.date for d in days] == [
        "2026-03-01",
        "2026-03-02",
        "2026-03-03",
        "2026-03-04",
        "2026-03-05",
    ]
    assert [d.uptime for d in days] == [100.0, 75.0, 70.0, 100.0, 100.0]
    assert [d.status for d in days] == [OP, MAJOR, PARTIAL, OP, OP]
    assert days[1].outage_seconds == {"major_outage": 6 * 3600}
    assert overall(days) == 89.0


def test_days_before_the_first_status_have_no_data_and_today_counts_until_now() -> None:
    changes = [ComponentChange(at(3, 12), MAJOR)]
    days = uptime_days(changes, now=at(3, 18), days=3)

    assert [(d.status, d.uptime) for d in days] == [(None, None), (None, None), (MAJOR, 0.0)]
    assert days[2].outage_seconds == {"major_outage": 6 * 3600}


def test_the_status_before_the_window_carries_into_it() -> None:
    changes = [ComponentChange(at(1), PARTIAL)]
    days = uptime_days(changes, now=at(10, 12), days=2)

    assert [d.uptime for d in days] == [70.0, 70.0]
