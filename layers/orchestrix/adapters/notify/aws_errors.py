"""Classify botocore errors: throttling and server faults may pass, the rest will not."""

from __future__ import annotations

from typing import Final

from botocore.exceptions import BotoCoreError, ClientError

from orchestrix.domain.notifications import DeliveryError

_RETRYABLE_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalError",
        "RequestTimeout",
    }
)


def delivery_error(service: str, exc: Exception) -> DeliveryError:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400))
        retryable = code in _RETRYABLE_CODES or status >= 500
        return DeliveryError(f"{service}: {code}: {error.get('Message', '')}", retryable=retryable)
    if isinstance(exc, BotoCoreError):  # connection and endpoint trouble
        return DeliveryError(f"{service}: {exc}", retryable=True)
    return DeliveryError(f"{service}: {exc}", retryable=False)
