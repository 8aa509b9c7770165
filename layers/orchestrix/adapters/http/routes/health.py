"""Liveness and readiness, unauthenticated, for load balancers and `make dev` users."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel

from orchestrix import bootstrap
from orchestrix.domain.errors import ServiceUnavailable

router = Router()


class Health(BaseModel):
    status: str
    checks: dict[str, str] = {}


@router.get(
    "/health",
    tags=["health"],
    summary="Liveness and readiness in one answer",
    responses={503: {"description": "the database is unavailable"}},
)
def health() -> Health:
    return ready()


@router.get("/health/live", tags=["health"], summary="The process answers")
def live() -> Health:
    return Health(status="ok")


@router.get(
    "/health/ready",
    tags=["health"],
    summary="The database answers",
    responses={503: {"description": "the database is unavailable"}},
)
def ready() -> Health:
    try:
        bootstrap.database().ping()
    except Exception as exc:  # whatever the failure, the answer is "not ready"
        raise ServiceUnavailable(f"database unavailable: {type(exc).__name__}") from exc
    return Health(status="ok", checks={"database": "ok"})
