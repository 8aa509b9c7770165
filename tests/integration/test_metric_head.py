"""The metric store's head and its compaction against the real database."""

from __future__ import annotations

import threading

import pytest

from orchestrix.adapters.metrics import RemoteWriteDecoder, encode_write_request
from orchestrix.adapters.postgres import metric_head_sql
from orchestrix.adapters.postgres.database import Database
from orchestrix.adapters.postgres.metric_store import HeadLimits, PostgresMetricStore
from orchestrix.promql.storage import LabelMatcher

DAY = 86_400_000
HOUR = 3_600_000
T0 = 1_790_000_000_000 - 1_790_000_000_000 % DAY + 10 * HOUR  # 10:00 UTC on 2026-09-21
NEVER = HeadLimits(max_rows=10**9, max_samples=10**9, max_age_s=1e9)


def batch(series):  # type: ignore[no-untyped-def]
    return RemoteWriteDecoder().decode(encode_write_request(series))


def scrape(t: int, value: float = 1.0, n: int = 3):  # type: ignore[no-untyped-def]
    """One sample per series at `t`, as a Prometheus remote write sends it."""
    return batch([({"__name__": "up", "instance": f"i{i}"}, [(t, value + i)]) for i in range(n)])


NAME = [LabelMatcher.of("__name__", "=", "up")]


@pytest.fixture
def store(db: Database) -> PostgresMetricStore:
    return PostgresMetricStore(db, NEVER)


def samples_of(store: PostgresMetricStore, tenant: str, start: int, end: int):  # type: ignore[no-untyped-def]
    found = store.reader(tenant).select(NAME, start, end)
    return {
        dict(s.labels)["instance"]: list(zip(s.timestamps, s.values, strict=True)) for s in found
    }


def stored(db: Database, tenant: str) -> tuple[int, int, int]:
    """(head rows, chunk rows, samples in chunks) as the tenant's own role sees them."""
    with db.connection() as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant,))
        row = conn.execute(
            "SELECT (SELECT count(*) FROM metric_head),"
            " (SELECT count(*) FROM metric_samples),"
            " (SELECT coalesce(sum(length(ts) / 8), 0) FROM metric_samples)"
        ).fetchone()
        conn.rollback()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def test_a_write_is_one_head_row_visible_to_queries_before_compaction(store, tenant, db):
    store.write(tenant, scrape(T0))

    assert stored(db, tenant) == (1, 0, 0)
    assert samples_of(store, tenant, T0, T0) == {
        "i0": [(T0, 1.0)],
        "i1": [(T0, 2.0)],
        "i2": [(T0, 3.0)],
    }
    reader = store.reader(tenant)
    assert reader.label_values("instance", [], T0, T0) == ["i0", "i1", "i2"]
    assert reader.label_names(NAME, T0, T0) == ["__name__", "instance"]
    assert len(reader.series([NAME], T0, T0)) == 3


def test_listings_of_head_data_keep_to_the_exact_window(store, tenant):
    # Given a series whose only (head) sample is at T0, and another at T0 + 10 min
    store.write(tenant, batch([({"__name__": "up", "instance": "old"}, [(T0, 1.0)])]))
    store.write(tenant, batch([({"__name__": "up", "instance": "new"}, [(T0 + 600_000, 1.0)])]))
    reader = store.reader(tenant)

    # When listing a window after the first one's sample
    window = (T0 + 60_000, T0 + 700_000)

    # Then only the second is listed, by every listing call
    assert reader.label_values("instance", [], *window) == ["new"]
    assert reader.label_values("instance", NAME, *window) == ["new"]
    assert [dict(s)["instance"] for s in reader.series([NAME], *window)] == ["new"]


def test_compaction_moves_the_head_into_chunks_and_reads_stay_the_same(store, tenant, db):
    for i in range(5):
        store.write(tenant, scrape(T0 + i * 15_000, value=float(i)))
    before = samples_of(store, tenant, T0, T0 + HOUR)

    report = store.compact(tenant)

    assert report is not None and (report.head_rows, report.chunks_written) == (5, 3)
    assert stored(db, tenant) == (0, 3, 15)
    assert samples_of(store, tenant, T0, T0 + HOUR) == before
    assert samples_of(store, tenant, T0 + 15_000, T0 + 30_000)["i1"] == [
        (T0 + 15_000, 2.0),
        (T0 + 30_000, 3.0),
    ]


