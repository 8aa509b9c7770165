"""On-call schedule definitions: schedules, layers, restrictions and overrides.

All wall-clock fields (handoff times, restriction windows) are read in the schedule's IANA
time zone; instants (`start`, `end`, override bounds) must carry a UTC offset.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

MAX_ROTATION_HOURS = 24 * 366
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _parse_hhmm(value: object) -> object:
    if isinstance(value, time):
        return value
    text = value if isinstance(value, str) else repr(value)
    hours, sep, minutes = text.partition(":")
    if (
        isinstance(value, str)
        and sep
        and len(hours) == 2
        and len(minutes) == 2
        and hours.isdigit()
        and minutes.isdigit()
        and int(hours) < 24
        and int(minutes) < 60
    ):
        return time(int(hours), int(minutes))
    raise PydanticCustomError(
        "hhmm", "must be a 24-hour time HH:MM (00:00-23:59), got '{value}'", {"value": text}
    )


def _reject_seconds(value: time) -> time:
    if value.second or value.microsecond or value.tzinfo is not None:
        raise PydanticCustomError("hhmm", "must be a whole minute without a time zone", {})
    return value


# A wall-clock time of day, written and read as "HH:MM".
WallTime = Annotated[
    time,
    BeforeValidator(_parse_hhmm),
    AfterValidator(_reject_seconds),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str),
]


def require_instant(value: datetime) -> datetime:
    """An instant the timeline can do arithmetic on: with a UTC offset, years 1970-2999."""
    if value.utcoffset() is None:
        raise PydanticCustomError(
            "naive_datetime",
            "must include a UTC offset, e.g. 2026-01-05T09:00:00+01:00",
            {},
        )
    # Keeps all boundary arithmetic far from datetime's year 1 / 9999 limits.
    if not 1970 <= value.year <= 2999:
        raise PydanticCustomError("instant_range", "must be between 1970 and 2999", {})
    return value


Instant = Annotated[datetime, AfterValidator(require_instant)]
NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _zone_exists(key: str) -> str:
    try:
        # "localtime" names whatever the host is set to, not an IANA zone.
        if key == "localtime":
            raise ZoneInfoNotFoundError(key)
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a directory
        raise PydanticCustomError(
            "time_zone",
            "'{key}' is not a known IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)",
            {"key": key},
        ) from None
    return key


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rotation(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    CUSTOM = "custom"


class DailyRestriction(_Model):
    """The layer is on duty from `start_time` to `end_time` each listed day (local time).

    `end_time` at or before `start_time` means the window ends the next day (night shift);
    such a window belongs to the day it starts on.
    """

    type: Literal["daily"] = "daily"
    start_time: WallTime
    end_time: WallTime
    days: tuple[Weekday, ...] = WEEKDAYS

    @field_validator("end_time")
    @classmethod
    def _not_whole_day(cls, end_time: time, info: ValidationInfo) -> time:
        if info.data.get("start_time") == end_time:
            raise PydanticCustomError(
                "restriction",
                "equals start_time, which would cover the whole day; remove the restriction",
                {},
            )
        return end_time

    @field_validator("days")
    @classmethod
    def _distinct_days(cls, days: tuple[Weekday, ...]) -> tuple[Weekday, ...]:
        if not days:
            raise PydanticCustomError("restriction", "must list at least one weekday", {})
        if len(set(days)) != len(days):
            raise PydanticCustomError("restriction", "must not repeat a weekday", {})
        return days


class WeeklyRestriction(_Model):
    """The layer is on duty from `start_day start_time` to `end_day end_time` every week.

    A window that ends at or before its start (e.g. fri 17:00 -> mon 09:00) wraps into the
    next week.
    """

    type: Literal["weekly"] = "weekly"
    start_day: Weekday
    start_time: WallTime
    end_day: Weekday
    end_time: WallTime

    @field_validator("end_time")
    @classmethod
    def _not_whole_week(cls, end_time: time, info: ValidationInfo) -> time:
        data = info.data
        if (data.get("start_day"), data.get("start_time")) == (data.get("end_day"), end_time):
            raise PydanticCustomError(
                "restriction",
                "end_day/end_time equal start_day/start_time, which would cover the whole "
                "week; remove the restriction",
                {},
            )
        return end_time


Restriction = Annotated[DailyRestriction | WeeklyRestriction, Field(discriminator="type")]


def _end_after_start(end: datetime | None, info: ValidationInfo) -> datetime | None:
    start = info.data.get("start")
    if end is not None and start is not None and end <= start:
        raise PydanticCustomError(
            "time_range", "must be after start ({start})", {"start": start.isoformat()}
        )
    return end


class Layer(_Model):
    """One rotation of members; later layers in a schedule override earlier ones."""

    name: NonBlank
    rotation: Rotation
    rotation_hours: int | None = Field(
        default=None, ge=1, le=MAX_ROTATION_HOURS, validate_default=True
    )
    handoff_time: WallTime
    start: Instant
    end: Instant | None = None
    members: list[NonBlank] = Field(min_length=1)
    restrictions: list[Restriction] = Field(default_factory=list)

    _end_after_start = field_validator("end")(_end_after_start)

    @field_validator("rotation_hours")
    @classmethod
    def _hours_iff_custom(cls, hours: int | None, info: ValidationInfo) -> int | None:
        rotation = info.data.get("rotation")
        if rotation is Rotation.CUSTOM and hours is None:
            raise PydanticCustomError("rotation", "is required when rotation is 'custom'", {})
        if rotation not in (None, Rotation.CUSTOM) and hours is not None:
            raise PydanticCustomError(
                "rotation",
                "is only allowed with rotation 'custom' (got rotation '{rotation}')",
                {"rotation": str(rotation)},
            )
        return hours

    @property
    def turn_length(self) -> timedelta:
        """Wall-clock length of one member's turn."""
        if self.rotation is Rotation.DAILY:
            return timedelta(days=1)
        if self.rotation is Rotation.WEEKLY:
            return timedelta(weeks=1)
        assert self.rotation_hours is not None  # guaranteed by _hours_iff_custom
        return timedelta(hours=self.rotation_hours)


class Schedule(_Model):
    name: NonBlank
    time_zone: Annotated[str, AfterValidator(_zone_exists)]
    description: str = ""
    layers: list[Layer] = Field(min_length=1)

    @field_validator("layers")
    @classmethod
    def _unique_layer_names(cls, layers: list[Layer]) -> list[Layer]:
        names = [layer.name for layer in layers]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise PydanticCustomError(
                "layers", "layer names must be unique; repeated: {names}", {"names": repeated}
            )
        return layers

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class Override(_Model):
    """`member_id` is on call from `start` to `end`, above every layer."""

    id: str | None = None
    member_id: NonBlank
    start: Instant
    end: Instant

    _end_after_start = field_validator("end")(_end_after_start)
