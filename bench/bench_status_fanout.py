"""Posting a status page update: what the request costs now that subscribers are told behind
it, and what the fan-out run that tells them costs.

Wired by bootstrap as the local runtime wires it (embedded PostgreSQL, moto for KMS and the
Scheduler in this process, signed webhooks through the egress policy to an HTTP receiver on
127.0.0.1). Each repetition posts one incident by hand (`StatusEventService.post_incident`,
what `POST …/incidents` calls) on a page with SUBSCRIBERS confirmed webhook subscribers, then
runs the fan-out (`StatusFanout.run`, what the scheduled run calls) until the receiver has
read every update. Reference, measured in the same run: the same post on a page with no
subscriber. Before the fan-out, the request did the post and the whole run itself.
"""

from __future__ import annotations

import statistics
import time
import uuid

from bench.bench_escalation import _local_stack, _Receiver

SUBSCRIBERS = 500
REPEAT = 5


def _page(tenant: str, subscribers: int, receiver: _Receiver) -> tuple[str, str]:
    from orchestrix import bootstrap
    from orchestrix.adapters.postgres.status_components import (
        status_page_service,
        status_subscriber_service,
    )
    from orchestrix.domain.identity import Principal, Role
    from orchestrix.domain.status_inputs import SubscriberSpec
    from orchestrix.domain.status_pages import ComponentSpec, PageSpec

    admin = Principal(tenant, "bench", frozenset({Role.ADMIN}))
    pages = status_page_service()
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    page = pages.create(admin, PageSpec(slug=slug, title="Bench"), None)
    component = pages.save_component(admin, page.id, None, ComponentSpec(name="API"), None)
    for n in range(subscribers):
        spec = SubscriberSpec(channel="webhook", address=f"{receiver.url}/confirm/{n}")
        status_subscriber_service().add(admin, page.id, spec, None)
    with bootstrap.unit_of_work(tenant, "bench") as uow:  # as if each had clicked its link
        uow.conn.execute(  # type: ignore[attr-defined]
            "UPDATE status_subscribers SET status = 'confirmed', address = replace(address, "
            "'/confirm/', '/update/') WHERE page_id = %s",
            (page.id,),
        )
        uow.commit()
    return page.id, component.id


def _post(tenant: str, page_id: str, component_id: str) -> tuple[str, float]:
    from orchestrix.adapters.postgres.status_components import status_event_service
    from orchestrix.domain.identity import Principal, Role
    from orchestrix.domain.status_inputs import IncidentSpec
    from orchestrix.domain.status_pages import ComponentStatus

    editor = Principal(tenant, "bench", frozenset({Role.RESPONDER}))
    spec = IncidentSpec(
        name="API errors",
        body="Investigating",
        components={component_id: ComponentStatus.MAJOR_OUTAGE},
    )
    start = time.perf_counter()
    posted = status_event_service().post_incident(editor, page_id, spec, None)
    return posted.updates[0].id, (time.perf_counter() - start) * 1000


def _measure(receiver: _Receiver) -> dict[str, list[float]]:
    from orchestrix.adapters.postgres.status_components import status_fanout

    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    quiet_page, quiet_component = _page(tenant, 0, receiver)
    page_id, component_id = _page(tenant, SUBSCRIBERS, receiver)
    results: dict[str, list[float]] = {"post": [], "quiet": [], "run": [], "rate": []}
    for _ in range(REPEAT + 1):  # the first is a warm-up
        _, quiet = _post(tenant, quiet_page, quiet_component)
        receiver.arrived.clear()
        update_id, post = _post(tenant, page_id, component_id)
        assert not receiver.arrived  # answered before anything was sent
        start = time.perf_counter()
        result = status_fanout().run(tenant, update_id, 0, lambda: 900.0)
        run = (time.perf_counter() - start) * 1000
        assert result.done == SUBSCRIBERS and len(receiver.arrived) == SUBSCRIBERS, result
        results["quiet"].append(quiet)
        results["post"].append(post)
        results["run"].append(run)
        results["rate"].append(SUBSCRIBERS / run * 1000)
    return {name: values[1:] for name, values in results.items()}


def run() -> str:
    receiver = _Receiver()
    try:
        with _local_stack():
            r = _measure(receiver)
    finally:
        receiver.close()
    post, quiet, fanout = (statistics.median(r[k]) for k in ("post", "quiet", "run"))
    lines = [
        "## Status page updates: the request and the fan-out behind it",
        "",
        f"One incident posted by hand on a page with {SUBSCRIBERS} confirmed webhook "
        f"subscribers, {REPEAT} times (after a warm-up), through `post_incident` (what "
        "`POST …/incidents` calls) on embedded PostgreSQL with moto for KMS/Scheduler in "
        "process; then the fan-out run (`StatusFanout.run`, what the scheduled run calls) "
        "until a receiver on 127.0.0.1 has read all signed webhooks. Reference measured in the "
        "same run: the same post on a page without subscribers. Medians.",
        "",
        "| measurement | median | min | max |",
        "|---|---:|---:|---:|",
        *(
            f"| {label} | {statistics.median(r[k]):.1f} {unit} | {min(r[k]):.1f} | "
            f"{max(r[k]):.1f} |"
            for label, k, unit in (
                (f"post, {SUBSCRIBERS} subscribers (outbox rows written)", "post", "ms"),
                ("reference: post, no subscriber", "quiet", "ms"),
                (f"fan-out run, {SUBSCRIBERS} webhooks read by the receiver", "run", "ms"),
                ("fan-out rate", "rate", "webhooks/s"),
            )
        ),
        "",
        f"The post answers in {post / quiet:.2f}× the time of the same post without "
        f"subscribers; before, the request also did the whole run, {(post + fanout) / post:.0f}× "
        f"its time now ({(post + fanout) / 1000:.1f} s for {SUBSCRIBERS} subscribers, "
        f"slowest post {max(r['post']):.1f} ms). At the measured rate API Gateway's 29 s "
        f"would have been reached at about {statistics.median(r['rate']) * 29:.0f} "
        "subscribers on this machine (fewer with real receivers' latency).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
