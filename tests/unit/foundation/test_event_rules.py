from __future__ import annotations

from orchestrix import wiring
from orchestrix.local.event_rules import LocalEventDispatcher, matches

ALARM = {
    "source": "aws.cloudwatch",
    "detail-type": "CloudWatch Alarm State Change",
    "detail": {"state": {"value": "ALARM"}, "alarmName": "cpu-high"},
}


def test_patterns_match_like_eventbridge():
    assert matches({"source": ["aws.cloudwatch"]}, ALARM)
    assert matches({"detail": {"state": {"value": ["ALARM", "OK"]}}}, ALARM)
    assert matches({"detail": {"alarmName": [{"prefix": "cpu"}]}}, ALARM)
    assert not matches({"detail": {"alarmName": [{"anything-but": "cpu-high"}]}}, ALARM)
    assert not matches({"source": ["orchestrix"]}, ALARM)


def test_dispatch_reaches_only_rules_on_the_events_bus():
    rules = (
        wiring.EventRule("alarms", {"source": ["aws.cloudwatch"]}, "intake", bus="default"),
        wiring.EventRule("ours", {"source": ["aws.cloudwatch"]}, "other", bus="orchestrix"),
    )
    calls: list[str] = []
    dispatcher = LocalEventDispatcher(lambda fn, event: calls.append(fn), rules)
    assert dispatcher.dispatch("default", ALARM) == ["intake"]
    assert calls == ["intake"]
