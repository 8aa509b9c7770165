"""Domain errors. The HTTP layer maps each class to one problem+json status, in one place."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error a client can cause; never a 500."""

    status = 400
    title = "Bad Request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """Unknown id — and also another tenant's id, so existence never leaks."""

    status = 404
    title = "Not Found"

    def __init__(self, resource: str, resource_id: str) -> None:
        super().__init__(f"{resource} {resource_id!r} was not found")
        self.resource = resource
        self.resource_id = resource_id


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


class PayloadTooLarge(DomainError):
    status = 413
    title = "Content Too Large"


class UnsupportedMediaType(DomainError):
    status = 415
    title = "Unsupported Media Type"


class ServiceUnavailable(DomainError):
    """A dependency is down; the client may retry later."""

    status = 503
    title = "Service Unavailable"


class TooManyRequests(DomainError):
    status = 429
    title = "Too Many Requests"


@dataclass(frozen=True)
class FieldError:
    loc: tuple[str | int, ...]
    msg: str


class ValidationFailed(DomainError):
    """Input that parses but breaks a rule; `errors` name each offending field."""

    status = 422
    title = "Unprocessable Content"

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        first = errors[0] if errors else None
        detail = f"{'.'.join(map(str, first.loc))}: {first.msg}" if first else "invalid input"
        if len(errors) > 1:
            detail += f" (and {len(errors) - 1} more)"
        super().__init__(detail)

    @classmethod
    def single(cls, loc: tuple[str | int, ...], msg: str) -> ValidationFailed:
        return cls([FieldError(loc, msg)])
