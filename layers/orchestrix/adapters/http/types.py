"""Field types shared by the routes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator


def _rfc3339_only(value: Any) -> Any:
    # pydantic would read a number as a unix time; the documented format is RFC 3339.
    if isinstance(value, (int, float)) or (
        isinstance(value, str) and value.replace(".", "", 1).lstrip("-").isdigit()
    ):
        raise ValueError("must be an RFC 3339 date-time with a timezone")
    return value


Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_rfc3339_only)]
