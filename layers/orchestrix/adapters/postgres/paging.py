"""Keyset pagination shared by every repository's `list`: newest first, `(at, id)` cursor.

A LIST query takes `%(after_at)s`, `%(after_id)s` and `%(limit)s`, filters
`(at_column, id) < (%(after_at)s, %(after_id)s)` when a cursor is given and orders by
`at_column DESC, id DESC`; one row more than the page is fetched to know whether another
page follows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from orchestrix.domain.pagination import Cursor, Page, PageRequest

T = TypeVar("T")


def keyset_params(page: PageRequest) -> dict[str, Any]:
    after = page.after
    return {
        "after_at": after.at if after else None,
        "after_id": after.id if after else None,
        "limit": page.limit + 1,
    }


def keyset_page(
    rows: Sequence[Any],
    page: PageRequest,
    to_item: Callable[[Any], T],
    key: Callable[[T], tuple[datetime | None, str]],
) -> Page[T]:
    items = [to_item(row) for row in rows[: page.limit]]
    if len(rows) <= page.limit or not items:
        return Page(items, None)
    at, id_ = key(items[-1])
    # Some models type the timestamp as optional (set on first save); without one there is
    # no position to resume from, so the listing ends rather than emitting a bogus cursor.
    if at is None:
        return Page(items, None)
    return Page(items, Cursor(at, id_).encode())
