"""The rest of the Prometheus HTTP API Grafana and tools call: build and runtime status, the
TSDB summary, rules, alerts, exemplars and format_query — under the same two prefixes and in
the same `{"status":"success","data":…}` shape as the query routes (prometheus_api.py).

Every answer is the caller's tenant's: rules and alerts are the tenant's own alert rules and
their pending/firing alerts, the TSDB figures count the tenant's series only.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import promql_parser as pp
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from orchestrix import bootstrap
from orchestrix.adapters.http.context import current_principal
from orchestrix.adapters.http.routes import prometheus_params as p
from orchestrix.adapters.http.routes.metrics import metrics_service
from orchestrix.domain.alerting.evaluation import ActiveState
from orchestrix.domain.alerting.rules import AlertRule
from orchestrix.promql import BadQuery, ast
from orchestrix.promql.gomath import format_float_e

PREFIXES = ("/api/v1/metrics", "/prometheus/api/v1")
# The engine follows the Prometheus 3.x PromQL specification; Grafana picks its query
# features from `version`, and `revision` says what actually answers.
VERSION = "3.0.0"
REVISION = "orchestrix"
_STARTED = datetime.now(UTC)
_NEVER = "0001-01-01T00:00:00Z"  # Go's zero time, what Prometheus shows for "not yet"
# What the query API actually runs with (services/metrics.py); no file behind it.
_CONFIG_YAML = """\
# Orchestrix serves the Prometheus HTTP API from its own store: there is no scrape
# configuration; samples arrive by remote write (/api/v1/metrics/write) or import.
global:
  evaluation_interval: 1m
remote_write: []
rule_files: []
scrape_configs: []
"""

router = Router()


def _success(data: Any) -> Response[str]:
    body = json.dumps({"status": "success", "data": data}, separators=(",", ":"))
    return Response(status_code=200, content_type="application/json", body=body)


def _params() -> dict[str, list[str]]:
    return p.from_event(router.current_event)


def _go_time(at: datetime | None) -> str:
    """Go's RFC 3339 with nanoseconds, trailing zeros dropped, as Prometheus marshals times."""
    if at is None:
        return _NEVER
    utc = at.astimezone(UTC)
    fraction = f"{utc.microsecond:06d}".rstrip("0")
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def buildinfo() -> Response[str]:
    current_principal(router)  # authenticated like every metrics read
    return _success(
        {
            "version": VERSION,
            "revision": REVISION,
            "branch": "orchestrix",
            "buildUser": "orchestrix",
            "buildDate": "",
            "goVersion": f"python{platform.python_version()}",
        }
    )


def runtimeinfo() -> Response[str]:
    current_principal(router)
    return _success(
        {
            "startTime": _go_time(_STARTED),
            "CWD": "/",
            "reloadConfigSuccess": True,
            "lastConfigTime": _go_time(_STARTED),
            "corruptionCount": 0,
            "goroutineCount": 1,
            "GOMAXPROCS": 1,
            "GOGC": "",
            "GODEBUG": "",
            "storageRetention": f"{bootstrap.settings().metrics_retention_days}d",
        }
    )


def flags() -> Response[str]:
    current_principal(router)
    limits = bootstrap.settings()
    return _success(
        {
            "query.lookback-delta": "5m",
            "query.max-samples": str(limits.query_max_samples),
            "query.timeout": f"{limits.query_timeout_s:g}s",
            "storage.tsdb.retention.time": f"{limits.metrics_retention_days}d",
        }
    )


def config() -> Response[str]:
    current_principal(router)
    return _success({"yaml": _CONFIG_YAML})


def _limit(params: p.Params, default: int) -> int:
    text = p.first(params, "limit")
    if not text:
        return default
    try:
        limit = int(text)
    except ValueError:
        raise BadQuery(f'invalid parameter "limit": cannot parse "{text}"') from None
    if limit >= 2**63:  # Go's strconv.Atoi refuses it: so does Prometheus
        raise BadQuery(f'invalid parameter "limit": cannot parse "{text}"')
    if limit <= 0:
        raise BadQuery("limit must be a positive number")
    return limit


def tsdb() -> Response[str]:
    limit = _limit(_params(), 10)
    stats = metrics_service().tsdb_stats(current_principal(router), limit)

    def pairs(rows: list[tuple[str, int]]) -> list[dict[str, Any]]:
        return [{"name": name, "value": count} for name, count in rows]

    return _success(
        {
            "headStats": {
                "numSeries": stats.num_series,
                "numLabelPairs": stats.num_label_pairs,
                "chunkCount": stats.chunk_count,
                # Prometheus' values for an empty head: MaxInt64 / MinInt64.
                "minTime": 2**63 - 1 if stats.min_time_ms is None else stats.min_time_ms,
                "maxTime": -(2**63) if stats.max_time_ms is None else stats.max_time_ms,
            },
            "seriesCountByMetricName": pairs(stats.series_count_by_metric_name),
            "labelValueCountByLabelName": pairs(stats.label_value_count_by_label_name),
            "memoryInBytesByLabelName": pairs(stats.memory_in_bytes_by_label_name),
            "seriesCountByLabelValuePair": pairs(stats.series_count_by_label_value_pair),
        }
    )