def test_a_request_sent_again_after_compaction_is_stored_once(store, tenant, db):
    # Given a request stored and compacted
    first = store.write(tenant, scrape(T0))
    store.compact(tenant)

    # When the sender sends it again (after a lost answer), before and after a compaction
    again = store.write(tenant, scrape(T0))
    store.compact(tenant)
    third = store.write(tenant, scrape(T0))
    fourth = store.write(tenant, scrape(T0))

    # Then every sample is there once, in the chunks and in what queries return
    assert (first.duplicates_possible, again.duplicates_possible) == (False, False)
    assert (third.duplicates_possible, fourth.duplicates_possible) == (False, True)
    assert samples_of(store, tenant, T0, T0)["i0"] == [(T0, 1.0)]
    store.compact(tenant)
    assert stored(db, tenant) == (0, 3, 3)


def test_overlapping_writes_merge_and_the_newer_value_wins(store, tenant, db):
    up = {"__name__": "up", "instance": "i0"}
    store.write(tenant, batch([(up, [(T0 + i * 15_000, 1.0) for i in range(4)])]))
    store.compact(tenant)
    # A later write covering the last two instants again and two more, with other values
    store.write(tenant, batch([(up, [(T0 + i * 15_000, 2.0) for i in range(2, 6)])]))
    # Seen from the head, then after compaction
    for _ in range(2):
        assert samples_of(store, tenant, T0, T0 + HOUR)["i0"] == [
            (T0, 1.0),
            (T0 + 15_000, 1.0),
            (T0 + 30_000, 2.0),
            (T0 + 45_000, 2.0),
            (T0 + 60_000, 2.0),
            (T0 + 75_000, 2.0),
        ]
        store.compact(tenant)
    assert stored(db, tenant) == (0, 1, 6)


def test_head_rows_written_out_of_order_merge_newest_write_first(store, tenant):
    up = {"__name__": "up", "instance": "i0"}
    store.write(tenant, batch([(up, [(T0 + 30_000, 1.0), (T0 + 45_000, 1.0)])]))
    store.write(tenant, batch([(up, [(T0, 2.0), (T0 + 30_000, 2.0)])]))  # a late, older one

    for _ in range(2):  # from the head, then from the chunks
        assert samples_of(store, tenant, T0, T0 + HOUR)["i0"] == [
            (T0, 2.0),
            (T0 + 30_000, 2.0),
            (T0 + 45_000, 1.0),
        ]
        store.compact(tenant)


def test_a_write_that_finds_the_head_due_compacts_it(db, tenant):
    store = PostgresMetricStore(db, HeadLimits(max_rows=3, max_samples=10**9, max_age_s=1e9))

    results = [store.write(tenant, scrape(T0 + i * 15_000)) for i in range(4)]

    assert [r.compacted is not None for r in results] == [False, False, True, False]
    assert stored(db, tenant) == (1, 3, 9)
    assert len(samples_of(store, tenant, T0, T0 + HOUR)["i2"]) == 4


def test_an_hour_of_small_chunks_is_merged_into_one_per_series_once_it_is_over(store, tenant, db):
    # Given compactions every 10 minutes through 10:00-11:00 and on past 11:05
    for minute in range(0, 80, 10):
        store.write(tenant, scrape(T0 + minute * 60_000))
        store.compact(tenant)

    # Then the 10:00 hour is one chunk per series, the open 11:00 hour has its own chunks
    with db.connection() as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant,))
        per_hour = conn.execute(
            "SELECT first_ts / 3600000 * 3600000 - %s, count(*) FROM metric_samples"
            " GROUP BY 1 ORDER BY 1",
            (T0,),
        ).fetchall()
        conn.rollback()
    assert per_hour == [(0, 3), (HOUR, 6)]
    assert [t for t, _ in samples_of(store, tenant, T0, T0 + 2 * HOUR)["i1"]] == [
        T0 + minute * 60_000 for minute in range(0, 80, 10)
    ]


def test_a_compaction_under_way_makes_another_one_for_the_tenant_step_aside(store, tenant, db):
    store.write(tenant, scrape(T0))
    with db.connection() as conn:
        conn.execute(
            metric_head_sql.TRY_LOCK, (metric_head_sql.COMPACTION_LOCK, tenant)
        )  # as a concurrent run would hold it

        assert store.compact(tenant) is None
        assert stored(db, tenant) == (1, 0, 0)
        conn.rollback()
    assert store.compact(tenant) is not None
    assert stored(db, tenant) == (0, 3, 3)


