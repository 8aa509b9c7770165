"""iCal export, checked by parsing it back with the `icalendar` package."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from orchestrix.domain.oncall import Override, Schedule, Shift, render_ical, shifts

NEW_YORK = ZoneInfo("America/New_York")
PRODID = "-//Orchestrix//On-call//EN"
NAMES = {"u-1": "Ada Lovelace", "u-2": "Grace Hopper", "u-3": "Edsger Dijkstra"}


def schedule_with_dst_and_gaps() -> Schedule:
    business_hours = {"type": "daily", "start_time": "09:00", "end_time": "17:00"}
    layers: list[dict[str, Any]] = [
        {
            "name": "base",
            "rotation": "daily",
            "handoff_time": "09:00",
            "start": "2026-10-01T09:00:00-04:00",
            "members": ["u-1", "u-2"],
            "restrictions": [
                {
                    "type": "weekly",
                    "start_day": "mon",
                    "start_time": "00:00",
                    "end_day": "sat",
                    "end_time": "00:00",
                }
            ],
        },
        {
            "name": "office",
            "rotation": "weekly",
            "handoff_time": "09:00",
            "start": "2026-10-05T09:00:00-04:00",
            "members": ["u-3"],
            "restrictions": [business_hours],
        },
    ]
    return Schedule.model_validate(
        {"name": "payments", "time_zone": "America/New_York", "layers": layers}
    )


def rendered_timeline() -> list[Shift]:
    schedule = schedule_with_dst_and_gaps()
    cover = Override(
        member_id="u-2",
        start=datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK),
        end=datetime(2026, 11, 1, 4, tzinfo=NEW_YORK),
    )
    return shifts(
        schedule,
        [cover],
        datetime(2026, 10, 26, tzinfo=NEW_YORK),
        datetime(2026, 11, 9, tzinfo=NEW_YORK),
    )


def parse_events(text: str) -> list[Any]:
    calendar = icalendar.Calendar.from_ical(text)
    return list(calendar.walk("VEVENT"))


def test_ical_parsed_back_matches_the_shifts_exactly() -> None:
    # given a two-week timeline across the New York fall-back change, with gaps
    timeline = rendered_timeline()
    assert len(timeline) > 10

    # when it is exported and parsed back by an independent iCalendar parser
    events = parse_events(render_ical("payments", timeline, NAMES, PRODID))

    # then each shift is one event with the same UTC bounds and the member's name
    assert [(e.decoded("DTSTART"), e.decoded("DTEND"), str(e["SUMMARY"])) for e in events] == [
        (s.start, s.end, f"On call: {NAMES[s.member_id]}") for s in timeline
    ]
    # written as UTC ("...Z"), so no VTIMEZONE is needed
    assert all(e["DTSTART"].to_ical().endswith(b"Z") for e in events)
    assert all(e["DTEND"].to_ical().endswith(b"Z") for e in events)
    assert len({str(e["UID"]) for e in events}) == len(events)


def test_ical_document_is_well_formed() -> None:
    text = render_ical("payments", rendered_timeline(), NAMES, PRODID)

    calendar = icalendar.Calendar.from_ical(text)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == PRODID
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    for event in calendar.walk("VEVENT"):
        assert {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"} <= set(event.keys())


def test_uids_are_stable_across_exports_and_unaffected_by_unrelated_changes() -> None:
    # given a timeline exported twice, then with a late override added
    timeline = rendered_timeline()
    first = parse_events(render_ical("payments", timeline, NAMES, PRODID))
    again = parse_events(render_ical("payments", timeline, NAMES, PRODID))
    changed = timeline[:3] + [Shift("u-1", timeline[-1].start, timeline[-1].end, ("override",))]
    partly = parse_events(render_ical("payments", changed, NAMES, PRODID))

    # then identical shifts keep their UID and the changed one gets a new UID
    assert [e["UID"] for e in first] == [e["UID"] for e in again]
    assert [e["UID"] for e in partly[:3]] == [e["UID"] for e in first[:3]]
    assert partly[-1]["UID"] != first[-1]["UID"]


def test_uids_differ_between_schedules() -> None:
    timeline = rendered_timeline()[:1]

    one = parse_events(render_ical("payments", timeline, NAMES, PRODID))
    other = parse_events(render_ical("checkout", timeline, NAMES, PRODID))

    assert one[0]["UID"] != other[0]["UID"]


def test_names_with_special_characters_and_long_unicode_round_trip() -> None:
    # given names needing escaping (comma, semicolon, backslash, newline) and line folding
    start = datetime(2026, 6, 1, 7, tzinfo=UTC)
    shift = Shift("u-9", start, start.replace(hour=15), ("layer:base",))
    name = "Łukasz Żółć-Brzęczyszczykiewicz; Team Ops, \\ Nights\n" + "ż" * 40

    (event,) = parse_events(render_ical("Zahlungen & Söhne", [shift], {"u-9": name}, PRODID))

    assert str(event["SUMMARY"]) == f"On call: {name}"
    assert "Zahlungen & Söhne" in str(event["DESCRIPTION"])


def test_unknown_member_is_shown_by_id() -> None:
    start = datetime(2026, 6, 1, 7, tzinfo=UTC)
    shift = Shift("u-404", start, start.replace(hour=8), ("layer:base",))

    (event,) = parse_events(render_ical("payments", [shift], {}, PRODID))

    assert str(event["SUMMARY"]) == "On call: u-404"


def test_export_time_is_used_as_dtstamp_when_given() -> None:
    exported_at = datetime(2026, 5, 31, 12, 0, tzinfo=UTC)

    events = parse_events(
        render_ical("payments", rendered_timeline(), NAMES, PRODID, dtstamp=exported_at)
    )

    assert {e.decoded("DTSTAMP") for e in events} == {exported_at}


def test_empty_timeline_exports_a_calendar_without_events() -> None:
    text = render_ical("payments", [], NAMES, PRODID)

    assert parse_events(text) == []
    assert icalendar.Calendar.from_ical(text)["X-WR-CALNAME"] == "On call: payments"