def query_exemplars() -> Response[str]:
    """Validated like Prometheus; no exemplars are stored, so a selector finds none."""
    params = _params()
    current_principal(router)
    start = p.time_param(params, "start", p.MIN_TIME_MS)
    end = p.time_param(params, "end", p.MAX_TIME_MS)
    if end < start:
        raise BadQuery("end timestamp must not be before start timestamp")
    tree = metrics_service().check_query(p.first(params, "query") or "")
    return _success([] if _has_selector(tree) else None)


def _has_selector(node: object) -> bool:
    if isinstance(node, ast.VectorSel):
        return True
    children = getattr(node, "__slots__", ())
    for name in children:
        child = getattr(node, name, None)
        items = child if isinstance(child, list | tuple) else (child,)
        if any(_has_selector(c) for c in items if hasattr(c, "vtype")):
            return True
    return False


def format_query() -> Response[str]:
    query = p.first(_params(), "query") or ""
    current_principal(router)
    metrics_service().check_query(query)  # refused exactly like /query refuses it
    return _success(pp.parse(query).prettify())


def _alert(state: ActiveState) -> dict[str, Any]:
    out: dict[str, Any] = {
        "labels": state.labels,
        "annotations": state.annotations,
        "state": state.state,
        "activeAt": _go_time(state.active_at),
        "value": format_float_e(state.value),
    }
    if state.keep_firing_since is not None:
        out["keepFiringSince"] = _go_time(state.keep_firing_since)
    return out


def _rule(rule: AlertRule, alerts: list[ActiveState]) -> dict[str, Any]:
    states = {a.state for a in alerts}
    state = "firing" if "firing" in states else "pending" if states else "inactive"
    out: dict[str, Any] = {
        "state": state,
        "name": rule.name,
        "query": rule.expr,
        "duration": rule.for_s,
        "keepFiringFor": rule.keep_firing_for_s,
        "labels": rule.alert_labels(),
        "annotations": rule.annotations,
        "alerts": [_alert(a) for a in alerts],
        "health": rule.health,
        "evaluationTime": (rule.last_duration_ms or 0) / 1000,
        "lastEvaluation": _go_time(rule.last_evaluated_at),
        "type": "alerting",
    }
    if rule.last_error:
        out["lastError"] = rule.last_error
    return out


def rules() -> Response[str]:
    params = _params()
    kind = (p.first(params, "type") or "").lower()
    if kind not in ("", "alert", "record"):
        raise BadQuery(f'invalid parameter "type": not supported value "{kind}"')
    names = set(params.get("rule_name[]", ()))
    groups_wanted = set(params.get("rule_group[]", ()))
    filtered = bool(kind or names or groups_wanted)
    loaded = _rule_service().loaded(current_principal(router))
    groups: dict[str, dict[str, Any]] = {}
    for rule, alerts in loaded:
        if groups_wanted and rule.group not in groups_wanted:
            continue
        group = groups.setdefault(
            rule.group,
            {"name": rule.group, "file": REVISION, "rules": [], "interval": rule.interval_s,
             "limit": 0, "evaluationTime": 0.0, "lastEvaluation": _NEVER},
        )  # fmt: skip
        group["evaluationTime"] += (rule.last_duration_ms or 0) / 1000
        last = _go_time(rule.last_evaluated_at)
        if rule.last_evaluated_at is not None and last > group["lastEvaluation"]:
            group["lastEvaluation"] = last
        # We keep alerting rules only: type=record selects none of them.
        if kind != "record" and (not names or rule.name in names):
            group["rules"].append(_rule(rule, alerts))
    # As Prometheus does, a filter drops the groups it leaves empty.
    found = [g for g in groups.values() if g["rules"] or not filtered]
    return _success({"groups": found})


def alerts() -> Response[str]:
    loaded = _rule_service().loaded(current_principal(router))
    return _success({"alerts": [_alert(a) for _, found in loaded for a in found]})


def _rule_service() -> Any:
    from orchestrix.adapters.postgres.alerting_components import rule_service

    return rule_service()


_ROUTES: tuple[tuple[str, tuple[str, ...], Callable[[], Response[str]]], ...] = (
    ("/status/buildinfo", ("GET",), buildinfo),
    ("/status/runtimeinfo", ("GET",), runtimeinfo),
    ("/status/flags", ("GET",), flags),
    ("/status/config", ("GET",), config),
    ("/status/tsdb", ("GET",), tsdb),
    ("/query_exemplars", ("GET", "POST"), query_exemplars),
    ("/format_query", ("GET", "POST"), format_query),
    ("/rules", ("GET",), rules),
    ("/alerts", ("GET",), alerts),
)
# The API Gateway routes of each (wiring.py lists the same paths and methods).
PATHS: tuple[tuple[str, tuple[str, ...]], ...] = tuple((s.lstrip("/"), m) for s, m, _ in _ROUTES)
for _prefix in PREFIXES:
    for _suffix, _methods, _view in _ROUTES:
        router.route(
            _prefix + _suffix, method=list(_methods), tags=["metrics query"], summary=_suffix
        )(_view)
