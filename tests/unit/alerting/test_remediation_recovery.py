"""What recovery does with a remediation it cannot simply resume (in-memory ports; the runs
on a real engine are in tests/workflows/test_remediation_recovery.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from orchestrix.domain.alerting.alerts import Alert, AlertStatus
from orchestrix.services.remediation_ports import Remediation, RemediationStatus
from orchestrix.services.remediation_recovery import RemediationRecovery, RemediationsRecovered

AT = datetime(2026, 12, 5, 17, 0, tzinfo=UTC)
ARN = "arn:aws:states:us-east-1:1:execution:orx-remediation:"


@dataclass
class World:
    remediations: dict[str, Remediation] = field(default_factory=dict)
    audit: list[tuple[str, str]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    known: set[str] = field(default_factory=set)
    started: list[str] = field(default_factory=list)
    start_error: Exception | None = None
    machine_arn: str = ARN


class Uow:
    def __init__(self, world: World) -> None:
        self.world = world

    def __enter__(self) -> Uow:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def record(self, action: str, kind: str, rid: str, *_: Any, **__: Any) -> None:
        self.world.audit.append((action, rid))

    def commit(self) -> None:
        pass


class Repo:
    def __init__(self, world: World) -> None:
        self.world = world

    def all_running(self) -> list[Remediation]:
        running = RemediationStatus.RUNNING
        return [r for r in self.world.remediations.values() if r.status is running]

    def get(self, remediation_id: str) -> Remediation | None:
        return self.world.remediations.get(remediation_id)

    def update(self, remediation: Remediation) -> None:
        self.world.remediations[remediation.id] = remediation


class Machine:
    def __init__(self, world: World) -> None:
        self.world = world

    def execution_arn(self, name: str) -> str:
        return self.world.machine_arn + name

    def knows(self, execution_arn: str) -> bool:
        return execution_arn in self.world.known

    def has_ended(self, execution_arn: str) -> bool:
        return not self.knows(execution_arn)

    def start(self, name: str, execution_input: Mapping[str, Any]) -> None:
        if self.world.start_error:
            raise self.world.start_error
        self.world.started.append(name)


class Workflows:
    def error(self, tenant_id: str, execution_id: str) -> str | None:
        return None


class Events:
    def __init__(self, world: World) -> None:
        self.world = world

    def publish(self, tenant_id: str, detail_type: str, detail: dict[str, Any]) -> None:
        self.world.events.append((detail_type, detail))


def alert() -> Alert:
    return Alert(
        id="alr_1", tenant_id="t", fingerprint="f", status=AlertStatus.FIRING, source="rule",
        name="Backlog", severity="warning", labels={}, annotations={}, starts_at=AT,
        last_received_at=AT, occurrences=1, created_at=AT, updated_at=AT,
    )  # fmt: skip


def recovery(world: World) -> RemediationRecovery:
    alerts = SimpleNamespace(get=lambda _id: alert())
    rules = SimpleNamespace(get=lambda _id: None)
    alerting = SimpleNamespace(alerts=alerts, rules=rules)
    return RemediationRecovery(
        lambda tenant, actor, request_id=None: Uow(world),  # type: ignore[arg-type]
        lambda uow: (alerting, Repo(world)),  # type: ignore[arg-type,return-value]
        Machine(world),
        Workflows(),  # type: ignore[arg-type]
        lambda tenant: None,  # type: ignore[arg-type,return-value]
        Events(world),
        SimpleNamespace(now=lambda: AT),
    )


def running(world: World) -> Remediation:
    remediation = Remediation(
        id="rem_1", tenant_id="t", alert_id="alr_1", rule_id=None, workflow_id="wf_1",
        attempt=1, status=RemediationStatus.RUNNING, sfn_execution_arn=ARN + "alr_1-1",
        started_at=AT, execution_id="exe_1", execution_status="succeeded",
    )  # fmt: skip
    world.remediations[remediation.id] = remediation
    return remediation


def test_a_remediation_that_cannot_be_started_again_fails_as_interrupted_and_is_handed_over() -> (
    None
):
    world = World(start_error=RuntimeError("the emulator is not up"))
    running(world)

    result = recovery(world).recover("t")

    ended = world.remediations["rem_1"]
    assert result == RemediationsRecovered(failed=["rem_1"])
    assert ended.status is RemediationStatus.FAILED and ended.finished_at == AT
    assert ended.reason == (
        "interrupted: the local runtime restarted and the remediation could not be resumed: "
        "the emulator is not up"
    )
    assert [t for t, _ in world.events] == ["alert.remediation_failed"]
    assert ("remediation.failed", "rem_1") in world.audit


def test_a_remediation_under_a_renamed_machine_fails_rather_than_start_under_another_arn() -> None:
    world = World(machine_arn="arn:aws:states:us-east-1:1:execution:renamed-remediation:")
    running(world)

    result = recovery(world).recover("t")

    assert result == RemediationsRecovered(failed=["rem_1"])
    assert world.started == []
    assert "its state machine changed" in (world.remediations["rem_1"].reason or "")


def test_a_remediation_the_engine_still_runs_is_left_alone() -> None:
    world = World()
    world.known.add(running(world).sfn_execution_arn)

    result = recovery(world).recover("t")

    assert result == RemediationsRecovered()
    assert world.started == [] and world.events == [] and world.audit == []
    assert world.remediations["rem_1"].status is RemediationStatus.RUNNING


def test_a_resumed_remediation_starts_under_its_own_name_and_is_audited() -> None:
    world = World()
    ended_elsewhere = replace(running(world), id="rem_0", status=RemediationStatus.RESOLVED)
    world.remediations["rem_0"] = ended_elsewhere

    result = recovery(world).recover("t")

    assert result == RemediationsRecovered(resumed=["rem_1"])
    assert world.started == ["alr_1-1"]
    assert world.audit == [("remediation.resume", "rem_1")]
