"""Properties of the timeline over generated schedules, zones, windows and overrides."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrix.domain.oncall import Override, Schedule, Shift, on_call_at, shifts

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Pacific/Chatham",  # UTC+12:45 / +13:45
    "Asia/Kolkata",
    "UTC",
]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
EPOCH = datetime(2025, 9, 1, tzinfo=UTC)
PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

quarter_hours = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


def hhmm(value: time) -> str:
    return value.strftime("%H:%M")


@st.composite
def restrictions(draw: st.DrawFn) -> dict[str, Any]:
    start, end = draw(quarter_hours), draw(quarter_hours)
    if draw(st.booleans()):
        if start == end:
            end = time((start.hour + 8) % 24, start.minute)
        days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True))
        return {"type": "daily", "start_time": hhmm(start), "end_time": hhmm(end), "days": days}
    start_day, end_day = draw(st.sampled_from(DAYS)), draw(st.sampled_from(DAYS))
    if (start_day, start) == (end_day, end):
        end = time((start.hour + 8) % 24, start.minute)
    return {
        "type": "weekly",
        "start_day": start_day,
        "start_time": hhmm(start),
        "end_day": end_day,
        "end_time": hhmm(end),
    }


def instants(low: datetime, high: datetime) -> st.SearchStrategy[datetime]:
    minutes = int((high - low).total_seconds() // 60)
    return st.integers(0, minutes).map(lambda m: low + timedelta(minutes=m))


@st.composite
def layers(draw: st.DrawFn, restricted: bool | None = None) -> dict[str, Any]:
    rotation = draw(st.sampled_from(["daily", "weekly", "custom"]))
    layer: dict[str, Any] = {
        "name": "l",
        "rotation": rotation,
        "handoff_time": hhmm(draw(quarter_hours)),
        "start": draw(instants(EPOCH, EPOCH + timedelta(days=400))).isoformat(),
        "members": draw(st.lists(st.sampled_from("abcd"), min_size=1, max_size=4)),
    }
    if rotation == "custom":
        layer["rotation_hours"] = draw(st.integers(1, 200))
    with_restrictions = draw(st.booleans()) if restricted is None else restricted
    if with_restrictions:
        layer["restrictions"] = draw(st.lists(restrictions(), min_size=1, max_size=2))
    return layer


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Schedule, list[Override], datetime, datetime]:
    drawn = draw(st.lists(layers(), min_size=1, max_size=3))
    for index, layer in enumerate(drawn):
        layer["name"] = f"layer-{index}"
    schedule = Schedule.model_validate(
        {"name": "s", "time_zone": draw(st.sampled_from(ZONES)), "layers": drawn}
    )
    start = draw(instants(EPOCH, EPOCH + timedelta(days=450)))
    end = start + timedelta(minutes=draw(st.integers(1, 40 * 24 * 60)))
    overrides = []
    for _ in range(draw(st.integers(0, 4))):
        o_start = draw(instants(start - timedelta(days=2), end))
        o_end = o_start + timedelta(minutes=draw(st.integers(1, 3 * 24 * 60)))
        member = draw(st.sampled_from("abcx"))
        overrides.append(Override(member_id=member, start=o_start, end=o_end))
    return schedule, overrides, start, end


def probes(timeline: list[Shift], start: datetime, end: datetime) -> list[datetime]:
    """Instants worth checking: every shift edge and midpoint, plus the window's ends."""
    tick = timedelta(microseconds=1)
    points = {start, end - tick}
    for s in timeline:
        points |= {s.start, s.end - tick, s.start + (s.end - s.start) / 2}
        # just outside each shift too: gaps and neighbours must agree as well
        points |= {p for p in (s.start - tick, s.end) if start <= p < end}
    return sorted(points)


@PROPERTY_SETTINGS
@given(scenarios())
def test_timeline_is_sorted_disjoint_inside_the_window_and_merged(
    scenario: tuple[Schedule, list[Override], datetime, datetime],
) -> None:
    schedule, overrides, start, end = scenario

    timeline = shifts(schedule, overrides, start, end)

    for shift in timeline:
        assert start <= shift.start < shift.end <= end
    for before, after in zip(timeline, timeline[1:], strict=False):
        assert before.end <= after.start
        if before.end == after.start:
            assert before.member_id != after.member_id  # otherwise they would be merged


@PROPERTY_SETTINGS
@given(scenarios())
def test_on_call_at_agrees_with_the_shift_containing_the_instant(
    scenario: tuple[Schedule, list[Override], datetime, datetime],
) -> None:
    schedule, overrides, start, end = scenario
    timeline = shifts(schedule, overrides, start, end)

    for instant in probes(timeline, start, end):
        containing = [s.member_id for s in timeline if s.start <= instant < s.end]
        assert on_call_at(schedule, overrides, instant) == containing, instant
        active = [o for o in overrides if o.start <= instant < o.end]
        if active:  # the last override listed wins over everything
            assert containing == [active[-1].member_id]


