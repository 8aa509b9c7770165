"""The PostgreSQL log store: retention drops whole days, row-level security keeps tenants apart."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestrix.adapters.metrics.batch import fingerprint
from orchestrix.adapters.postgres.log_store import PostgresLogStore
from orchestrix.domain.logs import LogBatch, StreamBatch
from orchestrix.logql.model import LogQueryTimeout, LogSearch, LogSelector
from orchestrix.promql.storage import LabelMatcher

S = 1_000_000_000


def ns(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()) * S


def batch(app: str, *stamps: int) -> LogBatch:
    labels = (("app", app),)
    stream = StreamBatch(labels, fingerprint(labels))
    for ts in stamps:
        stream.timestamps.append(ts)
        stream.lines.append(f"{app} at {ts}")
        stream.metadata.append(None)
    return LogBatch([stream])


def everything(store: PostgresLogStore, tenant: str, app: str) -> list[str]:
    selector = LogSelector((LabelMatcher.of("app", "=", app),))
    hits = store.search(tenant, LogSearch(selector, 0, ns("2002-01-01"), 100, "forward"))
    return [r.line for r in hits.records]


def test_retention_drops_whole_days_before_the_cutoff_and_their_streams(db, tenant) -> None:
    store = PostgresLogStore(db)
    old, kept = ns("2001-01-01T12:00:00"), ns("2001-01-03T12:00:00")
    store.write(tenant, batch("old", old))
    store.write(tenant, batch("kept", kept))

    dropped = store.drop_older_than(ns("2001-01-02"))

    assert "log_entries_p20010101" in dropped
    assert "log_entries_p20010103" not in dropped
    assert everything(store, tenant, "old") == []
    assert everything(store, tenant, "kept") == [f"kept at {kept}"]
    assert store.label_values(tenant, "app", 0, ns("2002-01-01"), None) == ["kept"]


def test_unfiltered_reads_as_the_app_role_see_only_the_current_tenant(db, uow, tenant) -> None:
    store = PostgresLogStore(db)
    other = tenant + "-other"
    t = ns("2001-01-03T13:00:00")
    store.write(tenant, batch("mine", t))
    store.write(other, batch("theirs", t))

    with uow(tenant) as work:
        lines = work.conn.execute("SELECT line FROM log_entries").fetchall()
        streams = work.conn.execute("SELECT labels->>'app' FROM log_streams").fetchall()

    assert lines == [(f"mine at {t}",)]
    assert streams == [("mine",)]


def test_a_metric_read_past_its_time_limit_is_cancelled_and_says_so(db, tenant) -> None:
    # Given a stream of 200,000 lines in one hour (what a busy log rule counts)
    store = PostgresLogStore(db)
    t = ns("2001-01-04T10:00:00")
    store.write(tenant, batch("busy", *range(t, t + 200_000 * 10_000_000, 10_000_000)))
    selector = LogSelector((LabelMatcher.of("app", "=", "busy"),))
    end = t + 3600 * S

    # When the read may take a millisecond, then when it may take half a minute
    with pytest.raises(LogQueryTimeout) as cancelled:
        store.timestamps(tenant, selector, t, end, timeout_s=0.001)
    (found,) = store.timestamps(tenant, selector, t, end, timeout_s=30.0)

    # Then the first is stopped with Prometheus' words and the limit, the second answers
    assert str(cancelled.value) == "query timed out in query execution (limit 0.001s)"
    assert len(found.timestamps) == 200_000
