"""Service dependencies observed in traces, for correlation and root-cause analysis.

The traces function counts every client -> server call in `traces_service_graph_request_total`
(one series per edge, in the stage's metric store), so the edges a tenant's traces showed
lately are that metric's label sets: one index lookup, whatever the span volume.
"""

from __future__ import annotations

from orchestrix import bootstrap
from orchestrix.domain.intelligence.topology import ServiceGraph
from orchestrix.domain.span_metrics import GRAPH_REQUESTS
from orchestrix.ports.unit_of_work import UnitOfWork
from orchestrix.promql.storage import LabelMatcher

# A dependency seen once in the last day still counts: calls between two services are often
# rarer than the incidents they explain.
OBSERVED_WINDOW_MS = 24 * 3600 * 1000


def observed_graph(uow: UnitOfWork) -> ServiceGraph:
    now_ms = int(bootstrap.clock().now().timestamp() * 1000)
    reader = bootstrap.metric_store().reader(uow.tenant_id)
    selector = [LabelMatcher.of("__name__", "=", GRAPH_REQUESTS)]
    upstreams: dict[str, set[str]] = {}
    for labels in reader.series([selector], now_ms - OBSERVED_WINDOW_MS, now_ms):
        found = dict(labels)
        client, server = found.get("client"), found.get("server")
        if client and server and client != server:
            upstreams.setdefault(client, set()).add(server)  # the client depends on the server
    return ServiceGraph({client: tuple(sorted(s)) for client, s in sorted(upstreams.items())})
