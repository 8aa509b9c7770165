"""The local identity provider: an ES256 key in `.orchestrix/` whose JWKS the local
authorizer trusts, so `orchestrix token` works whether or not the server is running."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from orchestrix.local.home import LOCAL_AUDIENCE, LOCAL_ISSUER, home

KEY_ID = "orchestrix-dev-1"


def _key_file() -> Path:
    return home() / "dev-signing-key.pem"


def jwks_file() -> Path:
    return home() / "jwks.json"


def signing_key() -> ec.EllipticCurvePrivateKey:
    path = _key_file()
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.write_bytes(pem)
        path.chmod(0o600)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    if not jwks_file().exists():
        _write_jwks(loaded)
    return loaded


def _write_jwks(key: ec.EllipticCurvePrivateKey) -> None:
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": KEY_ID, "use": "sig", "alg": "ES256"})
    jwks_file().write_text(json.dumps({"keys": [jwk]}, indent=2))


def jwks_url() -> str:
    signing_key()
    return jwks_file().as_uri()


def mint_token(
    tenant: str,
    roles: list[str],
    subject: str | None = None,
    ttl_seconds: int = 12 * 3600,
    now: float | None = None,
) -> str:
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "sub": subject or f"dev-{roles[0] if roles else 'user'}@{tenant}",
        "tenant_id": tenant,
        "roles": roles,
        "iat": issued,
        "nbf": issued - 5,
        "exp": issued + ttl_seconds,
    }
    return jwt.encode(claims, signing_key(), algorithm="ES256", headers={"kid": KEY_ID})
