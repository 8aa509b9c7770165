"""PostgresMetricStore against the real database: writes, re-sends, selection, retention."""

from __future__ import annotations

import itertools
import math
import struct
import uuid

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrix.adapters.metrics import MetricMetadata, RemoteWriteDecoder, encode_write_request
from orchestrix.adapters.postgres.database import Database
from orchestrix.adapters.postgres.metric_store import (
    PostgresMetricStore,
    SamplesOutOfBoundsError,
)
from orchestrix.promql.storage import LabelMatcher
from orchestrix.promql.values import STALE_NAN, STALE_NAN_BITS

DAY = 86_400_000
T0 = 1_790_000_000_000  # 2026-09-21


def batch(series, metadata=()):  # type: ignore[no-untyped-def]
    return RemoteWriteDecoder().decode(encode_write_request(series, metadata=metadata))


def m(name: str, op: str, value: str) -> LabelMatcher:
    return LabelMatcher.of(name, op, value)


@pytest.fixture
def store(db: Database) -> PostgresMetricStore:
    return PostgresMetricStore(db)


def http_requests(t0: int = T0, n: int = 3):  # type: ignore[no-untyped-def]
    return [
        (
            {"__name__": "http_requests_total", "job": "api", "method": method},
            [(t0 + i * 15_000, float(i * k)) for i in range(n)],
        )
        for k, method in enumerate(["GET", "POST", "PUT"], start=1)
    ]


def test_written_samples_come_back_in_label_order_with_exact_values(store, tenant):
    store.write(tenant, batch(http_requests()))

    found = store.reader(tenant).select([m("__name__", "=", "http_requests_total")], T0, T0 + DAY)

    assert [dict(s.labels)["method"] for s in found] == ["GET", "POST", "PUT"]
    assert list(found[1].timestamps) == [T0, T0 + 15_000, T0 + 30_000]
    assert list(found[1].values) == [0.0, 2.0, 4.0]


def test_resending_a_batch_stores_each_sample_once(store, tenant, db):
    body = batch(http_requests())
    first = store.write(tenant, body)
    again = store.write(tenant, body)
    fresh_process = PostgresMetricStore(db).write(tenant, body)

    found = store.reader(tenant).select([m("job", "=", "api")], T0, T0 + DAY)
    assert [len(s.values) for s in found] == [3, 3, 3]
    assert (first.duplicates_possible, again.duplicates_possible) == (False, True)
    assert fresh_process.duplicates_possible


def test_resent_single_sample_batch_is_stored_once_and_merges_with_a_longer_one(store, tenant):
    scrape = batch([(labels, [(T0, 9.0)]) for labels, _ in http_requests()])
    first = store.write(tenant, scrape)
    again = store.write(tenant, scrape)
    store.write(tenant, batch(http_requests(n=3)))  # starts at the same instant

    found = store.reader(tenant).select([m("job", "=", "api")], T0, T0 + DAY)

    assert (first.duplicates_possible, again.duplicates_possible) == (False, True)
    assert [list(s.timestamps) for s in found] == [[T0, T0 + 15_000, T0 + 30_000]] * 3
    assert list(found[1].values) == [0.0, 2.0, 4.0]  # the newer value wins at T0


def test_resent_batch_with_a_new_series_stores_the_new_series_too(store, tenant):
    store.write(tenant, batch(http_requests(n=1)))
    up = ({"__name__": "up", "job": "api"}, [(T0, 1.0)])
    store.write(tenant, batch([*http_requests(n=1), up]))

    found = store.reader(tenant).select([m("job", "=", "api")], T0, T0 + DAY)

    assert [(dict(s.labels)["__name__"], len(s.values)) for s in found] == [
        ("http_requests_total", 1),
        ("http_requests_total", 1),
        ("http_requests_total", 1),
        ("up", 1),
    ]


def test_partially_overlapping_batch_adds_only_the_new_samples(store, tenant):
    store.write(tenant, batch(http_requests(n=3)))
    store.write(tenant, batch(http_requests(n=5)))

    found = store.reader(tenant).select([m("method", "=", "GET")], T0, T0 + DAY)
    assert list(found[0].timestamps) == [T0 + i * 15_000 for i in range(5)]


