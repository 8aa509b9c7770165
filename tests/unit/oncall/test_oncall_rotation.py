"""Rotations: handoffs at wall-clock time, across DST changes, and how a layer begins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from orchestrix.domain.oncall import Schedule, Shift, on_call_at, shifts

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)


def single_layer(zone: ZoneInfo, **layer: Any) -> Schedule:
    defaults: dict[str, Any] = {
        "name": "primary",
        "rotation": "daily",
        "handoff_time": "09:00",
        "members": ["alice", "bob", "carol"],
    }
    return Schedule.model_validate(
        {"name": "team", "time_zone": zone.key, "layers": [defaults | layer]}
    )


def local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    """Wall-clock time in `zone`; a repeated time means its first occurrence."""
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def timeline(schedule: Schedule, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
    return [(s.member_id, s.start) for s in shifts(schedule, [], start, end)]


def shift_at(schedule: Schedule, at: datetime) -> Shift:
    """The whole shift containing `at` (rendered with a margin so it is not clipped)."""
    week = timedelta(days=8)
    (found,) = [s for s in shifts(schedule, [], at - week, at + week) if s.start <= at < s.end]
    return found


def test_issue_example_weekly_rotation_hands_off_every_monday_at_0900() -> None:
    # given the weekly layer from the issue, starting Monday 2026-01-05 09:00 Berlin
    schedule = single_layer(
        BERLIN, rotation="weekly", start="2026-01-05T09:00:00+01:00", members=["m-1", "m-2"]
    )

    # when the first four weeks are rendered
    result = shifts(schedule, [], local(BERLIN, 2026, 1, 5), local(BERLIN, 2026, 2, 2, 9))

    # then members alternate weekly, handing off Mondays at 09:00 local
    assert [(s.member_id, s.start, s.end) for s in result] == [
        ("m-1", local(BERLIN, 2026, 1, 5, 9), local(BERLIN, 2026, 1, 12, 9)),
        ("m-2", local(BERLIN, 2026, 1, 12, 9), local(BERLIN, 2026, 1, 19, 9)),
        ("m-1", local(BERLIN, 2026, 1, 19, 9), local(BERLIN, 2026, 1, 26, 9)),
        ("m-2", local(BERLIN, 2026, 1, 26, 9), local(BERLIN, 2026, 2, 2, 9)),
    ]


@pytest.mark.parametrize(
    ("zone", "day_before_change", "expected_hours"),
    [
        (BERLIN, (2026, 3, 28), 23),  # CET -> CEST on 2026-03-29
        (BERLIN, (2026, 10, 24), 25),  # CEST -> CET on 2026-10-25
        (NEW_YORK, (2026, 3, 7), 23),  # EST -> EDT on 2026-03-08
        (NEW_YORK, (2026, 10, 31), 25),  # EDT -> EST on 2026-11-01
    ],
)
def test_daily_0900_handoff_stays_at_0900_local_across_dst(
    zone: ZoneInfo, day_before_change: tuple[int, int, int], expected_hours: int
) -> None:
    # given a daily rotation handing off at 09:00 local, started well before the change
    schedule = single_layer(zone, start=local(zone, 2026, 1, 1, 9).isoformat())
    before = local(zone, *day_before_change, 9)

    # when the days around the change are rendered
    result = shifts(schedule, [], before - 24 * HOUR, before + 72 * HOUR)

    # then every handoff is at 09:00 wall-clock time
    assert all(s.start.astimezone(zone).hour == 9 for s in result[1:])
    assert all(s.end.astimezone(zone).hour == 9 for s in result[:-1])
    # and the shift spanning the change is an hour shorter or longer
    spanning = shift_at(schedule, before)
    assert spanning.start == before
    assert spanning.duration == expected_hours * HOUR
    # while the shifts either side are 24 h
    assert shift_at(schedule, before - 24 * HOUR).duration == 24 * HOUR
    assert shift_at(schedule, before + 48 * HOUR).duration == 24 * HOUR


def test_weekly_shift_across_spring_forward_lasts_167_hours() -> None:
    schedule = single_layer(BERLIN, rotation="weekly", start="2026-03-23T09:00:00+01:00")

    spanning = shift_at(schedule, local(BERLIN, 2026, 3, 23, 9))

    assert spanning.end == local(BERLIN, 2026, 3, 30, 9)
    assert spanning.duration == 167 * HOUR


def test_handoff_in_skipped_hour_moves_to_the_first_valid_instant_after() -> None:
    # given a daily handoff at 02:30 Berlin, which does not exist on 2026-03-29
    schedule = single_layer(BERLIN, handoff_time="02:30", start="2026-03-27T02:30:00+01:00")

    # when the change is rendered
    result = timeline(schedule, local(BERLIN, 2026, 3, 27, 2, 30), local(BERLIN, 2026, 3, 31))

    # then that day's handoff happens at 03:00 CEST, the moment clocks jump, and the next
    # day's is back at 02:30
    assert result == [
        ("alice", utc(2026, 3, 27, 1, 30)),  # 02:30 CET
        ("bob", utc(2026, 3, 28, 1, 30)),  # 02:30 CET
        ("carol", utc(2026, 3, 29, 1, 0)),  # 03:00 CEST
        ("alice", utc(2026, 3, 30, 0, 30)),  # 02:30 CEST
    ]
    assert on_call_at(schedule, [], utc(2026, 3, 29, 0, 59)) == ["bob"]
    assert on_call_at(schedule, [], utc(2026, 3, 29, 1, 0)) == ["carol"]


def test_handoff_in_skipped_hour_in_new_york_moves_to_0300_edt() -> None:
    schedule = single_layer(NEW_YORK, handoff_time="02:30", start="2026-03-06T02:30:00-05:00")

    result = timeline(schedule, utc(2026, 3, 7, 12), utc(2026, 3, 9, 12))

    assert result == [
        ("bob", utc(2026, 3, 7, 12)),
        ("carol", utc(2026, 3, 8, 7, 0)),  # 03:00 EDT
        ("alice", utc(2026, 3, 9, 6, 30)),  # 02:30 EDT
    ]


@pytest.mark.parametrize(
    ("zone", "handoff", "start", "first_occurrence_utc"),
    [
        (BERLIN, "02:30", "2026-10-23T02:30:00+02:00", utc(2026, 10, 25, 0, 30)),  # CEST
        (NEW_YORK, "01:30", "2026-10-30T01:30:00-04:00", utc(2026, 11, 1, 5, 30)),  # EDT
    ],
)
def test_handoff_in_repeated_hour_happens_at_its_first_occurrence(
    zone: ZoneInfo, handoff: str, start: str, first_occurrence_utc: datetime
) -> None:
    # given a daily handoff inside the hour that is repeated when clocks fall back
    schedule = single_layer(zone, handoff_time=handoff, start=start)

    # when the day of the change is rendered
    result = shifts(
        schedule, [], first_occurrence_utc - 30 * HOUR, first_occurrence_utc + 30 * HOUR
    )

    # then the handoff is at the first occurrence, and the following shift lasts 25 h
    changing = next(s for s in result if s.start == first_occurrence_utc)
    assert changing.member_id == "carol"
    assert changing.duration == 25 * HOUR
    assert on_call_at(schedule, [], first_occurrence_utc + HOUR) == ["carol"]  # 2nd occurrence


def test_custom_12_hour_rotation_keeps_0900_and_2100_local_across_dst() -> None:
    schedule = single_layer(
        BERLIN,
        rotation="custom",
        rotation_hours=12,
        members=["day", "night"],
        start="2026-03-27T09:00:00+01:00",
    )

    result = shifts(schedule, [], local(BERLIN, 2026, 3, 27, 9), local(BERLIN, 2026, 3, 31, 9))

    assert [s.start.astimezone(BERLIN).hour for s in result] == [9, 21] * 4
    assert [s.member_id for s in result] == ["day", "night"] * 4
    night_of_change = next(s for s in result if s.start == local(BERLIN, 2026, 3, 28, 21))
    assert night_of_change.duration == 11 * HOUR


def test_custom_36_hour_rotation_alternates_handoff_times() -> None:
    schedule = single_layer(
        NEW_YORK, rotation="custom", rotation_hours=36, start="2026-05-04T09:00:00-04:00"
    )

    result = timeline(schedule, local(NEW_YORK, 2026, 5, 4, 9), local(NEW_YORK, 2026, 5, 8, 21))

    assert result == [
        ("alice", local(NEW_YORK, 2026, 5, 4, 9)),
        ("bob", local(NEW_YORK, 2026, 5, 5, 21)),
        ("carol", local(NEW_YORK, 2026, 5, 7, 9)),
    ]


def test_layer_started_after_handoff_time_gives_first_member_a_partial_turn() -> None:
    # given a weekly layer created on a Monday at 14:00 with a 09:00 handoff
    schedule = single_layer(BERLIN, rotation="weekly", start="2026-06-01T14:00:00+02:00")

    result = timeline(schedule, local(BERLIN, 2026, 6, 1), local(BERLIN, 2026, 6, 16))

    # then nobody is on call before the start, alice covers until next Monday 09:00
    assert result == [
        ("alice", local(BERLIN, 2026, 6, 1, 14)),
        ("bob", local(BERLIN, 2026, 6, 8, 9)),
        ("carol", local(BERLIN, 2026, 6, 15, 9)),
    ]


def test_layer_started_before_handoff_time_gives_first_member_a_full_turn_too() -> None:
    # given a weekly layer starting Monday 08:00 with a 09:00 handoff
    schedule = single_layer(BERLIN, rotation="weekly", start="2026-06-01T08:00:00+02:00")

    result = timeline(schedule, local(BERLIN, 2026, 6, 1), local(BERLIN, 2026, 6, 10))

    # then alice keeps the lead-in hour and the full first week (no one-hour stub)
    assert result == [
        ("alice", local(BERLIN, 2026, 6, 1, 8)),
        ("bob", local(BERLIN, 2026, 6, 8, 9)),
    ]


def test_layer_with_an_end_leaves_a_gap_afterwards() -> None:
    schedule = single_layer(
        BERLIN, start="2026-06-01T09:00:00+02:00", end="2026-06-03T12:00:00+02:00"
    )

    result = shifts(schedule, [], local(BERLIN, 2026, 6, 1), local(BERLIN, 2026, 6, 5))

    assert result[-1].end == local(BERLIN, 2026, 6, 3, 12)
    assert on_call_at(schedule, [], local(BERLIN, 2026, 6, 3, 12)) == []
    assert on_call_at(schedule, [], local(BERLIN, 2026, 6, 1, 8, 59)) == []


def test_rotation_is_computed_far_from_its_start_without_drift() -> None:
    # given a daily rotation of three that started years ago
    schedule = single_layer(NEW_YORK, start="2020-01-01T09:00:00-05:00")
    days = (datetime(2031, 7, 4) - datetime(2020, 1, 1)).days

    # then the member on 2031-07-04 follows from the day count alone
    expected = ["alice", "bob", "carol"][days % 3]
    assert on_call_at(schedule, [], local(NEW_YORK, 2031, 7, 4, 12)) == [expected]
    assert timeline(schedule, local(NEW_YORK, 2031, 7, 4, 9), local(NEW_YORK, 2031, 7, 4, 10)) == [
        (expected, local(NEW_YORK, 2031, 7, 4, 9))
    ]


def test_short_custom_rotation_starting_long_before_handoff_time_keeps_its_phase() -> None:
    # given 4-hour turns phased on a 09:00 handoff, with the layer starting at 00:30
    schedule = single_layer(
        BERLIN, rotation="custom", rotation_hours=4, start="2026-06-01T00:30:00+02:00"
    )

    result = timeline(schedule, local(BERLIN, 2026, 6, 1), local(BERLIN, 2026, 6, 1, 14))

    # then handoffs fall on 09:00 +/- multiples of 4 h; alice's first turn is the lead-in
    assert result == [
        ("alice", local(BERLIN, 2026, 6, 1, 0, 30)),
        ("bob", local(BERLIN, 2026, 6, 1, 5)),
        ("carol", local(BERLIN, 2026, 6, 1, 9)),
        ("alice", local(BERLIN, 2026, 6, 1, 13)),
    ]
