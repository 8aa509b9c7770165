"""Validation of schedule, layer, restriction and override definitions."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from orchestrix.domain.oncall import Layer, Override, Schedule


def layer_json(**changes: Any) -> dict[str, Any]:
    layer: dict[str, Any] = {
        "name": "weekly",
        "rotation": "weekly",
        "handoff_time": "09:00",
        "start": "2026-01-05T09:00:00+01:00",
        "members": ["u-alice", "u-bob"],
    }
    layer.update(changes)
    return layer


def schedule_json(**changes: Any) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "name": "primary",
        "time_zone": "Europe/Berlin",
        "layers": [layer_json()],
    }
    schedule.update(changes)
    return schedule


def errors_of(model: type[Schedule | Layer | Override], data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return [
        f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
        for error in caught.value.errors()
    ]


def test_issue_example_schedule_is_valid_and_round_trips_as_json() -> None:
    # given the example from the issue
    data = schedule_json()

    # when it is parsed and dumped again
    schedule = Schedule.model_validate(data)
    dumped = schedule.model_dump(mode="json")

    # then the wall-clock handoff keeps its HH:MM form and the rest is unchanged
    assert dumped["layers"][0]["handoff_time"] == "09:00"
    assert Schedule.model_validate(dumped) == schedule


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus_Mons", "Europe", "europe/berlin", "../../etc/passwd", "localtime", ""]
)
def test_unknown_time_zone_is_rejected_with_examples(zone: str) -> None:
    errors = errors_of(Schedule, schedule_json(time_zone=zone))

    assert errors == [
        f"time_zone: '{zone}' is not a known IANA time zone "
        "(e.g. Europe/Berlin, America/New_York, UTC)"
    ]


@pytest.mark.parametrize("bad", ["9:00", "09:60", "24:00", "0900", "09:00:00", "nine"])
def test_handoff_time_must_be_hh_mm(bad: str) -> None:
    errors = errors_of(Layer, layer_json(handoff_time=bad))

    assert errors == [f"handoff_time: must be a 24-hour time HH:MM (00:00-23:59), got '{bad}'"]


def test_layer_needs_at_least_one_member() -> None:
    errors = errors_of(Layer, layer_json(members=[]))

    assert len(errors) == 1
    assert errors[0].startswith("members: List should have at least 1 item")


def test_blank_member_id_is_rejected() -> None:
    errors = errors_of(Layer, layer_json(members=["u-alice", "  "]))

    assert errors == ["members.1: String should have at least 1 character"]


def test_layer_start_without_offset_is_rejected() -> None:
    errors = errors_of(Layer, layer_json(start="2026-01-05T09:00:00"))

    assert errors == ["start: must include a UTC offset, e.g. 2026-01-05T09:00:00+01:00"]


def test_layer_start_out_of_supported_years_is_rejected() -> None:
    errors = errors_of(Layer, layer_json(start="0001-01-01T00:00:00+01:00"))

    assert errors == ["start: must be between 1970 and 2999"]


def test_custom_rotation_requires_rotation_hours() -> None:
    errors = errors_of(Layer, layer_json(rotation="custom"))

    assert errors == ["rotation_hours: is required when rotation is 'custom'"]


def test_rotation_hours_is_refused_for_named_rotations() -> None:
    errors = errors_of(Layer, layer_json(rotation="daily", rotation_hours=36))

    assert errors == [
        "rotation_hours: is only allowed with rotation 'custom' (got rotation 'daily')"
    ]


def test_custom_rotation_length_is_in_hours() -> None:
    layer = Layer.model_validate(layer_json(rotation="custom", rotation_hours=36))

    assert layer.turn_length.total_seconds() == 36 * 3600


def test_unknown_rotation_is_rejected() -> None:
    errors = errors_of(Layer, layer_json(rotation="fortnightly"))

    assert errors == ["rotation: Input should be 'daily', 'weekly' or 'custom'"]


def test_misspelt_field_is_rejected_rather_than_ignored() -> None:
    errors = errors_of(Layer, layer_json(rotation="custom", rotation_hour=36))

    assert "rotation_hour: Extra inputs are not permitted" in errors


def test_layer_end_must_follow_start() -> None:
    errors = errors_of(Layer, layer_json(end="2026-01-05T08:00:00+01:00"))

    assert errors == ["end: must be after start (2026-01-05T09:00:00+01:00)"]


def test_layer_names_must_be_unique_within_a_schedule() -> None:
    errors = errors_of(Schedule, schedule_json(layers=[layer_json(), layer_json()]))

    assert errors == ["layers: layer names must be unique; repeated: ['weekly']"]


def test_schedule_needs_a_layer() -> None:
    errors = errors_of(Schedule, schedule_json(layers=[]))

    assert errors[0].startswith("layers: List should have at least 1 item")


def test_daily_restriction_defaults_to_every_day_and_accepts_overnight_windows() -> None:
    layer = Layer.model_validate(
        layer_json(restrictions=[{"type": "daily", "start_time": "22:00", "end_time": "06:00"}])
    )

    assert layer.model_dump(mode="json")["restrictions"] == [
        {
            "type": "daily",
            "start_time": "22:00",
            "end_time": "06:00",
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        }
    ]


@pytest.mark.parametrize(
    ("restriction", "message"),
    [
        (
            {"type": "daily", "start_time": "09:00", "end_time": "09:00"},
            "restrictions.0.daily.end_time: equals start_time, which would cover the whole "
            "day; remove the restriction",
        ),
        (
            {"type": "daily", "start_time": "09:00", "end_time": "17:00", "days": []},
            "restrictions.0.daily.days: must list at least one weekday",
        ),
        (
            {"type": "daily", "start_time": "09:00", "end_time": "17:00", "days": ["mon", "mon"]},
            "restrictions.0.daily.days: must not repeat a weekday",
        ),
        (
            {"type": "daily", "start_time": "09:00", "end_time": "17:00", "days": ["monday"]},
            "restrictions.0.daily.days.0: Input should be 'mon', 'tue', 'wed', 'thu', 'fri', "
            "'sat' or 'sun'",
        ),
        (
            {
                "type": "weekly",
                "start_day": "fri",
                "start_time": "17:00",
                "end_day": "fri",
                "end_time": "17:00",
            },
            "restrictions.0.weekly.end_time: end_day/end_time equal start_day/start_time, "
            "which would cover the whole week; remove the restriction",
        ),
        (
            {"type": "weekly", "start_day": "fri", "start_time": "17:00", "end_time": "09:00"},
            "restrictions.0.weekly.end_day: Field required",
        ),
        (
            {"type": "monthly", "start_time": "09:00", "end_time": "17:00"},
            "restrictions.0: Input tag 'monthly' found using 'type' does not match any of the "
            "expected tags: 'daily', 'weekly'",
        ),
    ],
)
def test_malformed_restrictions_are_rejected_precisely(
    restriction: dict[str, Any], message: str
) -> None:
    errors = errors_of(Layer, layer_json(restrictions=[restriction]))

    assert errors == [message]


def test_override_must_end_after_it_starts() -> None:
    errors = errors_of(
        Override,
        {
            "member_id": "u-carol",
            "start": "2026-03-01T10:00:00+01:00",
            "end": "2026-03-01T10:00:00+01:00",
        },
    )

    assert errors == ["end: must be after start (2026-03-01T10:00:00+01:00)"]


def test_override_times_need_an_offset() -> None:
    errors = errors_of(
        Override,
        {"member_id": "u-carol", "start": "2026-03-01T10:00:00", "end": "2026-03-01T12:00:00Z"},
    )

    assert errors == ["start: must include a UTC offset, e.g. 2026-01-05T09:00:00+01:00"]