@PROPERTY_SETTINGS
@given(layers(restricted=False), st.sampled_from(ZONES), st.data())
def test_unrestricted_layer_covers_the_window_without_gaps(
    layer: dict[str, Any], zone: str, data: st.DataObject
) -> None:
    schedule = Schedule.model_validate({"name": "s", "time_zone": zone, "layers": [layer]})
    layer_start = schedule.layers[0].start
    start = data.draw(instants(layer_start, layer_start + timedelta(days=300)))
    end = start + timedelta(minutes=data.draw(st.integers(1, 60 * 24 * 60)))

    timeline = shifts(schedule, [], start, end)

    assert timeline[0].start == start
    assert timeline[-1].end == end
    assert all(a.end == b.start for a, b in zip(timeline, timeline[1:], strict=False))


def in_restriction(restriction: dict[str, Any], wall: datetime) -> bool:
    """Independent oracle: is wall-clock time `wall` inside the restriction's window?"""

    def minute_of_week(day: str, at: str) -> int:
        hours, minutes = map(int, at.split(":"))
        return DAYS.index(day) * 1440 + hours * 60 + minutes

    now = wall.weekday() * 1440 + wall.hour * 60 + wall.minute
    if restriction["type"] == "daily":
        spans = [
            (
                minute_of_week(d, restriction["start_time"]),
                minute_of_week(d, restriction["end_time"]),
            )
            for d in restriction["days"]
        ]
        spans = [(s, e if e > s else e + 1440) for s, e in spans]  # overnight: next day
    else:
        s = minute_of_week(restriction["start_day"], restriction["start_time"])
        e = minute_of_week(restriction["end_day"], restriction["end_time"])
        spans = [(s, e if e > s else e + 7 * 1440)]  # wraps into next week
    week = 7 * 1440
    return any(s <= now < e or s <= now + week < e for s, e in spans)


def is_repeated_wall_time(instant: datetime, zone: ZoneInfo) -> bool:
    local = instant.astimezone(zone)
    other = local.replace(fold=1 - local.fold)
    return other.utcoffset() != local.utcoffset()


@PROPERTY_SETTINGS
@given(layers(restricted=True), st.sampled_from(ZONES), st.data())
def test_restricted_layer_is_on_call_exactly_inside_its_wall_clock_windows(
    layer: dict[str, Any], zone_key: str, data: st.DataObject
) -> None:
    schedule = Schedule.model_validate({"name": "s", "time_zone": zone_key, "layers": [layer]})
    zone = schedule.zone
    layer_start = schedule.layers[0].start
    start = data.draw(instants(layer_start, layer_start + timedelta(days=300)))
    end = start + timedelta(minutes=data.draw(st.integers(1, 30 * 24 * 60)))
    timeline = shifts(schedule, [], start, end)
    samples = data.draw(st.lists(instants(start, end - timedelta(minutes=1)), max_size=30))

    for instant in probes(timeline, start, end) + samples:
        if is_repeated_wall_time(instant, zone):
            continue  # a window edge in a repeated hour is the first occurrence; skip
        wall = instant.astimezone(zone).replace(tzinfo=None)
        expected = any(in_restriction(r, wall) for r in layer["restrictions"])
        covered = any(s.start <= instant < s.end for s in timeline)
        assert covered == expected, (instant, wall)


def wall_time_exists(day: datetime, at: time, zone: ZoneInfo) -> bool:
    naive = datetime.combine(day.date(), at)
    round_trip = naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
    return round_trip.replace(tzinfo=None) == naive


@PROPERTY_SETTINGS
@given(
    st.sampled_from(["daily", "weekly"]),
    quarter_hours,
    st.sampled_from(ZONES),
    instants(EPOCH, EPOCH + timedelta(days=400)),
)
def test_daily_and_weekly_handoffs_happen_at_the_wall_clock_handoff_time(
    rotation: str, handoff: time, zone_key: str, start: datetime
) -> None:
    schedule = Schedule.model_validate(
        {
            "name": "s",
            "time_zone": zone_key,
            "layers": [
                {
                    "name": "l",
                    "rotation": rotation,
                    "handoff_time": hhmm(handoff),
                    "start": start.isoformat(),
                    "members": ["a", "b"],
                }
            ],
        }
    )
    zone = schedule.zone

    timeline = shifts(schedule, [], start, start + timedelta(days=120))

    for shift in timeline[1:]:
        local = shift.start.astimezone(zone)
        if wall_time_exists(local, handoff, zone):
            assert local.time() == handoff
        else:  # skipped by a DST jump: the handoff is the moment the clocks jump
            just_before = (shift.start - timedelta(seconds=1)).astimezone(zone)
            assert just_before.utcoffset() != local.utcoffset()
        if rotation == "weekly":
            assert local.weekday() == timeline[1].start.astimezone(zone).weekday()
