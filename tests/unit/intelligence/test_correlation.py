"""Correlation rules, inhibition and topology/similarity grouping (pure rules)."""

from __future__ import annotations

from datetime import timedelta

from orchestrix.domain.alerting.matchers import Matcher
from orchestrix.domain.intelligence.correlation import (
    CorrelationRule,
    CorrelationSettings,
    InhibitionRule,
    OpenIncident,
    closest_incident,
    label_similarity,
)
from orchestrix.domain.intelligence.topology import Service, ServiceGraph

GRAPH = ServiceGraph.of([Service("web", ("api",)), Service("api", ("db",)), Service("db")])


def test_inhibition_needs_both_matchers_and_equal_labels():
    rule = InhibitionRule(
        source=(Matcher("alertname", "=", "ClusterDown"),),
        target=(Matcher("severity", "=~", "warning|critical"),),
        equal=("cluster",),
    )
    source = {"alertname": "ClusterDown", "cluster": "eu-1"}
    assert rule.inhibits(source, {"alertname": "X", "severity": "critical", "cluster": "eu-1"})
    assert not rule.inhibits(source, {"alertname": "X", "severity": "critical", "cluster": "us-1"})
    assert not rule.inhibits(source, {"alertname": "X", "severity": "info", "cluster": "eu-1"})
    assert not rule.inhibits({"alertname": "Y", "cluster": "eu-1"}, {"severity": "critical"})


def test_rule_groups_by_its_labels():
    rule = CorrelationRule(
        "db", (Matcher("team", "=", "data"),), ("cluster",), timedelta(minutes=5), 3
    )
    assert rule.applies({"team": "data", "cluster": "a"})
    assert not rule.applies({"team": "web"})
    assert rule.group_key({"team": "data", "cluster": "a", "x": "1"}) == "rule:db:cluster=a"


def test_label_similarity_ignores_volatile_labels():
    a = {"alertname": "A", "service": "api", "env": "prod", "instance": "1"}
    b = {"alertname": "B", "service": "api", "env": "prod", "instance": "2"}
    c = {"alertname": "A", "service": "db", "env": "dev"}
    assert label_similarity(a, b) == 1.0
    assert label_similarity(a, c) == 0.0


def test_an_alert_joins_the_incident_of_a_neighbouring_service_first():
    settings = CorrelationSettings(topology_hops=1, similarity=0.5)
    incidents = [
        OpenIncident("inc_similar", "search", {"env": "prod", "region": "eu"}),
        OpenIncident("inc_neighbour", "web", {"env": "dev"}),
    ]
    labels = {"service": "api", "env": "prod", "region": "eu"}

    near = closest_incident(labels, incidents, settings, GRAPH.distance)

    assert near is not None and near.incident_id == "inc_neighbour"
    assert "hop" in near.reason


def test_two_hops_away_is_too_far_with_one_hop_allowed():
    settings = CorrelationSettings(topology_hops=1)
    near = closest_incident(
        {"service": "db"}, [OpenIncident("inc", "web")], settings, GRAPH.distance
    )
    assert near is None


def test_similar_labels_join_without_topology():
    settings = CorrelationSettings(topology_hops=0, similarity=0.6)
    incidents = [OpenIncident("inc", "x", {"env": "prod", "cluster": "c1", "team": "t"})]
    near = closest_incident(
        {"env": "prod", "cluster": "c1", "team": "t", "service": "y"},
        incidents,
        settings,
        GRAPH.distance,
    )
    assert near is not None and near.reason.startswith("labels")


def test_merged_graph_adds_observed_edges():
    observed = ServiceGraph({"web": ("cdn",)})
    merged = GRAPH.merged(observed)
    assert set(merged.dependencies("web")) == {"api", "cdn"}
    assert merged.upstream("web") == {"web": 0, "api": 1, "cdn": 1, "db": 2}


def test_distance_counts_from_any_service_already_in_the_incident():
    settings = CorrelationSettings(topology_hops=1)
    incident = OpenIncident("inc", "db", {}, ("db", "api"))
    near = closest_incident({"service": "web"}, [incident], settings, GRAPH.distance)
    assert near is not None and near.reason == "web is 1 hop(s) from api in the service graph"