def test_concurrent_writers_compacting_store_every_sample_once(db, tenant):
    # Given two processes writing the same tenant, each compacting when it finds the head due
    limits = HeadLimits(max_rows=2, max_samples=10**9, max_age_s=1e9)
    writers = [PostgresMetricStore(db, limits), PostgresMetricStore(db, limits)]
    errors: list[BaseException] = []

    def send(store: PostgresMetricStore, offset: int) -> None:
        try:
            for i in range(offset, 40, 2):
                store.write(tenant, scrape(T0 + i * 15_000, value=float(i)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(w, k)) for k, w in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writers[0].compact(tenant)

    assert errors == []
    assert stored(db, tenant)[0] == 0
    assert stored(db, tenant)[2] == 3 * 40
    found = samples_of(writers[1], tenant, T0, T0 + HOUR)
    assert found["i0"] == [(T0 + i * 15_000, float(i)) for i in range(40)]


def test_another_tenant_neither_sees_nor_compacts_the_head(store, tenant, db):
    other = tenant + "-other"
    store.write(tenant, scrape(T0))

    report = store.compact(other)

    assert report is not None and report.head_rows == 0
    assert stored(db, other) == (0, 0, 0)
    assert stored(db, tenant) == (1, 0, 0)
    assert samples_of(store, other, T0, T0) == {}
    assert store.reader(other).label_values("instance", [], T0, T0) == []


def test_scheduled_compaction_empties_the_heads_that_waited(store, tenant, db):
    store.write(tenant, scrape(T0))
    store.write(tenant + "-b", scrape(T0))

    compacted = store.compact_waiting_heads(older_than_s=0)

    assert compacted >= 2
    assert stored(db, tenant) == (0, 3, 3)
    assert stored(db, tenant + "-b") == (0, 3, 3)


def test_retention_forgets_head_rows_past_the_cutoff(store, tenant, db):
    old = T0 - 40 * DAY
    store.write(tenant, scrape(old))
    store.write(tenant, scrape(T0))

    store.drop_partitions_older_than(30, now_ms=T0)

    assert stored(db, tenant)[0] == 1
    assert samples_of(store, tenant, 0, T0 + DAY) == {
        "i0": [(T0, 1.0)],
        "i1": [(T0, 2.0)],
        "i2": [(T0, 3.0)],
    }
    # A late sample for the dropped day still compacts (its partition is created again)
    store.write(tenant, scrape(old + 1))
    assert store.compact(tenant) is not None
    assert stored(db, tenant) == (0, 6, 6)


def test_an_hour_of_chunks_large_enough_is_left_as_it_is(store, tenant, db):
    # Given two compactions of 70 samples per series in the 10:00 hour, then data past 11:05
    up = {"__name__": "up", "instance": "i0"}
    for start in (0, 70):
        store.write(tenant, batch([(up, [(T0 + (start + i) * 1000, 1.0) for i in range(70)])]))
        store.compact(tenant)
    store.write(tenant, batch([(up, [(T0 + 70 * 60_000, 1.0)])]))
    store.compact(tenant)

    # Then the hour keeps its two chunks (merging them would save readers little)
    with db.connection() as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant,))
        sizes = conn.execute(
            "SELECT length(ts) / 8 FROM metric_samples ORDER BY first_ts"
        ).fetchall()
        conn.rollback()
    assert [n for (n,) in sizes] == [70, 70, 1]
    assert len(samples_of(store, tenant, T0, T0 + 2 * HOUR)["i0"]) == 141


def test_a_head_larger_than_one_run_takes_is_compacted_oldest_first_over_several_runs(
    store, tenant, db, monkeypatch
):
    # Given three writes of 3 samples, the last one re-writing the first instant
    from orchestrix.adapters.postgres import metric_compaction

    monkeypatch.setattr(metric_compaction, "MAX_SAMPLES_PER_RUN", 4)
    store.write(tenant, scrape(T0, value=1.0))
    store.write(tenant, scrape(T0 + 15_000, value=1.0))
    store.write(tenant, scrape(T0, value=7.0))

    # When compacting: a run takes rows until 4 samples are before the next one
    first = store.compact(tenant)
    assert first is not None and first.head_rows == 2
    assert stored(db, tenant) == (1, 3, 6)
    second = store.compact(tenant)

    # Then the rest goes in the next run, and the newest write still wins
    assert second is not None and second.head_rows == 1
    assert stored(db, tenant) == (0, 3, 6)
    assert samples_of(store, tenant, T0, T0 + HOUR)["i0"] == [(T0, 7.0), (T0 + 15_000, 1.0)]
