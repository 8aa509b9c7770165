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


def test_a_switched_off_schedule_does_not_fire_and_resumes_without_catching_up():
    clock = AdjustableClock()
    schedule = wiring.Schedule("eval", "rate(1 minute)", "fn")
    scheduler = LocalScheduler(clock, lambda name, event: None, (schedule,))
    switch = scheduler.switches.schedule("eval")

    # Switched off (no tenant has rules): ten minutes pass without a run
    assert switch.set_enabled(False) is True
    assert scheduler.advance(timedelta(minutes=10)) == []
    assert switch.set_enabled(False) is False  # already off

    # Switched on again: runs restart a minute later, the ten missed ones are not replayed
    assert switch.set_enabled(True) is True
    fired = scheduler.advance(timedelta(minutes=2, seconds=30))
    assert [f.schedule for f in fired] == ["eval", "eval"]


def test_the_job_itself_can_switch_its_schedule_off():
    clock = AdjustableClock()
    schedule = wiring.Schedule("eval", "rate(1 minute)", "fn")
    scheduler: LocalScheduler

    def invoke(name, event):  # type: ignore[no-untyped-def]
        scheduler.switches.schedule("eval").set_enabled(False)  # "no rules anywhere"

    scheduler = LocalScheduler(clock, invoke, (schedule,))

    assert len(scheduler.advance(timedelta(minutes=5))) == 1