def test_overlapping_batch_starting_later_leaves_each_timestamp_once(store, tenant):
    store.write(tenant, batch(http_requests(n=4)))
    store.write(tenant, batch(http_requests(t0=T0 + 30_000, n=4)))

    found = store.reader(tenant).select([m("method", "=", "POST")], T0, T0 + DAY)

    assert list(found[0].timestamps) == [T0 + i * 15_000 for i in range(6)]


def test_repeated_unordered_series_in_one_batch_come_back_sorted(store, tenant):
    up = {"__name__": "up", "job": "node"}
    # Across midnight too: each day's samples go to that day's chunk.
    late = T0 - T0 % DAY + DAY - 15_000
    series = [(up, [(late + 30_000, 3.0), (late, 1.0)]), (up, [(late + 15_000, 2.0)])]
    store.write(tenant, batch(series))

    found = store.reader(tenant).select([m("__name__", "=", "up")], 0, T0 + 2 * DAY)

    assert list(found[0].timestamps) == [late, late + 15_000, late + 30_000]
    assert list(found[0].values) == [1.0, 2.0, 3.0]


def test_selection_keeps_only_samples_inside_the_closed_interval(store, tenant):
    store.write(tenant, batch(http_requests(n=10)))

    found = store.reader(tenant).select([m("method", "=", "POST")], T0 + 15_000, T0 + 45_000)

    assert list(found[0].timestamps) == [T0 + 15_000, T0 + 30_000, T0 + 45_000]


def test_series_without_samples_in_the_window_are_not_selected(store, tenant):
    store.write(tenant, batch(http_requests(n=2)))

    assert store.reader(tenant).select([m("job", "=", "api")], T0 + DAY, T0 + 2 * DAY) == []


def test_a_chunk_straddling_the_window_without_a_sample_inside_selects_nothing(store, tenant):
    # Given chunks with samples at T0 and T0 + 60 s only, and another series inside
    store.write(tenant, batch([({"__name__": "gap", "k": "v"}, [(T0, 1.0), (T0 + 60_000, 2.0)])]))
    store.write(tenant, batch([({"__name__": "gap", "k": "w"}, [(T0 + 30_000, 3.0)])]))

    # When the window falls between the first series' samples
    found = store.reader(tenant).select([m("__name__", "=", "gap")], T0 + 10_000, T0 + 50_000)

    # Then only the series with a sample inside comes back
    assert [(s.labels, list(s.values)) for s in found] == [
        ((("__name__", "gap"), ("k", "w")), [3.0])
    ]


@pytest.mark.parametrize(
    ("matchers", "methods"),
    [
        ([m("method", "=~", "GET|PUT")], ["GET", "PUT"]),
        ([m("method", "!~", "G.*")], ["POST", "PUT"]),
        ([m("method", "!=", "POST"), m("job", "=", "api")], ["GET", "PUT"]),
        ([m("__name__", "=~", "http_.*"), m("method", "=~", "p.*")], []),
        ([m("__name__", "=~", "http_.*"), m("method", "=~", "(?i)p.*")], ["POST", "PUT"]),
        ([m("job", "=~", "api"), m("zone", "=", "")], ["GET", "POST", "PUT"]),
        ([m("job", "=", "api"), m("zone", "!=", "")], []),
        ([m("method", "=~", "P.*")], ["POST", "PUT"]),
        ([m("method", "=~", ".*T")], ["GET", "POST", "PUT"]),
        ([m("method", "=~", ".*OS.*")], ["POST"]),
        ([m("method", "=~", "_.*")], []),
        ([m("method", "=~", ".*%")], []),
        ([m("__name__", "=~", "http_req.*"), m("method", "=~", "G.*")], ["GET"]),
        ([m("__name__", "=~", "http%.*")], []),
        ([m("zone", "=~", ".*"), m("method", "=~", "PU.*")], ["PUT"]),
        ([m("zone", "=~", "e.*")], []),
    ],
)
def test_every_matcher_kind_selects_like_prometheus(store, tenant, matchers, methods):
    store.write(tenant, batch(http_requests()))

    found = store.reader(tenant).select(matchers, T0, T0 + DAY)

    assert [dict(s.labels)["method"] for s in found] == methods


