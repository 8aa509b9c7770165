"""Contact method addresses are checked without backtracking regexes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from orchestrix.domain.people import ContactMethod


@pytest.mark.parametrize("address", ["ada@example.com", "a.b+c@mail.example.org", "x@a.b."])
def test_email_addresses_are_accepted(address: str) -> None:
    assert ContactMethod(type="email", address=address).address == address


@pytest.mark.parametrize(
    "address", ["ada", "ada@", "@example.com", "ada@example", "a b@c.d", "a@b@c.d", "a@.b", "a@b."]
)
def test_non_email_addresses_are_refused_naming_the_rule(address: str) -> None:
    with pytest.raises(ValidationError, match="address must be an email address"):
        ContactMethod(type="email", address=address)


def test_long_dotted_address_is_refused() -> None:
    with pytest.raises(ValidationError, match="address must be an email address"):
        ContactMethod(type="email", address="a@" + "." * 2040 + "@")
