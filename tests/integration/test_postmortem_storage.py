"""Post-mortems in PostgreSQL: every table row-level secured, action items kept by id,
concurrent drafts of one incident are one post-mortem."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from orchestrix.adapters.postgres.incident_components import STORES as INCIDENT_STORES
from orchestrix.adapters.postgres.members import PostgresMemberRepository
from orchestrix.adapters.postgres.postmortem_components import STORES
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.incidents import Severity
from orchestrix.services.incidents import IncidentService, NewIncident
from orchestrix.services.postmortem_narrative import NarrativeWriter
from orchestrix.services.postmortem_overdue import OverdueActionItems
from orchestrix.services.postmortem_ports import ActionItemInput, PostmortemChanges
from orchestrix.services.postmortems import PostmortemService

from ..unit.notifications.fakes import PlainBox
from .test_incident_escalation import Events, Pager, Scheduler
from .test_members_storage import _member

TABLES = ("postmortems", "postmortem_action_items", "postmortem_templates")


@pytest.fixture
def services(uow, clock):  # type: ignore[no-untyped-def]
    from orchestrix.services.escalation import EscalationService
    from orchestrix.services.sla import SlaService

    events, scheduler = Events(), Scheduler()
    escalation = EscalationService(uow, INCIDENT_STORES, Pager(), scheduler, events, clock)
    sla = SlaService(uow, INCIDENT_STORES, scheduler, events, clock)
    incidents = IncidentService(uow, INCIDENT_STORES, escalation, sla, events, clock)
    postmortems = PostmortemService(
        uow, INCIDENT_STORES, STORES, lambda _tenant: NarrativeWriter(None), events, clock
    )
    return incidents, postmortems


def admin(tenant: str) -> Principal:
    return Principal(tenant, "ada", frozenset({Role.ADMIN}))


def with_postmortem(services, uow, tenant: str) -> str:  # type: ignore[no-untyped-def]
    incidents, postmortems = services
    member = _member(tenant)
    with uow(tenant) as u:
        PostgresMemberRepository(u.conn, PlainBox(), tenant).save(member)
        u.commit()
    incident = incidents.create(admin(tenant), NewIncident(title="db", severity=Severity.SEV2))
    postmortems.draft(admin(tenant), incident.id)
    item = ActionItemInput("add backoff", member.id, incident.triggered_at.date())
    postmortems.update(admin(tenant), incident.id, PostmortemChanges(action_items=[item]))
    postmortems.save_template(admin(tenant), "# {{ .Title }}")
    return incident.id


def test_each_post_mortem_table_shows_a_tenant_only_its_own_rows(services, uow, tenant):  # type: ignore[no-untyped-def]
    other = tenant + "-other"
    with_postmortem(services, uow, tenant)
    with_postmortem(services, uow, other)

    with uow(tenant) as u:
        seen = {t: u.conn.execute(f"SELECT DISTINCT tenant_id FROM {t}").fetchall() for t in TABLES}
        role = u.conn.execute("SELECT current_user").fetchone()

    assert seen == dict.fromkeys(TABLES, [(tenant,)])
    assert role == ("orchestrix_app",)


def test_rows_cannot_be_written_into_another_tenant(services, uow, tenant):  # type: ignore[no-untyped-def]
    import psycopg

    with uow(tenant) as u, pytest.raises(psycopg.errors.InsufficientPrivilege):
        u.conn.execute(
            "INSERT INTO postmortem_templates (tenant_id, body, updated_at, updated_by) "
            "VALUES (%s, 'x', now(), 'mallory')",
            (tenant + "-victim",),
        )


def test_two_concurrent_drafts_of_one_incident_are_one_post_mortem(services, uow, tenant):  # type: ignore[no-untyped-def]
    incidents, postmortems = services
    incident = incidents.create(admin(tenant), NewIncident(title="db", severity=Severity.SEV2))

    with ThreadPoolExecutor(4) as pool:
        drafted = list(pool.map(lambda _: postmortems.draft(admin(tenant), incident.id), range(4)))

    assert len({p.id for p, _ in drafted}) == 1
    assert sorted(created for _, created in drafted) == [False, False, False, True]


def test_overdue_is_claimed_once_per_due_date(services, uow, tenant, clock):  # type: ignore[no-untyped-def]
    incident_id = with_postmortem(services, uow, tenant)
    _, postmortems = services
    overdue = OverdueActionItems(uow, STORES, Events(), clock)
    clock.advance(timedelta(days=1))

    published = [overdue.flag(tenant, "system:housekeeping") for _ in range(3)]

    assert published == [1, 0, 0]
    assert postmortems.get(admin(tenant), incident_id).action_items[0].status.value == "open"