def test_staleness_marker_and_special_floats_survive_bit_exact(store, tenant):
    values = [STALE_NAN, math.inf, -math.inf, -0.0, 5e-324]
    store.write(tenant, batch([({"__name__": "g"}, [(T0 + i, v) for i, v in enumerate(values)])]))

    got = store.reader(tenant).select([m("__name__", "=", "g")], T0, T0 + 10)[0].values

    assert struct.pack("<d", got[0]) == struct.pack("<Q", STALE_NAN_BITS)
    assert [struct.pack("<d", v) for v in got[1:]] == [struct.pack("<d", v) for v in values[1:]]


def test_another_tenant_sees_no_series_labels_or_values(store, tenant):
    store.write(tenant, batch(http_requests()))
    other = store.reader(f"{tenant}-other")

    assert other.select([m("__name__", "=~", ".+")], 0, T0 + DAY) == []
    assert other.label_names([], 0, T0 + DAY) == []
    assert other.label_values("method", [], 0, T0 + DAY) == []
    assert other.series([[m("job", "=", "api")]], 0, T0 + DAY) == []


def test_row_level_security_hides_rows_even_without_a_tenant_condition(store, tenant, db):
    store.write(tenant, batch(http_requests()))
    store.compact(tenant)
    store.write(tenant, batch(http_requests(t0=T0 + 60_000)))  # in the head

    with db.connection() as conn:
        conn.execute("SELECT set_config('app.tenant_id', 'nobody', true)")
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM metric_series), (SELECT count(*) FROM metric_samples),"
            " (SELECT count(*) FROM metric_head), (SELECT count(*) FROM metric_compaction)"
        ).fetchone()
        conn.rollback()
    assert counts == (0, 0, 0, 0)


def test_label_listings_cover_names_and_values(store, tenant):
    store.write(tenant, batch(http_requests()))
    store.write(tenant, batch([({"__name__": "up", "job": "node"}, [(T0, 1.0)])]))
    reader = store.reader(tenant)

    assert reader.label_names([], T0, T0 + DAY) == ["__name__", "job", "method"]
    assert reader.label_names([m("__name__", "=", "up")], T0, T0) == ["__name__", "job"]
    assert reader.label_values("__name__", [], T0, T0 + DAY) == ["http_requests_total", "up"]
    assert reader.label_values("job", [m("method", "=", "GET")], T0, T0) == ["api"]
    listed = reader.series([[m("__name__", "=", "up")], [m("method", "=", "PUT")]], T0, T0)
    assert [dict(labels)["job"] for labels in listed] == ["api", "node"]


def test_metadata_keeps_the_latest_description_of_each_family(store, tenant):
    old = MetricMetadata("http_requests_total", "counter", "Requests.")
    new = MetricMetadata("http_requests_total", "counter", "HTTP requests served.")
    store.write(tenant, batch([], metadata=[old, MetricMetadata("up", "gauge", "Up.")]))
    store.write(tenant, batch([], metadata=[new]))

    assert store.reader(tenant).metadata() == [new, MetricMetadata("up", "gauge", "Up.")]
    assert store.reader(tenant).metadata("up") == [MetricMetadata("up", "gauge", "Up.")]


def test_samples_on_several_days_create_their_partitions(store, tenant):
    series = [({"__name__": "daily"}, [(T0 + d * DAY, float(d)) for d in range(3)])]
    store.write(tenant, batch(series))

    found = store.reader(tenant).select([m("__name__", "=", "daily")], T0, T0 + 3 * DAY)
    assert list(found[0].values) == [0.0, 1.0, 2.0]


def test_a_batch_spanning_years_is_refused_as_a_client_error(store, tenant):
    series = [({"__name__": "x"}, [(0, 1.0), (T0, 2.0)])]

    with pytest.raises(SamplesOutOfBoundsError) as refused:
        store.write(tenant, batch(series))
    assert refused.value.status == 400


def test_retention_drops_old_days_and_keeps_recent_ones(store, tenant):
    old_day, recent_day = T0 - 40 * DAY, T0
    store.write(tenant, batch([({"__name__": "r", "age": "old"}, [(old_day, 1.0)])]))
    store.write(tenant, batch([({"__name__": "r", "age": "new"}, [(recent_day, 2.0)])]))

    dropped = store.drop_partitions_older_than(30, now_ms=T0)
    # Written again after the drop: the store must recreate the partition it forgot.
    store.write(tenant, batch([({"__name__": "r", "age": "late"}, [(old_day + 1, 3.0)])]))

    assert any(name.endswith("20260812") for name in dropped)
    found = store.reader(tenant).select([m("__name__", "=", "r")], 0, T0 + DAY)
    assert [dict(s.labels)["age"] for s in found] == ["late", "new"]


