"""Post-mortems: drafted from an incident, reviewed, published, exported as markdown.

A draft reads the incident's evidence in one transaction, asks for the narrative outside any
transaction (a model may take seconds) and writes in a second one, holding the incident's
lock so two drafts of one incident cannot race. Redrafting refreshes the evidence of a
draft and keeps whatever people wrote. Overdue action items: `postmortem_overdue`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

from orchestrix.domain.alerting.gotemplate import TemplateError
from orchestrix.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from orchestrix.domain.identity import Principal, Role
from orchestrix.domain.ids import new_id
from orchestrix.domain.incidents import IncidentStatus
from orchestrix.domain.postmortem_template import DEFAULT_TEMPLATE, check, context, render
from orchestrix.domain.postmortems import (
    ActionItem,
    ActionItemStatus,
    Evidence,
    NarrativeSource,
    Postmortem,
    PostmortemStatus,
    check_transition,
)
from orchestrix.ports.clock import Clock
from orchestrix.ports.events import EventPublisher
from orchestrix.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from orchestrix.services.incident_stores import IncidentStores
from orchestrix.services.postmortem_evidence import collect
from orchestrix.services.postmortem_narrative import NarrativeWriter
from orchestrix.services.postmortem_ports import (
    ActionItemInput,
    PostmortemChanges,
    PostmortemStores,
    StoredTemplate,
)


class PostmortemService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        incidents: IncidentStores,
        stores: PostmortemStores,
        narrative: Callable[[str], NarrativeWriter],
        events: EventPublisher,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._incidents = incidents
        self._stores = stores
        self._narrative = narrative
        self._events = events
        self._clock = clock

    # -- drafting ------------------------------------------------------------------------

    def draft(
        self, principal: Principal, incident_id: str, request_id: str | None = None
    ) -> tuple[Postmortem, bool]:
        """The post-mortem drafted (created: True) or its draft refreshed (False)."""
        principal.require_role(Role.RESPONDER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            existing = self._stores.postmortems(uow).for_incident(incident_id)
            if existing is not None:
                _require_draft(existing)
            evidence = self._evidence(uow, incident_id)
        keep_narrative = (
            existing is not None and existing.narrative_source is NarrativeSource.EDITED
        )
        writer = self._narrative(principal.tenant_id)
        narrative = None if keep_narrative else writer.write(evidence)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            incident = self._incidents.incidents(uow).lock(incident_id)
            if incident is None:
                raise NotFound("incident", incident_id)
            repo = self._stores.postmortems(uow)
            current = repo.for_incident(incident_id, lock=True)
            now = self._clock.now()
            if current is None:
                assert narrative is not None  # only an existing post-mortem keeps its own
                drafted = Postmortem(
                    id=new_id("pmt", int(now.timestamp() * 1000)),
                    tenant_id=principal.tenant_id,
                    incident_id=incident_id,
                    status=PostmortemStatus.DRAFT,
                    title=f"Post-mortem: {incident.title}",
                    narrative=narrative.text,
                    narrative_source=narrative.source,
                    model_id=narrative.model_id,
                    contributing_factors=(),
                    evidence=evidence,
                    drafted_at=now,
                    created_at=now,
                    created_by=principal.actor,
                    updated_at=now,
                )
                repo.add(drafted)
                uow.record("postmortem.draft", "postmortem", drafted.id, None, drafted.snapshot())
            else:
                _require_draft(current)
                drafted = replace(current, evidence=evidence, drafted_at=now, updated_at=now)
                if narrative is not None and current.narrative_source is not NarrativeSource.EDITED:
                    drafted = replace(
                        drafted,
                        narrative=narrative.text,
                        narrative_source=narrative.source,
                        model_id=narrative.model_id,
                    )
                repo.save(drafted)
                before, after = current.snapshot(), drafted.snapshot()
                uow.record("postmortem.redraft", "postmortem", drafted.id, before, after)
            uow.commit()
        return drafted, current is None

    def _evidence(self, uow: UnitOfWork, incident_id: str) -> Evidence:
        incidents = self._incidents.incidents(uow)
        incident = incidents.get(incident_id)
        if incident is None:
            raise NotFound("incident", incident_id)
        source = self._stores.evidence(uow)
        return collect(
            incident,
            incidents.timeline(incident_id),
            source.alerts(incident_id),
            source.executions(incident_id),
        )

    # -- reading and exporting -----------------------------------------------------------

    def get(self, principal: Principal, incident_id: str) -> Postmortem:
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return self._for_incident(uow, incident_id)

    def markdown(self, principal: Principal, incident_id: str) -> str:
        """The post-mortem rendered with the tenant's template (or the default one)."""
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            postmortem = self._for_incident(uow, incident_id)
            stored = self._stores.postmortems(uow).template()
            owners = sorted({i.owner_member_id for i in postmortem.action_items})
            names = self._stores.evidence(uow).member_names(owners)
        data = context(postmortem, names, self._today())
        try:
            return render(stored.body if stored else DEFAULT_TEMPLATE, data)
        except TemplateError as exc:
            # Only a size/steps bound can fail here: the template was checked when saved.
            raise ValidationFailed.single(
                ("template",), f"the tenant's post-mortem template failed here: {exc}"
            ) from None

    # -- changing ------------------------------------------------------------------------

    def update(
        self,
        principal: Principal,
        incident_id: str,
        changes: PostmortemChanges,
        request_id: str | None = None,
    ) -> Postmortem:
        principal.require_role(Role.RESPONDER)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            before = self._for_incident(uow, incident_id, lock=True)
            if changes.content and before.status is PostmortemStatus.PUBLISHED:
                raise Conflict(
                    "a published post-mortem is the record: only its action items can change"
                )
            now = self._clock.now()
            after = replace(before, updated_at=now)
            if changes.title is not None:
                after = replace(after, title=changes.title)
            if changes.narrative is not None:
                after = replace(
                    after,
                    narrative=changes.narrative,
                    narrative_source=NarrativeSource.EDITED,
                    model_id=None,
                )
            if changes.contributing_factors is not None:
                after = replace(after, contributing_factors=tuple(changes.contributing_factors))
            if changes.action_items is not None:
                items = self._action_items(uow, before, changes.action_items, now)
                after = replace(after, action_items=items)
            if changes.status is not None and changes.status is not before.status:
                after = self._moved(uow, after, changes.status, now)
            self._stores.postmortems(uow).save(after)
            uow.record(
                "postmortem.update", "postmortem", after.id, before.snapshot(), after.snapshot()
            )
            uow.commit()
        return after

    def _moved(
        self, uow: UnitOfWork, postmortem: Postmortem, wanted: PostmortemStatus, now: datetime
    ) -> Postmortem:
        check_transition(postmortem.status, wanted)
        if wanted is PostmortemStatus.PUBLISHED:
            incident = self._incidents.incidents(uow).get(postmortem.incident_id)
            if incident is None or incident.status is not IncidentStatus.RESOLVED:
                raise Conflict("the incident is not resolved yet: publish its post-mortem after")
            return replace(postmortem, status=wanted, published_at=now)
        return replace(postmortem, status=wanted)

    def _action_items(
        self,
        uow: UnitOfWork,
        postmortem: Postmortem,
        given: list[ActionItemInput],
        now: datetime,
    ) -> tuple[ActionItem, ...]:
        """The new list, every problem named at once: an id of no item of this post-mortem,
        an id listed twice, an owner who is not a member of this tenant (another tenant's
        member is invisible under RLS, so it reads exactly like an id never issued)."""
        current = {i.id: i for i in postmortem.action_items}
        directory = self._incidents.targets(uow)
        known: dict[str, bool] = {}
        errors: list[FieldError] = []
        seen: set[str] = set()
        items: list[ActionItem] = []
        for n, item in enumerate(given):
            loc = ("body", "action_items", n)
            if item.id is not None:
                if item.id not in current or item.id in seen:
                    why = "listed twice" if item.id in seen else "no such action item here"
                    errors.append(FieldError((*loc, "id"), why))
                seen.add(item.id)
            owner = item.owner_member_id
            if owner not in known:
                known[owner] = directory.member_exists(owner)
            if not known[owner]:
                errors.append(FieldError((*loc, "owner_member_id"), "no such member"))
            if not errors:
                items.append(_item(item, current.get(item.id or ""), now))
        if errors:
            raise ValidationFailed(errors)
        return tuple(items)

    # -- templates -----------------------------------------------------------------------

    def template(self, principal: Principal) -> StoredTemplate | None:
        """The tenant's template; None: the default (`DEFAULT_TEMPLATE`) applies."""
        principal.require_role(Role.VIEWER)
        with self._uow(principal.tenant_id, principal.actor) as uow:
            return self._stores.postmortems(uow).template()

    def save_template(
        self, principal: Principal, body: str, request_id: str | None = None
    ) -> StoredTemplate:
        principal.require_role(Role.EDITOR)
        try:
            check(body)
        except TemplateError as exc:
            raise ValidationFailed.single(("body", "template"), str(exc)) from None
        saved = StoredTemplate(body, self._clock.now(), principal.actor)
        with self._uow(principal.tenant_id, principal.actor, request_id) as uow:
            repo = self._stores.postmortems(uow)
            previous = repo.template()
            repo.save_template(saved)
            before = {"template": previous.body} if previous else None
            uow.record(
                "postmortem_template.update",
                "postmortem_template",
                "default",
                before,
                {"template": body},
            )
            uow.commit()
        return saved

    # -- helpers -------------------------------------------------------------------------

    def _today(self) -> date:
        return self._clock.now().date()

    def _for_incident(self, uow: UnitOfWork, incident_id: str, *, lock: bool = False) -> Postmortem:
        # An unknown incident, another tenant's, and one without a post-mortem answer alike.
        found = self._stores.postmortems(uow).for_incident(incident_id, lock=lock)
        if found is None:
            raise NotFound("post-mortem of incident", incident_id)
        return found


def _require_draft(postmortem: Postmortem) -> None:
    if postmortem.status is not PostmortemStatus.DRAFT:
        raise Conflict(
            f"the post-mortem is {postmortem.status.value}: only a draft is drafted again"
        )


def _item(given: ActionItemInput, previous: ActionItem | None, now: datetime) -> ActionItem:
    completed_at = None
    if given.status is ActionItemStatus.DONE:
        # Done stays done since it was first marked so; reopening clears it.
        was_done = previous is not None and previous.status is ActionItemStatus.DONE
        completed_at = previous.completed_at if previous is not None and was_done else now
    return ActionItem(
        id=previous.id if previous else new_id("act", int(now.timestamp() * 1000)),
        title=given.title,
        owner_member_id=given.owner_member_id,
        due_date=given.due_date,
        status=given.status,
        created_at=previous.created_at if previous else now,
        completed_at=completed_at,
    )
