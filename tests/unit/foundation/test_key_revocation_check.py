"""The handler-side key check: revoked, expired and purged keys are refused; live ones
and user tokens pass; a key once found dead is not looked up again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestrix.adapters.auth.credentials import KeyRevocationCheck
from orchestrix.adapters.postgres.key_resolver import KeyLifetime
from orchestrix.domain.errors import Unauthorized
from orchestrix.domain.identity import Principal, Role

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
KEY = Principal("acme", "api-key:key_1", kind="api_key")


def check(life: KeyLifetime | None, calls: list[tuple[str, str]]) -> KeyRevocationCheck:
    def lifetime(tenant: str, key_id: str) -> KeyLifetime | None:
        calls.append((tenant, key_id))
        return life

    return KeyRevocationCheck(lifetime, lambda: NOW)


@pytest.mark.parametrize(
    "life",
    [
        KeyLifetime(None, NOW - timedelta(seconds=1)),
        KeyLifetime(NOW, None),
        KeyLifetime(NOW - timedelta(days=1), None),
        None,
    ],
    ids=["revoked", "expires-now", "expired", "purged"],
)
def test_dead_keys_are_refused_and_remembered(life):
    calls: list[tuple[str, str]] = []
    checker = check(life, calls)

    for _ in range(3):
        with pytest.raises(Unauthorized, match="revoked or expired"):
            checker.ensure_live(KEY)

    assert calls == [("acme", "key_1")]


@pytest.mark.parametrize("life", [KeyLifetime(None, None), KeyLifetime(NOW + timedelta(1), None)])
def test_live_keys_pass_and_are_checked_every_time(life):
    calls: list[tuple[str, str]] = []
    checker = check(life, calls)

    checker.ensure_live(KEY)
    checker.ensure_live(KEY)

    assert len(calls) == 2


def test_user_tokens_are_not_looked_up():
    calls: list[tuple[str, str]] = []
    check(None, calls).ensure_live(Principal("acme", "u1", roles=frozenset({Role.ADMIN})))
    assert calls == []
