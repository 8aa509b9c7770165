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


def execution_event(machine_arn: str) -> dict[str, object]:
    return {
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "detail": {"status": "SUCCEEDED", "stateMachineArn": machine_arn},
    }


def test_execution_status_reaches_the_tracker_only_for_this_stages_machines():
    prefix = "arn:aws:states:us-east-1:123456789012:stateMachine:orchestrix-dev-"
    calls: list[str] = []
    dispatcher = LocalEventDispatcher(
        lambda fn, event: calls.append(fn), stage="dev", state_machine_arn_prefix=prefix
    )

    ours = dispatcher.dispatch("default", execution_event(f"{prefix}acme-wf-v1"))
    other_stage = dispatcher.dispatch("default", execution_event(f"{prefix[:-1]}x-acme-wf-v1"))
    someone_elses = dispatcher.dispatch(
        "default", execution_event("arn:aws:states:us-east-1:123456789012:stateMachine:billing")
    )

    assert (ours, other_stage, someone_elses) == (["execution_tracker"], [], [])


def test_alarm_rule_takes_only_alarms_named_for_its_stage():
    calls: list[str] = []
    dispatcher = LocalEventDispatcher(lambda fn, event: calls.append(fn), stage="dev")

    def alarm(name: str) -> dict[str, object]:
        return {**ALARM, "detail": {**ALARM["detail"], "alarmName": name}}  # type: ignore[dict-item]

    assert dispatcher.dispatch("default", alarm("orchestrix.dev.acme.cpu-high")) == ["alert_intake"]
    for name in ("cpu-high", "orchestrix.devx.acme.cpu", "orchestrix.prod.acme.cpu"):
        assert dispatcher.dispatch("default", alarm(name)) == []


def test_patterns_are_filled_per_stage():
    (rule,) = [r for r in wiring.EVENT_RULES if r.name == "cloudwatch-alarms"]

    assert rule.pattern_for("acme", "arn:x-")["detail"] == {
        "alarmName": [{"prefix": "orchestrix.acme."}]
    }
