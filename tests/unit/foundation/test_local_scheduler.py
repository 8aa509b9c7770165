from __future__ import annotations

from datetime import timedelta

import pytest

from orchestrix import wiring
from orchestrix.adapters.clock import AdjustableClock
from orchestrix.local.durations import parse_duration
from orchestrix.local.scheduler import LocalScheduler, rate_interval


def test_advance_fires_each_due_run_with_the_clock_at_its_scheduled_time():
    clock = AdjustableClock()
    seen = []
    schedule = wiring.Schedule("eval", "rate(1 minute)", "fn")
    scheduler = LocalScheduler(
        clock, lambda name, event: seen.append((event["scheduled_time"], clock.now())), (schedule,)
    )
    start = clock.now()

    fired = scheduler.advance(timedelta(minutes=3, seconds=30))

    assert [f.schedule for f in fired] == ["eval", "eval", "eval"]
    for scheduled, observed in seen:
        assert abs((observed - clock.now()).total_seconds()) < 300
        assert observed.isoformat() >= scheduled[:19]
    assert clock.now() - start >= timedelta(minutes=3, seconds=30)


def test_a_failing_job_is_reported_and_does_not_stop_the_others():
    clock = AdjustableClock()

    def invoke(name, event):  # type: ignore[no-untyped-def]
        if name == "bad":
            raise RuntimeError("boom")

    schedules = (
        wiring.Schedule("a", "rate(1 minute)", "bad"),
        wiring.Schedule("b", "rate(1 minute)", "good"),
    )
    fired = LocalScheduler(clock, invoke, schedules).advance(timedelta(minutes=1))
    assert {(f.function, f.ok) for f in fired} == {("bad", False), ("good", True)}


def test_rate_and_duration_parsing():
    assert rate_interval("rate(5 minutes)") == timedelta(minutes=5)
    assert rate_interval("rate(1 hour)") == timedelta(hours=1)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    with pytest.raises(ValueError):
        parse_duration("5 minutes")
    with pytest.raises(ValueError):
        rate_interval("cron(0 * * * ? *)")
