"""The final timeline: overrides, restrictions, layer precedence, merging and gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from orchestrix.domain.oncall import (
    InvalidTimeRangeError,
    Override,
    Schedule,
    on_call_at,
    shifts,
)

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def layer(name: str, members: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "rotation": "daily",
        "handoff_time": "09:00",
        "start": "2026-06-01T09:00:00+02:00",  # a Monday
        "members": members,
    } | extra


def berlin_schedule(*layers: dict[str, Any]) -> Schedule:
    return Schedule.model_validate({"name": "team", "time_zone": "Europe/Berlin", "layers": layers})


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Berlin wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def override(member: str, start: datetime, end: datetime, id: str | None = None) -> Override:
    return Override(member_id=member, start=start, end=end, id=id)


def rows(result: list[Any]) -> list[tuple[str, datetime, datetime]]:
    return [(s.member_id, s.start, s.end) for s in result]


def test_override_splits_a_shift_in_three() -> None:
    # given alice's daily shift on Monday and carol covering her lunch
    schedule = berlin_schedule(layer("primary", ["alice", "bob"]))
    lunch = override("carol", at(2026, 6, 1, 12), at(2026, 6, 1, 14), id="ovr-1")

    # when Monday's shift is rendered
    result = shifts(schedule, [lunch], at(2026, 6, 1, 9), at(2026, 6, 2, 9))

    # then alice's shift has a hole filled by carol
    assert [(s.member_id, s.start, s.end, s.sources) for s in result] == [
        ("alice", at(2026, 6, 1, 9), at(2026, 6, 1, 12), ("layer:primary",)),
        ("carol", at(2026, 6, 1, 12), at(2026, 6, 1, 14), ("override:ovr-1",)),
        ("alice", at(2026, 6, 1, 14), at(2026, 6, 2, 9), ("layer:primary",)),
    ]
    assert on_call_at(schedule, [lunch], at(2026, 6, 1, 13)) == ["carol"]
    assert on_call_at(schedule, [lunch], at(2026, 6, 1, 14)) == ["alice"]


def test_override_by_the_same_member_merges_with_their_shift() -> None:
    # given alice extends her Monday shift by three hours into bob's Tuesday
    schedule = berlin_schedule(layer("primary", ["alice", "bob"]))
    extension = override("alice", at(2026, 6, 2, 9), at(2026, 6, 2, 12))

    result = shifts(schedule, [extension], at(2026, 6, 1, 9), at(2026, 6, 3, 9))

    assert [(s.member_id, s.start, s.end, s.sources) for s in result] == [
        ("alice", at(2026, 6, 1, 9), at(2026, 6, 2, 12), ("layer:primary", "override")),
        ("bob", at(2026, 6, 2, 12), at(2026, 6, 3, 9), ("layer:primary",)),
    ]


def test_later_override_wins_where_overrides_overlap() -> None:
    schedule = berlin_schedule(layer("primary", ["alice"]))
    first = override("bob", at(2026, 6, 1, 10), at(2026, 6, 1, 14))
    second = override("carol", at(2026, 6, 1, 12), at(2026, 6, 1, 16))

    result = shifts(schedule, [first, second], at(2026, 6, 1, 9), at(2026, 6, 1, 18))

    assert rows(result) == [
        ("alice", at(2026, 6, 1, 9), at(2026, 6, 1, 10)),
        ("bob", at(2026, 6, 1, 10), at(2026, 6, 1, 12)),
        ("carol", at(2026, 6, 1, 12), at(2026, 6, 1, 16)),
        ("alice", at(2026, 6, 1, 16), at(2026, 6, 1, 18)),
    ]
    assert on_call_at(schedule, [first, second], at(2026, 6, 1, 13)) == ["carol"]


def test_weekday_business_hours_restriction_leaves_nights_and_weekends_as_gaps() -> None:
    # given a layer on duty only Monday to Friday, 09:00-17:00
    business_hours = {"type": "daily", "start_time": "09:00", "end_time": "17:00", "days": WEEKDAYS}
    schedule = berlin_schedule(
        layer("office", ["alice", "bob"], rotation="weekly", restrictions=[business_hours])
    )

    # when a full week (Mon-Sun) is rendered
    result = shifts(schedule, [], at(2026, 6, 1), at(2026, 6, 8))

    # then there is one 8-hour shift per weekday and nothing else
    assert rows(result) == [
        ("alice", at(2026, 6, day, 9), at(2026, 6, day, 17)) for day in range(1, 6)
    ]
    assert on_call_at(schedule, [], at(2026, 6, 2, 20)) == []  # Tuesday night
    assert on_call_at(schedule, [], at(2026, 6, 6, 12)) == []  # Saturday noon
    assert on_call_at(schedule, [], at(2026, 6, 3, 16, 59)) == ["alice"]


def test_override_fills_a_restriction_gap() -> None:
    business_hours = {"type": "daily", "start_time": "09:00", "end_time": "17:00"}
    schedule = berlin_schedule(layer("office", ["alice"], restrictions=[business_hours]))
    evening = override("bob", at(2026, 6, 1, 17), at(2026, 6, 1, 20))

    result = shifts(schedule, [evening], at(2026, 6, 1), at(2026, 6, 2))

    assert rows(result) == [
        ("alice", at(2026, 6, 1, 9), at(2026, 6, 1, 17)),
        ("bob", at(2026, 6, 1, 17), at(2026, 6, 1, 20)),
    ]


def test_overnight_daily_restriction_belongs_to_the_day_it_starts() -> None:
    # given a night layer 22:00-06:00 on Friday nights only
    night = {"type": "daily", "start_time": "22:00", "end_time": "06:00", "days": ["fri"]}
    schedule = berlin_schedule(layer("night", ["nora"], restrictions=[night]))

    result = shifts(schedule, [], at(2026, 6, 1), at(2026, 6, 15))

    assert rows(result) == [
        ("nora", at(2026, 6, 5, 22), at(2026, 6, 6, 6)),
        ("nora", at(2026, 6, 12, 22), at(2026, 6, 13, 6)),
    ]


def test_weekly_restriction_covers_the_weekend_and_wraps_the_week() -> None:
    weekend = {
        "type": "weekly",
        "start_day": "fri",
        "start_time": "17:00",
        "end_day": "mon",
        "end_time": "09:00",
    }
    schedule = berlin_schedule(
        layer("weekend", ["wes", "wanda"], rotation="weekly", restrictions=[weekend])
    )

    result = shifts(schedule, [], at(2026, 6, 1), at(2026, 6, 16))

    # handoff is Monday 09:00, exactly when the weekend window closes
    assert rows(result) == [
        ("wes", at(2026, 6, 5, 17), at(2026, 6, 8, 9)),
        ("wanda", at(2026, 6, 12, 17), at(2026, 6, 15, 9)),
    ]


def test_handoff_inside_a_restriction_window_splits_the_window() -> None:
    # given a rotation handing off at 12:00 and a 09:00-17:00 window
    business_hours = {"type": "daily", "start_time": "09:00", "end_time": "17:00"}
    schedule = berlin_schedule(
        layer(
            "office",
            ["alice", "bob"],
            handoff_time="12:00",
            start="2026-06-01T12:00:00+02:00",
            restrictions=[business_hours],
        )
    )

    result = shifts(schedule, [], at(2026, 6, 2), at(2026, 6, 3))

    # then the rotation keeps running: alice until 12:00, bob after
    assert rows(result) == [
        ("alice", at(2026, 6, 2, 9), at(2026, 6, 2, 12)),
        ("bob", at(2026, 6, 2, 12), at(2026, 6, 2, 17)),
    ]


def test_restriction_window_across_spring_forward_is_measured_in_wall_clock() -> None:
    # given a 01:00-05:00 window on the night clocks jump from 02:00 to 03:00
    small_hours = {"type": "daily", "start_time": "01:00", "end_time": "05:00"}
    schedule = berlin_schedule(
        layer("night", ["nora"], start="2026-03-01T09:00:00+01:00", restrictions=[small_hours])
    )

    (window,) = shifts(schedule, [], at(2026, 3, 29), at(2026, 3, 29, 12))

    assert (window.start, window.end) == (at(2026, 3, 29, 1), at(2026, 3, 29, 5))
    assert window.end - window.start == timedelta(hours=3)


def test_higher_layer_wins_and_lower_layer_shows_through_its_gaps() -> None:
    # given a 24/7 base layer and a business-hours layer above it
    business_hours = {"type": "daily", "start_time": "09:00", "end_time": "17:00", "days": WEEKDAYS}
    schedule = berlin_schedule(
        layer("base", ["bea"], rotation="weekly"),
        layer("office", ["olga"], rotation="weekly", restrictions=[business_hours]),
    )

    result = shifts(schedule, [], at(2026, 6, 5, 0), at(2026, 6, 6, 12))

    assert [(s.member_id, s.start, s.end, s.sources) for s in result] == [
        ("bea", at(2026, 6, 5, 0), at(2026, 6, 5, 9), ("layer:base",)),
        ("olga", at(2026, 6, 5, 9), at(2026, 6, 5, 17), ("layer:office",)),
        ("bea", at(2026, 6, 5, 17), at(2026, 6, 6, 12), ("layer:base",)),
    ]
    assert on_call_at(schedule, [], at(2026, 6, 5, 10)) == ["olga"]
    assert on_call_at(schedule, [], at(2026, 6, 6, 10)) == ["bea"]


def test_override_beats_every_layer() -> None:
    schedule = berlin_schedule(layer("base", ["bea"]), layer("top", ["tom"]))
    cover = override("carl", at(2026, 6, 2, 10), at(2026, 6, 2, 11))

    assert on_call_at(schedule, [cover], at(2026, 6, 2, 10, 30)) == ["carl"]
    assert on_call_at(schedule, [cover], at(2026, 6, 2, 11)) == ["tom"]


def test_adjacent_shifts_of_the_same_member_from_different_layers_merge() -> None:
    # given the same person on two layers that meet at 09:00
    early = {"type": "daily", "start_time": "00:00", "end_time": "09:00"}
    late = {"type": "daily", "start_time": "09:00", "end_time": "18:00"}
    schedule = berlin_schedule(
        layer("early", ["alice"], restrictions=[early]),
        layer("late", ["alice"], restrictions=[late]),
    )

    result = shifts(schedule, [], at(2026, 6, 2), at(2026, 6, 3))

    assert [(s.member_id, s.start, s.end, s.sources) for s in result] == [
        ("alice", at(2026, 6, 2, 0), at(2026, 6, 2, 18), ("layer:early", "layer:late"))
    ]


def test_single_member_layer_renders_one_shift_for_the_whole_window() -> None:
    schedule = berlin_schedule(layer("solo", ["sam"]))

    result = shifts(schedule, [], at(2026, 6, 2), at(2026, 9, 1))

    assert rows(result) == [("sam", at(2026, 6, 2), at(2026, 9, 1))]


def test_window_before_any_layer_starts_is_empty() -> None:
    schedule = berlin_schedule(layer("primary", ["alice"]))

    assert shifts(schedule, [], at(2026, 5, 1), at(2026, 6, 1)) == []
    assert on_call_at(schedule, [], at(2026, 5, 15)) == []


def test_shifts_are_returned_in_utc() -> None:
    schedule = berlin_schedule(layer("primary", ["alice", "bob"]))

    result = shifts(schedule, [], at(2026, 6, 1, 9), at(2026, 6, 3, 9))

    assert {s.start.tzinfo for s in result} | {s.end.tzinfo for s in result} == {UTC}


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (at(2026, 6, 2), at(2026, 6, 1), "end must be after start"),
        (at(2026, 6, 1), at(2026, 6, 1), "end must be after start"),
        (datetime(2026, 6, 1), at(2026, 6, 2), "start must include a UTC offset"),
        (at(2026, 6, 1), datetime(9999, 1, 1, tzinfo=UTC), "end must be between 1970 and 2999"),
    ],
)
def test_unusable_window_is_refused(start: datetime, end: datetime, message: str) -> None:
    schedule = berlin_schedule(layer("primary", ["alice"]))

    with pytest.raises(InvalidTimeRangeError, match=message) as caught:
        shifts(schedule, [], start, end)
    assert caught.value.status == 400  # a client mistake, answered as problem+json


def test_on_call_at_needs_an_offset() -> None:
    schedule = berlin_schedule(layer("primary", ["alice"]))

    with pytest.raises(InvalidTimeRangeError, match="at must include a UTC offset"):
        on_call_at(schedule, [], datetime(2026, 6, 1, 12))
