"""The slice of Alertmanager's API v2 that Prometheus and amtool use.

`POST /api/v2/alerts` lets Prometheus list Orchestrix under `alerting.alertmanagers`;
`/api/v2/silences`, `/api/v2/silence/{id}` and `/api/v2/status` let `amtool silence
add/query/expire` work unchanged. Bodies follow Alertmanager's OpenAPI shapes exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from orchestrix import bootstrap
from orchestrix.adapters.http.context import current_principal, current_request_id
from orchestrix.adapters.http.types import Rfc3339
from orchestrix.adapters.postgres.alerting_components import alert_service, silence_service
from orchestrix.domain.alerting.matchers import Matcher, MatcherError, matches_all, parse_matchers
from orchestrix.domain.alerting.silences import Silence
from orchestrix.domain.errors import ValidationFailed
from orchestrix.services.alert_sources import prometheus_push

router = Router()
_STARTED = datetime.now(UTC)


def _time(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _raw_body() -> Any:
    return router.current_event.json_body


@router.post("/api/v2/alerts", tags=["alertmanager-api"], summary="Prometheus' alert push")
def post_alerts() -> Response[str]:
    principal = current_principal(router)
    signals = prometheus_push(_raw_body(), bootstrap.clock().now())
    alert_service().ingest(principal, signals, current_request_id(router))
    return Response(status_code=200, content_type="application/json", body="")


class AmMatcher(BaseModel):
    name: str = Field(min_length=1)
    value: str
    isRegex: bool
    isEqual: bool = True


class PostableSilence(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str | None = None
    matchers: list[AmMatcher] = Field(min_length=1)
    startsAt: Rfc3339
    endsAt: Rfc3339
    createdBy: str = Field(min_length=1)
    comment: str = Field(min_length=1)


def _matchers(body: list[AmMatcher]) -> list[Matcher]:
    ops = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}
    try:
        return [Matcher(m.name, ops[(m.isRegex, m.isEqual)], m.value) for m in body]  # type: ignore[arg-type]
    except MatcherError as exc:
        raise ValidationFailed.single(("body", "matchers"), str(exc)) from None


# Response models mirror Alertmanager's OpenAPI definitions field for field (and in its order):
# they document the bodies and Powertools serializes them as they are declared.
AmTime = Annotated[
    str, Field(description="RFC 3339, milliseconds, UTC", examples=["2026-01-05T09:00:00.000Z"])
]


class SilenceStatus(BaseModel):
    state: Literal["pending", "active", "expired"]


class GettableSilence(BaseModel):
    id: str
    status: SilenceStatus
    updatedAt: AmTime
    matchers: list[AmMatcher]
    startsAt: AmTime
    endsAt: AmTime
    createdBy: str
    comment: str


class SilenceCreated(BaseModel):
    silenceID: str


class ClusterStatus(BaseModel):
    status: Literal["ready", "settling", "disabled"]
    peers: list[dict[str, str]]


class VersionInfo(BaseModel):
    version: str
    revision: str
    branch: str
    buildUser: str
    buildDate: str
    goVersion: str


class AlertmanagerConfig(BaseModel):
    original: str


class AlertmanagerStatus(BaseModel):
    cluster: ClusterStatus
    versionInfo: VersionInfo
    config: AlertmanagerConfig
    uptime: AmTime


def gettable(s: Silence, now: datetime) -> GettableSilence:
    return GettableSilence.model_validate(
        {
            "id": s.id,
            "status": {"state": s.state(now)},
            "updatedAt": _time(s.updated_at),
            "matchers": [
                {
                    "name": m.name,
                    "value": m.value,
                    "isRegex": m.op in ("=~", "!~"),
                    "isEqual": m.op in ("=", "=~"),
                }
                for m in s.matchers
            ],
            "startsAt": _time(s.starts_at),
            "endsAt": _time(s.ends_at),
            "createdBy": s.created_by,
            "comment": s.comment,
        }
    )


@router.post("/api/v2/silences", tags=["alertmanager-api"], summary="Create or update a silence")
def post_silence(body: PostableSilence) -> SilenceCreated:
    service = silence_service()
    principal = current_principal(router)
    matchers = _matchers(body.matchers)
    request_id = current_request_id(router)
    if body.id:
        service.update(
            principal, body.id, matchers, body.startsAt, body.endsAt, body.comment, request_id
        )
        return SilenceCreated(silenceID=body.id)
    silence = service.create(
        principal,
        matchers,
        body.startsAt,
        body.endsAt,
        body.comment,
        created_by=body.createdBy,
        request_id=request_id,
    )
    return SilenceCreated(silenceID=silence.id)


@router.get("/api/v2/silences", tags=["alertmanager-api"], summary="List silences")
def get_silences(
    filter: Annotated[list[str] | None, Query(description='matchers, e.g. alertname="X"')] = None,
) -> list[GettableSilence]:
    try:
        wanted = [m for text in filter or [] for m in parse_matchers(text)]
    except MatcherError as exc:
        raise ValidationFailed.single(("query", "filter"), str(exc)) from None
    service = silence_service()
    now = service.now()
    out: list[GettableSilence] = []
    for s in service.list(current_principal(router)):
        labels = {m.name: m.value for m in s.matchers if m.op == "="}
        if matches_all(wanted, labels):
            out.append(gettable(s, now))
    return out


SilenceId = Annotated[str, Path(max_length=64)]


@router.get("/api/v2/silence/<silence_id>", tags=["alertmanager-api"], summary="One silence")
def get_silence_v2(silence_id: SilenceId) -> GettableSilence:
    service = silence_service()
    return gettable(service.get(current_principal(router), silence_id), service.now())


@router.delete("/api/v2/silence/<silence_id>", tags=["alertmanager-api"], summary="Expire")
def delete_silence_v2(silence_id: SilenceId) -> Response[str]:
    silence_service().expire(current_principal(router), silence_id, current_request_id(router))
    return Response(status_code=200, content_type="application/json", body="")


@router.get("/api/v2/status", tags=["alertmanager-api"], summary="Alertmanager-style status")
def get_status() -> AlertmanagerStatus:
    current_principal(router)
    return AlertmanagerStatus.model_validate(
        {
            "cluster": {"status": "disabled", "peers": []},
            "versionInfo": {
                "version": "orchestrix",
                "revision": "",
                "branch": "",
                "buildUser": "",
                "buildDate": "",
                "goVersion": "",
            },
            "config": {"original": ""},
            "uptime": _time(_STARTED),
        }
    )
