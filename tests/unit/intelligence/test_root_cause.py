"""Root cause ranking: the faulty service first, with its evidence — on hand-made cases and
on generated injected-fault scenarios."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.bench_rca import analyse, score
from bench.rca_scenarios import generate, is_hit
from orchestrix.domain.intelligence.evidence import Change, Signal
from orchestrix.domain.intelligence.root_cause import rank_causes
from orchestrix.domain.intelligence.topology import Service, ServiceGraph

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
# web -> api -> {db, cache}; search -> db
GRAPH = ServiceGraph.of(
    [
        Service("web", ("api",)),
        Service("api", ("db", "cache")),
        Service("search", ("db",)),
        Service("db"),
        Service("cache"),
    ]
)


def sig(id_: str, service: str, minutes: float, kind: str = "alert", linked: bool = True) -> Signal:
    at = T0 + timedelta(minutes=minutes)
    return Signal(id_, service, f"{service}-{kind}", kind, at, "critical", linked=linked)  # type: ignore[arg-type]


def test_earliest_upstream_alert_is_the_cause_not_the_page_that_fired_last():
    signals = [sig("alr_web", "web", 3), sig("alr_api", "api", 2), sig("alr_db", "db", 0)]

    ranked = rank_causes(GRAPH, {"web"}, signals, [])

    assert ranked[0].service == "db"
    assert ranked[0].cause_id == "alr_db"
    assert {"alr_db", "alr_api"} <= set(ranked[0].evidence_ids)
    assert "upstream of troubled" in ranked[0].reason


def test_a_deployment_just_before_the_trouble_is_named_as_the_cause():
    signals = [sig("alr_api", "api", 1, "error"), sig("alr_web", "web", 2)]
    deploy = Change("chg_api", "api", "deployment", "api v2", T0 - timedelta(minutes=3))
    old = Change("chg_db_old", "db", "deployment", "db patch", T0 - timedelta(hours=3))

    ranked = rank_causes(GRAPH, {"web"}, signals, [deploy, old])

    assert ranked[0].cause_id == "chg_api"
    assert ranked[0].kind == "change"
    assert "chg_db_old" not in {i for c in ranked for i in c.evidence_ids}


def test_a_service_outside_the_incidents_upstream_is_no_candidate():
    signals = [sig("alr_web", "web", 1), sig("alr_search", "search", -5, linked=False)]
    deploy = Change("chg_search", "search", "deployment", "search v9", T0 - timedelta(minutes=6))

    ranked = rank_causes(GRAPH, {"web"}, signals, [deploy])

    assert [c.service for c in ranked] == ["web"]


def test_an_alert_that_ended_before_the_incident_began_is_not_evidence():
    flapped = Signal(
        "alr_cache",
        "cache",
        "cache-flap",
        "alert",
        T0 - timedelta(minutes=20),
        ended_at=T0 - timedelta(minutes=15),
    )
    signals = [flapped, sig("alr_api", "api", 0), sig("alr_web", "web", 1)]

    ranked = rank_causes(GRAPH, {"web"}, signals, [])

    assert ranked[0].service == "api"
    assert "alr_cache" not in {i for c in ranked for i in c.evidence_ids}


def test_same_evidence_gives_the_same_ranking():
    scenario = generate(7)
    first = [(c.service, c.cause_id, c.score) for c in analyse(scenario)]
    again = [(c.service, c.cause_id, c.score) for c in analyse(generate(7))]
    assert first == again


def test_scenarios_differ_by_seed_and_know_their_cause():
    a, b = generate(1), generate(2)
    assert (a.services, a.cause_service) != (b.services, b.cause_service)
    assert all(a.cause_service in {s.name for s in a.services} for a in (a, b))


def test_hit_requires_the_causing_change_when_a_change_did_it():
    scenario = next(s for s in map(generate, range(50)) if s.cause_change_id)
    assert is_hit(scenario, scenario.cause_service, scenario.cause_change_id or "")
    assert not is_hit(scenario, scenario.cause_service, "alr_other")


def test_injected_fault_scenarios_rank_the_cause_first_most_of_the_time():
    # Seeds never used while developing the ranking (bench reports 1000-1499).
    totals = score(range(3000, 3200))["all"]
    assert totals["top1"] / totals["n"] >= 0.78
    assert totals["top3"] / totals["n"] >= 0.9
