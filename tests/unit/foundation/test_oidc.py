"""JWT verification as Keycloak and Cognito tokens need it."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from orchestrix.adapters.auth.oidc import JwtVerifier
from orchestrix.domain.errors import Unauthorized
from orchestrix.domain.identity import Role

ISSUER = "https://idp.example/realms/ops"


@pytest.fixture
def rsa_key(tmp_path):  # type: ignore[no-untyped-def]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "alg": "RS256", "use": "sig"})
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return key, path.as_uri()


def _token(key, alg="RS256", kid="k1", **claims):  # type: ignore[no-untyped-def]
    now = int(time.time())
    body = {"iss": ISSUER, "aud": "orchestrix", "sub": "u1", "exp": now + 300, **claims}
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


def test_keycloak_realm_roles_and_tenant_claim(rsa_key):
    key, jwks = rsa_key
    verifier = JwtVerifier(ISSUER, "orchestrix", jwks)
    token = _token(key, tenant_id="acme", realm_access={"roles": ["editor", "offline_access"]})
    principal = verifier.verify(token)
    assert (principal.tenant_id, principal.roles) == ("acme", frozenset({Role.EDITOR}))


def test_cognito_groups_and_custom_tenant_attribute(rsa_key):
    key, jwks = rsa_key
    verifier = JwtVerifier(ISSUER, "orchestrix", jwks, tenant_claim="custom:tenant_id")
    token = _token(key, **{"custom:tenant_id": "beta", "cognito:groups": ["responder"]})
    principal = verifier.verify(token)
    assert (principal.tenant_id, principal.roles) == ("beta", frozenset({Role.RESPONDER}))


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": int(time.time()) - 600},
        {"nbf": int(time.time()) + 600},
        {"iss": "https://evil.example"},
        {"aud": "someone-else"},
    ],
)
def test_expired_early_foreign_or_misaddressed_tokens_are_refused(rsa_key, claims):
    key, jwks = rsa_key
    verifier = JwtVerifier(ISSUER, "orchestrix", jwks)
    with pytest.raises(Unauthorized):
        verifier.verify(_token(key, tenant_id="acme", **claims))


def test_token_signed_by_an_unknown_key_is_refused(rsa_key):
    _, jwks = rsa_key
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(Unauthorized):
        JwtVerifier(ISSUER, "orchestrix", jwks).verify(_token(other, alg="ES256", tenant_id="acme"))


def test_token_without_a_tenant_is_refused(rsa_key):
    key, jwks = rsa_key
    with pytest.raises(Unauthorized, match="tenant_id"):
        JwtVerifier(ISSUER, "orchestrix", jwks).verify(_token(key))


@pytest.mark.parametrize("tenant", ["a\n", "acme\n", "\nacme", "Acme", "a" * 64, "", "-a", "a b"])
def test_tenant_claim_must_match_the_whole_pattern(rsa_key, tenant):
    key, jwks = rsa_key
    with pytest.raises(Unauthorized, match="tenant_id"):
        JwtVerifier(ISSUER, "orchestrix", jwks).verify(_token(key, tenant_id=tenant))
