"""/status/{slug} — the public, unauthenticated status page routes.

API Gateway resource paths cannot hold `{slug}.json`, but a `{slug}` path variable matches a
whole segment, dots included: `/status/acme.json` reaches `/status/{slug}` with slug
`acme.json`, and the suffix picks the representation (HTML or Statuspage's summary JSON).
Responses carry Cache-Control for CloudFront (or any shared cache) in front of the API.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, Field

from orchestrix import bootstrap
from orchestrix.adapters.http import status_feeds, status_html
from orchestrix.adapters.http.status_forms import posted_as_form
from orchestrix.adapters.postgres.status_components import (
    public_status_service,
    status_subscriber_service,
)
from orchestrix.domain.status_inputs import SubscriberSpec

router = Router()
Slug = Annotated[str, Path(max_length=80, description="the page's slug; `<slug>.json` for JSON")]
Token = Annotated[str, Query(max_length=100)]
TAGS = ["public status pages"]
JSON_SUFFIX: Final = ".json"
# Short: an incident must show within a minute; CloudFront honours s-maxage, browsers max-age.
CACHE: Final = "public, max-age=30, s-maxage=30, stale-while-revalidate=30"
# No script runs anywhere on these pages; styles are inline, logos from https.
SECURITY: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def page_url(slug: str) -> str:
    return f"{bootstrap.settings().public_url or ''}/status/{slug}"


def _ok(body: str, content_type: str, cache: str = CACHE) -> Response[str]:
    headers = {"Cache-Control": cache, **SECURITY}
    return Response(status_code=200, content_type=content_type, body=body, headers=headers)


@router.get(
    "/status/<slug>",
    tags=TAGS,
    summary="The status page: HTML, or Statuspage's summary JSON for `<slug>.json`",
    responses={
        200: {
            "description": "text/html, or for `<slug>.json` the summary "
            "(page, components, incidents, scheduled_maintenances, status)",
            "content": {"text/html": {}, "application/json": {}},
        }
    },
)
def status_page(slug: Slug) -> Response[str]:
    if slug.endswith(JSON_SUFFIX):
        name = slug[: -len(JSON_SUFFIX)]
        view = public_status_service().page(name)
        body = json.dumps(status_feeds.summary(view, page_url(name)))
        return _ok(body, "application/json")
    view = public_status_service().page(slug)
    return _ok(status_html.render(view, slug), "text/html; charset=utf-8")


@router.get(
    "/status/<slug>/history.rss",
    tags=TAGS,
    summary="Incident and maintenance history (RSS 2.0)",
    responses={200: {"description": "RSS 2.0", "content": {"application/rss+xml": {}}}},
)
def history_rss(slug: Slug) -> Response[str]:
    return _feed(slug, status_feeds.rss, "application/rss+xml; charset=utf-8")


@router.get(
    "/status/<slug>/history.atom",
    tags=TAGS,
    summary="Incident and maintenance history (Atom)",
    responses={200: {"description": "Atom 1.0", "content": {"application/atom+xml": {}}}},
)
def history_atom(slug: Slug) -> Response[str]:
    return _feed(slug, status_feeds.atom, "application/atom+xml; charset=utf-8")


def _feed(slug: str, render: Callable[..., str], content_type: str) -> Response[str]:
    page, events = public_status_service().history(slug)
    updated = max([page.updated_at, *(e.updated_at for e in events)])
    return _ok(render(page, events, page_url(slug), updated), content_type)


class Subscribed(BaseModel):
    id: str
    status: str = Field(description="pending: a confirmation link was sent to the address")
    signing_secret: str | None = Field(
        description="webhooks: the HMAC key of X-Orchestrix-Signature; shown only here"
    )


@router.post(
    "/status/<slug>/subscribers",
    tags=TAGS,
    summary="Subscribe by email or webhook; nothing is sent until the emailed link confirms",
    responses={
        201: {"description": "pending until confirmed"},
        200: {
            "description": "posted by the page's form (application/x-www-form-urlencoded "
            "channel, address, component_ids): a page saying what happens next",
            "content": {"text/html": {}},
        },
    },
)
def subscribe(slug: Slug, body: SubscriberSpec) -> Response[Any]:
    service = status_subscriber_service()
    added = service.subscribe(public_status_service().tenant_of(slug), slug, body)
    if posted_as_form(router.current_event.headers):  # the page's own form: answer a person
        text = "We sent a confirmation link to that address; updates start once it is opened."
        page = status_html.message("Check your inbox", text, f"../{slug}")
        return _ok(page, "text/html; charset=utf-8", cache="no-store")
    out = Subscribed(id=added.subscriber.id, status="pending", signing_secret=added.signing_secret)
    headers: dict[str, Any] = {"Cache-Control": "no-store"}
    return Response(status_code=201, content_type="application/json", body=out, headers=headers)


# The links in messages open a page with a button (GET changes nothing: mail scanners fetch
# every link); the button, or a tool, POSTs to the same URL, token in the query string.
def _link_page(slug: str, token: str, title: str, text: str, button: str, name: str) -> str:
    target = f"{name}?{urlencode({'token': token})}"
    return status_html.action(title, text, button, target, f"../{slug}")


@router.get(
    "/status/<slug>/confirm",
    tags=TAGS,
    summary="The confirmation link: a page whose button confirms (POST)",
    responses={200: {"description": "a page with the button", "content": {"text/html": {}}}},
)
def confirm_page(slug: Slug, token: Token) -> Response[str]:
    public_status_service().tenant_of(slug)  # an unknown page is a 404 here already
    text = "Confirm that you want to receive the updates of this status page."
    body = _link_page(slug, token, "Confirm your subscription", text, "Confirm", "confirm")
    return _ok(body, "text/html; charset=utf-8", cache="no-store")


@router.post(
    "/status/<slug>/confirm",
    tags=TAGS,
    summary="Confirm a subscription (the token the confirmation link carries)",
    responses={200: {"description": "a page saying so", "content": {"text/html": {}}}},
)
def confirm(slug: Slug, token: Token) -> Response[str]:
    tenant_id = public_status_service().tenant_of(slug)
    status_subscriber_service().confirm(tenant_id, slug, token)
    text = "You will receive the updates of this status page."
    body = status_html.message("Subscription confirmed", text, f"../{slug}")
    return _ok(body, "text/html; charset=utf-8", cache="no-store")


@router.get(
    "/status/<slug>/unsubscribe",
    tags=TAGS,
    summary="The unsubscribe link in every update: a page whose button unsubscribes (POST)",
    responses={200: {"description": "a page with the button", "content": {"text/html": {}}}},
)
def unsubscribe_page(slug: Slug, token: Token) -> Response[str]:
    public_status_service().tenant_of(slug)
    text = "Stop receiving the updates of this status page?"
    body = _link_page(slug, token, "Unsubscribe", text, "Unsubscribe", "unsubscribe")
    return _ok(body, "text/html; charset=utf-8", cache="no-store")


@router.post(
    "/status/<slug>/unsubscribe",
    tags=TAGS,
    summary="Unsubscribe (the token the unsubscribe link carries)",
    responses={200: {"description": "a page saying so", "content": {"text/html": {}}}},
)
def unsubscribe(slug: Slug, token: Token) -> Response[str]:
    tenant_id = public_status_service().tenant_of(slug)
    status_subscriber_service().unsubscribe(tenant_id, slug, token)
    text = "You will receive no more updates of this status page."
    body = status_html.message("Unsubscribed", text, f"../{slug}")
    return _ok(body, "text/html; charset=utf-8", cache="no-store")