def test_unavailable_database_is_a_retryable_503(tenant):
    unreachable = Database("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1", max_size=1)
    unreachable.pool.timeout = 1.0
    store = PostgresMetricStore(unreachable)

    from orchestrix.domain.errors import ServiceUnavailable

    with pytest.raises(ServiceUnavailable) as refused:
        store.write(tenant, batch(http_requests()))
    assert refused.value.status == 503
    assert not isinstance(refused.value, psycopg.Error)


def test_asynchronous_commit_of_a_metric_write_stays_in_its_transaction(store, tenant, db):
    # Given a metric write, which commits without waiting for its WAL flush
    store.write(tenant, batch(http_requests()))

    # Then the samples are stored, and the connection goes back to the pool with the
    # server's synchronous commits for whatever runs on it next
    assert len(store.reader(tenant).select([m("job", "=", "api")], T0, T0 + DAY)) == 3
    with db.connection() as conn:
        assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)
        conn.rollback()


def test_a_series_selected_again_comes_back_with_its_labels_from_the_cache(store, tenant):
    # Given two tenants storing series with the same label sets but different values
    other = tenant + "-b"
    store.write(tenant, batch(http_requests()))
    store.write(
        other, batch([(labels, [(t, v + 100) for t, v in pts]) for labels, pts in http_requests()])
    )

    # When each selects twice (the second time from the label cache)
    for _ in range(2):
        mine = store.reader(tenant).select([m("method", "=~", "GET|PUT")], T0, T0 + DAY)
        theirs = store.reader(other).select([m("method", "!=", "POST")], T0, T0 + DAY)

        # Then both see the right series in label order, each with its own values
        assert [dict(s.labels)["method"] for s in mine] == ["GET", "PUT"]
        assert [dict(s.labels)["method"] for s in theirs] == ["GET", "PUT"]
        assert list(mine[1].values) == [0.0, 3.0, 6.0]
        assert list(theirs[1].values) == [100.0, 103.0, 106.0]


def test_a_window_cutting_an_unevenly_spaced_chunk_reads_exactly_its_samples(store, tenant):
    # One compacted chunk: a sample a second for 100 s, then one an hour later. Reads
    # estimate a window's slice as if samples were evenly spaced; here that is far off.
    stamps = [T0 + i * 1_000 for i in range(100)] + [T0 + 3_599_000]
    store.write(tenant, batch([({"__name__": "up"}, [(t, float(t - T0)) for t in stamps])]))
    store.compact(tenant)
    reader = store.reader(tenant)

    def window(lo_s: float, hi_s: float) -> list[int]:
        found = reader.select([m("__name__", "=", "up")], T0 + int(lo_s * 1000),
                              T0 + int(hi_s * 1000))  # fmt: skip
        return [(t - T0) // 1000 for s in found for t in s.timestamps]

    assert window(50, 60) == list(range(50, 61))
    assert window(98, 3_599) == [98, 99, 3_599]
    assert window(99.5, 3_598) == []


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    gaps=st.lists(st.integers(1, 600_000), min_size=1, max_size=300),
    window=st.tuples(st.integers(0, 40_000_000), st.integers(0, 40_000_000)),
)
def test_any_window_of_compacted_samples_reads_exactly_the_samples_inside(
    store, tenant, gaps, window
):
    # Given a series with arbitrary spacing, compacted into chunks
    owner = f"{tenant}-{uuid.uuid4().hex[:8]}"
    stamps = list(itertools.accumulate(gaps, initial=T0))
    store.write(owner, batch([({"__name__": "g"}, [(t, float(i)) for i, t in enumerate(stamps)])]))
    store.compact(owner)
    lo, hi = T0 + min(window), T0 + max(window)

    # When any window is read
    found = store.reader(owner).select([m("__name__", "=", "g")], lo, hi)

    # Then exactly the samples inside it come back, values with them
    expected = [(t, float(i)) for i, t in enumerate(stamps) if lo <= t <= hi]
    assert [(t, v) for s in found for t, v in zip(s.timestamps, s.values, strict=True)] == expected
