"""Where log lines are kept and searched.

`PostgresLogStore` (day-partitioned tables with full-text and trigram indexes) is the
default; a deployment with more log volume than a relational database should hold can put
another engine behind this port (docs/logs.md describes S3 + Athena and OpenSearch
Serverless) and the ingest and query APIs stay as they are. Every method acts within one
tenant; an implementation must make another tenant's lines unreachable, not merely
filtered out by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from orchestrix.domain.logs import Labels, LogBatch
from orchestrix.logql.model import IndexStats, LogHits, LogSearch, LogSelector, StreamTimes


class LogStore(Protocol):
    def write(self, tenant_id: str, batch: LogBatch) -> int:
        """Store a whole batch or nothing of it; the number of lines accepted. A line its
        stream already holds at that timestamp (a push sent again) is accepted, not stored
        twice."""
        ...

    def search(self, tenant_id: str, search: LogSearch) -> LogHits:
        """Up to `search.limit` matching lines after `search.after`, in its direction.

        `next_position` is where the next page starts; it may be set even when fewer than
        `limit` lines came back (a store may bound the lines it scans per call)."""
        ...

    def timestamps(
        self,
        tenant_id: str,
        selector: LogSelector,
        start_ns: int,
        end_ns: int,
        *,
        timeout_s: float | None = None,
    ) -> list[StreamTimes]:
        """Per matching stream, the sorted timestamps of its matching lines in
        [start_ns, end_ns] (for count_over_time and rate). With `timeout_s`, raises
        `LogQueryTimeout` rather than run longer."""
        ...

    def label_names(
        self, tenant_id: str, start_ns: int, end_ns: int, selector: LogSelector | None = None
    ) -> list[str]: ...

    def label_values(
        self, tenant_id: str, name: str, start_ns: int, end_ns: int, selector: LogSelector | None
    ) -> list[str]: ...

    def series(
        self, tenant_id: str, selectors: Sequence[LogSelector], start_ns: int, end_ns: int
    ) -> list[Labels]:
        """The label sets of the streams any selector matches with a line in
        [start_ns, end_ns], sorted."""
        ...

    def index_stats(
        self, tenant_id: str, selector: LogSelector, start_ns: int, end_ns: int
    ) -> IndexStats:
        """What `selector` (its stream matchers) resolves to in [start_ns, end_ns]."""
        ...

    def drop_older_than(self, cutoff_ns: int) -> list[str]:
        """Retention for every tenant: forget lines older than the cutoff; what was dropped."""
        ...
