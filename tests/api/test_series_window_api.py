"""/series, /labels and /label/<name>/values list a series only if it has a sample in
[start, end], as Prometheus does — not whenever its stored bounds come near the window."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import pytest

from orchestrix import bootstrap
from tests.api.conftest import Client, token
from tests.api.test_metrics_api import ingest_key, write

API = "/api/v1/metrics"
HOUR = 3600
DAY0 = 1_789_948_800  # a UTC midnight: every sample below is on this one day
T0 = DAY0 + HOUR


@pytest.fixture(params=["head", "compacted"])
def tenant(api: Client, request: pytest.FixtureRequest) -> str:
    """One batch: `stopped` has samples for 10 min only, `alive` for 5 h, `gappy` at the
    first and last instants only — the batch's bounds cover all three. As written (in the
    metric store's head) and compacted into chunks."""
    tenant = f"sw-{uuid.uuid4().hex[:8]}"
    minutes = range(0, 10)
    series = [
        ({"__name__": "w", "job": "stopped", "gone": "yes"},
         [((T0 + m * 60) * 1000, 1.0) for m in minutes]),
        ({"__name__": "w", "job": "alive"}, [((T0 + m * 60) * 1000, 1.0) for m in range(301)]),
        ({"__name__": "w", "job": "gappy"}, [(T0 * 1000, 1.0), ((T0 + 5 * HOUR) * 1000, 1.0)]),
    ]  # fmt: skip
    assert write(api, ingest_key(api, tenant), series).status == 204
    if request.param == "compacted":
        assert bootstrap.postgres_metric_store().compact(tenant) is not None
    return tenant


def listing(api: Client, tenant: str, path: str, start: int, end: int, match: bool = True):  # type: ignore[no-untyped-def]
    params: dict[str, object] = {"start": start, "end": end}
    if match:
        params["match[]"] = "w"
    reply = api.get(f"{API}{path}?{urlencode(params)}", token(tenant, "viewer"))
    assert reply.status == 200, reply.body
    return reply.json["data"]


def test_series_that_stopped_hours_before_start_is_not_listed(api, tenant):
    start, end = T0 + 3 * HOUR + 10 * 60, T0 + 4 * HOUR  # `stopped` ended 3 h before start

    found = listing(api, tenant, "/series", start, end)

    assert [s["job"] for s in found] == ["alive"]


def test_labels_and_values_follow_the_same_window(api, tenant):
    start, end = T0 + 3 * HOUR + 10 * 60, T0 + 4 * HOUR

    for match in (True, False):
        names = listing(api, tenant, "/labels", start, end, match)
        jobs = listing(api, tenant, "/label/job/values", start, end, match)
        metrics = listing(api, tenant, "/label/__name__/values", start, end, match)

        assert names == ["__name__", "job"]  # `gone` is only on the stopped series
        assert jobs == ["alive"]
        assert metrics == ["w"]


def test_a_sample_inside_the_window_lists_the_series(api, tenant):
    # Inside one day-chunk: `gappy` straddles the window without a sample in it.
    inside = listing(api, tenant, "/series", T0 + 5 * 60, T0 + 2 * HOUR)
    edge = listing(api, tenant, "/series", T0 + 9 * 60, T0 + 9 * 60)
    late = listing(api, tenant, "/label/job/values", T0 + 5 * HOUR, T0 + 6 * HOUR, False)

    assert sorted(s["job"] for s in inside) == ["alive", "stopped"]
    assert sorted(s["job"] for s in edge) == ["alive", "stopped"]
    assert late == ["alive", "gappy"]
