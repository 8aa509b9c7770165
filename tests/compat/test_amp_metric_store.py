# ruff: noqa: F811  (pytest fixtures imported from tests.api.conftest, used as arguments)
"""The `amp` metric backend against a real Prometheus standing in for Amazon Managed Service
for Prometheus (SigV4 checked by the stand-in): the same API, the data in the workspace,
every tenant confined to its own series however the query is crafted."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest

from orchestrix import bootstrap
from orchestrix.adapters.amp.client import AmpClient, workspace_url
from orchestrix.adapters.metrics import MetricMetadata, encode_write_request
from orchestrix.adapters.postgres.alerting_components import evaluation_service
from orchestrix.domain.errors import ServiceUnavailable
from tests.api.conftest import (  # noqa: F401
    Client,
    api,
    api_home,
    client,
    token,
)
from tests.api.test_alerting_api import RecordedEvents
from tests.api.test_metrics_api import PROTOBUF, basic, ingest_key
from tests.compat.amp_standin import (
    ACCESS_KEY,
    PROMETHEUS,
    REGION,
    SECRET_KEY,
    WORKSPACE,
    StandIn,
    amp_standin,
)

pytestmark = [pytest.mark.compat, pytest.mark.xdist_group("compat")]
PROBLEM = "application/problem+json"
WRITE = "/api/v1/metrics/write"
QUERY = "/prometheus/api/v1"


@pytest.fixture(scope="module")
def amp(api: Client, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    if PROMETHEUS is None:
        pytest.skip("the prometheus binary is not installed (Debian package `prometheus`)")
    original = bootstrap.settings()
    database = bootstrap.database()
    saved = dict(bootstrap._overrides)
    with (
        amp_standin(tmp_path_factory.mktemp("amp")) as standin,
        pytest.MonkeyPatch.context() as env,
    ):
        # The function role's credentials, as Lambda hands them over: the environment.
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SECURITY_TOKEN"):
            env.delenv(name, raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        env.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        amp_settings = replace(
            original,
            metrics_backend="amp",
            amp_workspace_id=WORKSPACE,
            amp_region=REGION,
            amp_endpoint_url=standin.endpoint,
        )
        bootstrap.configure(settings=amp_settings, database=database)
        try:
            yield standin
        finally:
            # Exactly the overrides found: a database pinned here would outlive the session
            # fixture that closes it, and the next module would get a closed pool.
            bootstrap._overrides.clear()
            bootstrap.configure(**saved)


def now_ms() -> int:
    return int(bootstrap.clock().now().timestamp() * 1000)


def tenant_pair() -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return f"ampa-{suffix}", f"ampb-{suffix}"


def remote_write(api: Client, tenant: str, series, **kw):  # type: ignore[no-untyped-def]
    body = encode_write_request(series, **kw)
    return api.post(WRITE, basic(ingest_key(api, tenant)), raw=body, headers=PROTOBUF)


def prom(api: Client, tenant: str, path: str, **params: str) -> dict:  # type: ignore[type-arg]
    reply = api.get(f"{QUERY}/{path}?{urlencode(params)}", token(tenant, "viewer"))
    assert reply.status == 200, reply.body
    return reply.json  # type: ignore[no-any-return]


def seed(api: Client, tenant: str, at: int, job: str, value: float = 1.0) -> None:
    series = [
        ({"__name__": "amp_requests_total", "job": job, "path": "/a"}, [(at - 30_000, value)]),
        ({"__name__": "amp_up", "job": job}, [(at, 1.0)]),
    ]
    series[0][1].append((at, value + 1))
    reply = remote_write(api, tenant, series)
    assert reply.status == 204, reply.body


def test_remote_write_then_query_through_our_api_reads_the_workspace(
    amp: StandIn, api: Client
) -> None:
    # Given a tenant that remote-writes two samples of a counter through Orchestrix
    a, _ = tenant_pair()
    at = now_ms()
    seed(api, a, at, "api", value=5.0)

    # When it queries through Orchestrix's Prometheus API
    instant = prom(api, a, "query", query="amp_requests_total", time=str(at / 1000), timeout="1.5")
    ranged = prom(
        api, a, "query_range", query="sum(amp_requests_total)",
        start=str((at - 30_000) / 1000), end=str(at / 1000), step="15",
    )  # fmt: skip

    # Then the answers come from the workspace, without the tenant label
    assert instant["data"]["result"] == [
        {
            "metric": {"__name__": "amp_requests_total", "job": "api", "path": "/a"},
            "value": [at / 1000, "6"],
        }
    ]
    assert ranged["data"]["result"][0]["metric"] == {}
    assert ranged["data"]["result"][0]["values"][-1] == [at / 1000, "6"]
    # and the workspace holds the series under the writer's tenant, which no sender chose
    stored = amp.raw_query(f'amp_requests_total{{orchestrix_tenant="{a}"}}', at / 1000)
    assert [s["metric"]["job"] for s in stored] == ["api"]  # type: ignore[index]
    # and every request reached the workspace signed with SigV4 for `aps` in its region
    assert amp.refused == []
    paths = {f.path for f in amp.forwarded}
    assert {"/api/v1/write", "/api/v1/query", "/api/v1/query_range"} <= paths


def test_listing_calls_and_metadata_are_the_tenants_own(amp: StandIn, api: Client) -> None:
    a, b = tenant_pair()
    at = now_ms()
    seed(api, a, at, "only-a")
    reply = remote_write(
        api,
        b,
        [({"__name__": "amp_b_only", "team": "b"}, [(at, 2.0)])],
        metadata=[MetricMetadata("amp_b_only", "gauge", "B's secret help", "")],
    )
    assert reply.status == 204, reply.body
    window = {"start": str((at - 60_000) / 1000), "end": str(at / 1000 + 1)}

    series = prom(api, a, "series", **{"match[]": '{__name__=~".+"}'}, **window)["data"]
    names = prom(api, a, "labels", **window)["data"]
    names_ever = prom(api, a, "labels")["data"]  # Prometheus' "no bound" window
    jobs = prom(api, a, "label/job/values", **window)["data"]
    tenants = prom(api, a, "label/orchestrix_tenant/values", **window)["data"]
    metadata_a = prom(api, a, "metadata")["data"]
    metadata_b = prom(api, b, "metadata")["data"]

    assert sorted(s["__name__"] for s in series) == ["amp_requests_total", "amp_up"]
    assert all("orchestrix_tenant" not in s for s in series)
    assert names == names_ever == ["__name__", "job", "path"]
    assert jobs == ["only-a"]
    assert tenants == []
    assert metadata_a == {}
    assert metadata_b == {"amp_b_only": [{"type": "gauge", "help": "B's secret help", "unit": ""}]}


@pytest.mark.parametrize(
    "query",
    [
        '{__name__=~".+"}',
        'amp_requests_total{orchestrix_tenant=~".+"}',
        'label_replace({__name__=~".+"}, "orchestrix_tenant", "x", "", "")',
        'count by (orchestrix_tenant) ({__name__=~".+"})',
        'count({__name__=~".+"})',
        'sum without () (rate({__name__=~".+"}[5m]))',
        'max_over_time({__name__=~".+"}[10m:1m])',
        '{job="victim"} unless on() vector(0) == 1',
        'vector(1) + on() group_right {job="victim"}',
        'absent(nonexistent) and on() {job="victim"}',
    ],
)
def test_crafted_promql_never_reaches_another_tenants_series(
    amp: StandIn,
    api: Client,
    query: str,
) -> None:
    # Given tenant A's series in the shared workspace, and tenant B with none
    a, b = tenant_pair()
    at = now_ms()
    seed(api, a, at, "victim")
    assert amp.raw_query(f'amp_up{{orchestrix_tenant="{a}"}}', at / 1000)  # they are there

    # When tenant B sends a query crafted to reach every series
    reply = api.get(
        f"{QUERY}/query?{urlencode({'query': query, 'time': str(at / 1000)})}",
        token(b, "viewer"),
    )

    # Then B gets what a tenant without data gets: nothing at all
    assert reply.status == 200, reply.body
    assert reply.json["data"]["result"] == []


def test_rule_evaluation_reads_the_workspace_for_its_own_tenant_only(
    amp: StandIn,
    api: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = RecordedEvents()
    monkeypatch.setattr(bootstrap, "event_publisher", lambda: events)
    # Given tenant A's queue depth in the workspace, and the same rule in A and in B
    a, b = tenant_pair()
    t0 = bootstrap.clock().now().replace(second=0, microsecond=0)
    ms = int(t0.timestamp() * 1000)
    depth = {"__name__": "amp_queue_depth", "queue": "mail"}
    reply = remote_write(api, a, [(depth, [(ms - 60_000, 120.0), (ms, 130.0)])])
    assert reply.status == 204, reply.body
    for tenant in (a, b):
        created = api.post(
            "/api/v1/alert-rules",
            token(tenant),
            {"name": "QueueBacklog", "expr": "amp_queue_depth > 100", "severity": "warning"},
        )
        assert created.status == 201, created.body

    # When rules are evaluated for both tenants
    fired_a = evaluation_service().tick(a, t0)
    fired_b = evaluation_service().tick(b, t0)

    # Then A's rule fires on the workspace's data and B's, with no data of its own, does not
    assert (fired_a.rules_evaluated, fired_a.fired) == (1, 1)
    assert (fired_b.rules_evaluated, fired_b.fired) == (1, 0)
    alerts = api.get("/api/v1/alerts?status=firing", token(a, "viewer")).json["items"]
    assert alerts[0]["labels"] == {
        "alertname": "QueueBacklog",
        "queue": "mail",
        "severity": "warning",
    }
    assert (events.of(a), events.of(b)) == (["alert.fired"], [])
    # read as raw samples through one confined range selector per rule selector
    selects = [v for f in amp.forwarded for k, v in f.params if k == "query"]
    assert any(q.startswith(f'amp_queue_depth{{orchestrix_tenant="{a}"}}[') for q in selects)
    # each with the rule query budget as the workspace's own timeout
    budgets = {dict(f.params).get("timeout") for f in amp.forwarded if f.path == "/api/v1/query"}
    assert f"{bootstrap.settings().rule_query_timeout_s:g}" in budgets


def test_a_series_claiming_the_tenant_label_is_400_naming_it_and_stores_nothing(
    amp: StandIn,
    api: Client,
) -> None:
    a, b = tenant_pair()
    at = now_ms()
    reply = remote_write(
        api,
        a,
        [
            ({"__name__": "amp_ok", "job": "x"}, [(at, 1.0)]),
            ({"__name__": "amp_forged", "orchestrix_tenant": b}, [(at, 1.0)]),
        ],
    )
    assert reply.status == 400
    assert reply.content_type == PROBLEM
    problem = reply.json
    assert "orchestrix_tenant" in problem["detail"]
    assert problem["errors"][0]["loc"] == ["series", 1, "labels", "orchestrix_tenant"]
    assert amp.raw_query('{__name__=~"amp_ok|amp_forged"}', at / 1000) == []


def test_bad_queries_stay_prometheus_400s_naming_the_parameter(amp: StandIn, api: Client) -> None:
    a, _ = tenant_pair()
    before = len(amp.forwarded)
    bad_query = api.get(f"{QUERY}/query?query={quote('sum(')}", token(a, "viewer"))
    no_step = api.get(f"{QUERY}/query_range?query=up&start=1&end=2", token(a, "viewer"))
    bad_match = api.get(
        f"{QUERY}/series?{urlencode({'match[]': 'rate(x[5m])'})}", token(a, "viewer")
    )
    for reply, name in ((bad_query, "query"), (no_step, "step"), (bad_match, "match[]")):
        assert reply.status == 400, reply.body
        assert reply.json["errorType"] == "bad_data"
        assert f'invalid parameter "{name}"' in reply.json["error"]
    assert len(amp.forwarded) == before  # refused before anything left for the workspace


def test_requests_signed_with_the_wrong_secret_are_refused_and_answered_503(amp: StandIn) -> None:
    # The stand-in really checks signatures: a client with another secret is turned away,
    # and Orchestrix reports that as its own outage, not the caller's fault.
    from botocore.credentials import Credentials

    wrong = AmpClient(
        workspace_url(REGION, WORKSPACE, amp.endpoint), REGION, Credentials(ACCESS_KEY, "nope")
    )
    refused_before = len(amp.refused)
    with pytest.raises(ServiceUnavailable, match="403"):
        wrong.api("query", [("query", "vector(1)")])
    assert amp.refused[refused_before:] == ["signature mismatch"]


def test_time_moves_on_and_staleness_is_the_workspaces(amp: StandIn, api: Client) -> None:
    # A query six minutes after the last sample finds nothing: the lookback is the store's.
    a, _ = tenant_pair()
    at = now_ms()
    seed(api, a, at, "stale")
    later = (at + int(timedelta(minutes=6).total_seconds() * 1000)) / 1000
    assert prom(api, a, "query", query="amp_up", time=str(later))["data"]["result"] == []


@pytest.mark.parametrize(
    "query",
    ["1/0", "-1/0", "0/0", "vector(1e-7)", '"text"', "scalar(vector(2.5))", "vector(1e22)"],
)
def test_answers_carry_the_workspaces_values_unchanged(
    amp: StandIn, api: Client, query: str
) -> None:
    a, _ = tenant_pair()
    at = now_ms() / 1000
    ours = prom(api, a, "query", query=query, time=str(at))["data"]["result"]
    assert ours == amp.raw_query(query, at)


def test_a_large_batch_is_forwarded_in_several_requests_and_stored_whole(
    amp: StandIn, api: Client
) -> None:
    # Given a backfill of three series with 6,000 samples each (18,000 in one request)
    a, _ = tenant_pair()
    at = now_ms()
    samples = [(at - i * 50, float(i)) for i in reversed(range(6000))]
    series = [({"__name__": "amp_backfill", "shard": str(n)}, samples) for n in range(3)]
    writes_before = sum(f.path == "/api/v1/write" for f in amp.forwarded)

    reply = remote_write(api, a, series)

    # Then it reaches the workspace in more than one remote write, and every sample is there
    assert reply.status == 204, reply.body
    assert sum(f.path == "/api/v1/write" for f in amp.forwarded) - writes_before >= 2
    counts = prom(api, a, "query", query="count_over_time(amp_backfill[10m])", time=str(at / 1000))
    assert sorted(s["value"][1] for s in counts["data"]["result"]) == ["6000"] * 3


def test_tsdb_status_counts_the_tenants_active_series_only(amp: StandIn, api: Client) -> None:
    a, b = tenant_pair()
    at = now_ms()
    seed(api, a, at, "tsdb")
    seed(api, b, at, "other")
    status = prom(api, a, "status/tsdb")["data"]
    assert status["headStats"]["numSeries"] == 2
    assert sorted(p["name"] for p in status["seriesCountByMetricName"]) == [
        "amp_requests_total",
        "amp_up",
    ]


def test_a_sample_the_workspace_refuses_is_a_400_problem_and_an_outage_a_503(
    amp: StandIn, api: Client
) -> None:
    # Given a series the workspace holds a sample of
    a, _ = tenant_pair()
    at = now_ms()
    labels = {"__name__": "amp_ooo", "job": "x"}
    assert remote_write(api, a, [(labels, [(at, 1.0)])]).status == 204

    # When a sender writes an older sample of it (out of order for the workspace)
    refused = remote_write(api, a, [(labels, [(at - 60_000, 2.0)])])

    # Then the sender gets a 400 problem (dropped, not retried) saying what the store said
    assert refused.status == 400, refused.body
    assert refused.content_type == PROBLEM
    assert refused.json["detail"].startswith("the metric store refused the batch: ")
    assert "out of order" in refused.json["detail"]

    # and an unreachable workspace is the stage's outage: 503, which senders retry
    from orchestrix.local.aws import free_port

    gone = AmpClient(
        workspace_url(REGION, WORKSPACE, f"http://127.0.0.1:{free_port()}"),
        REGION,
        standin_credentials(),
    )
    with pytest.raises(ServiceUnavailable, match="unreachable"):
        gone.remote_write(b"")


def standin_credentials():  # type: ignore[no-untyped-def]
    from botocore.credentials import Credentials

    return Credentials(ACCESS_KEY, SECRET_KEY)


def test_housekeeping_still_ages_out_samples_stored_in_aurora_before_the_switch(
    amp: StandIn, api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given samples a tenant wrote to Aurora 40 days ago, before its stage moved to AMP
    from orchestrix.adapters.metrics import parse_exposition
    from orchestrix.promql import LabelMatcher
    from tests.api.test_job_lock_api import load, run

    a, _ = tenant_pair()
    old = now_ms() - 40 * 86_400_000
    batch = parse_exposition(f"amp_before_switch 1 {old}\n", content_type=None, now_ms=now_ms())
    bootstrap.postgres_metric_store().write(a, batch)
    monkeypatch.setattr(bootstrap, "event_publisher", RecordedEvents)

    # When the daily housekeeping runs on the amp stage
    result = run(load("housekeeping"), {})

    # Then that day's partition is dropped, as retention promises
    day = time.strftime("%Y%m%d", time.gmtime(old / 1000))
    assert any(name.endswith(day) for name in result["dropped_metric_partitions"]), result
    name = LabelMatcher.of("__name__", "=", "amp_before_switch")
    assert bootstrap.postgres_metric_store().reader(a).select([name], 0, now_ms()) == []


def test_an_import_goes_to_the_workspace_with_its_metadata_kept_apart(
    amp: StandIn, api: Client
) -> None:
    a, _ = tenant_pair()
    at = now_ms()
    text = (
        f'# TYPE amp_imported gauge\n# HELP amp_imported Imported.\namp_imported{{k="v"}} 7 {at}\n'
    )
    reply = api.post(
        "/api/v1/metrics/import",
        basic(ingest_key(api, a)),
        raw=text.encode(),
        headers={"Content-Type": "text/plain; version=0.0.4"},
    )
    assert reply.status == 204, reply.body

    found = prom(api, a, "query", query="amp_imported", time=str(at / 1000))["data"]["result"]
    assert found == [{"metric": {"__name__": "amp_imported", "k": "v"}, "value": [at / 1000, "7"]}]
    assert amp.raw_query(f'amp_imported{{orchestrix_tenant="{a}"}}', at / 1000) != []
    assert prom(api, a, "metadata", metric="amp_imported")["data"] == {
        "amp_imported": [{"type": "gauge", "help": "Imported.", "unit": ""}]
    }
