"""Channel secrets at rest: KMS envelope encryption bound to the tenant.

Each seal asks KMS for a fresh AES-256 data key (encryption context `tenant_id`), encrypts
with AES-GCM and stores the wrapped key next to the ciphertext. A row copied into another
tenant cannot be opened there: KMS refuses the wrong context and GCM the wrong AAD.
Locally the same code runs against moto's KMS.

Layout: b"k1" | len(wrapped key) as 2 bytes | wrapped key | 12-byte nonce | ciphertext+tag.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any, Final

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION: Final = b"k1"
_NONCE_BYTES: Final = 12
_CACHE_SIZE: Final = 256


class SecretBoxError(Exception):
    """A sealed value is corrupt or belongs to another tenant."""


class KmsSecretBox:
    def __init__(self, client: Any, key_id: str) -> None:
        self._kms = client
        self._key_id = key_id
        # Unwrapped data keys by wrapped key: listing a page of members decrypts many rows
        # sealed at different times; each distinct key costs one KMS call per container.
        self._keys: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def with_alias(cls, client: Any, alias: str, *, create: bool) -> KmsSecretBox:
        """Use the key behind `alias`; `create` makes it when missing (local runtime only)."""
        if create:
            try:
                client.describe_key(KeyId=alias)
            except client.exceptions.NotFoundException:
                key = client.create_key(Description="Orchestrix channel secrets")
                client.create_alias(AliasName=alias, TargetKeyId=key["KeyMetadata"]["KeyId"])
        return cls(client, alias)

    def seal(self, tenant_id: str, plaintext: bytes) -> bytes:
        data_key = self._kms.generate_data_key(
            KeyId=self._key_id, KeySpec="AES_256", EncryptionContext={"tenant_id": tenant_id}
        )
        wrapped: bytes = data_key["CiphertextBlob"]
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(data_key["Plaintext"]).encrypt(nonce, plaintext, tenant_id.encode())
        return _VERSION + len(wrapped).to_bytes(2, "big") + wrapped + nonce + sealed

    def open(self, tenant_id: str, sealed: bytes) -> bytes:
        if sealed[:2] != _VERSION or len(sealed) < 4:
            raise SecretBoxError("unknown secret format")
        size = int.from_bytes(sealed[2:4], "big")
        wrapped = sealed[4 : 4 + size]
        nonce = sealed[4 + size : 4 + size + _NONCE_BYTES]
        body = sealed[4 + size + _NONCE_BYTES :]
        key = self._unwrap(tenant_id, wrapped)
        try:
            return AESGCM(key).decrypt(nonce, body, tenant_id.encode())
        except Exception as exc:  # cryptography's InvalidTag: tampered or wrong tenant
            raise SecretBoxError("secret does not open for this tenant") from exc

    def _unwrap(self, tenant_id: str, wrapped: bytes) -> bytes:
        cache_key = tenant_id.encode() + b"\0" + wrapped
        with self._lock:
            if cache_key in self._keys:
                self._keys.move_to_end(cache_key)
                return self._keys[cache_key]
        try:
            answer = self._kms.decrypt(
                CiphertextBlob=wrapped, EncryptionContext={"tenant_id": tenant_id}
            )
        except self._kms.exceptions.InvalidCiphertextException as exc:
            raise SecretBoxError("secret does not open for this tenant") from exc
        key: bytes = answer["Plaintext"]
        with self._lock:
            self._keys[cache_key] = key
            if len(self._keys) > _CACHE_SIZE:
                self._keys.popitem(last=False)
        return key


class DatabaseSecret:
    """The database login kept in Secrets Manager (`{"username": ..., "password": ...}`).

    Read once per container and cached; `refresh()` reads it again. The rotation Lambda
    changes the password every 30 days while containers stay warm: the connection pool asks
    for a refresh when a login fails with the cached password, then retries once.
    """

    def __init__(self, client: Any, secret_id: str) -> None:
        self._client = client
        self._secret_id = secret_id
        self._lock = threading.Lock()
        self._login: dict[str, str] | None = None

    def login(self) -> dict[str, str]:
        """`user` and `password`, as psycopg's connect() takes them."""
        with self._lock:
            if self._login is None:
                self._login = self._read()
            return dict(self._login)

    def refresh(self, refused: dict[str, str]) -> dict[str, str]:
        """Read the secret again after `refused` failed, unless a concurrent refresh already
        replaced it (the pool opens several connections at once)."""
        with self._lock:
            if self._login is None or self._login == refused:
                self._login = self._read()
            return dict(self._login)

    def _read(self) -> dict[str, str]:
        import json

        value = self._client.get_secret_value(SecretId=self._secret_id)["SecretString"]
        secret = json.loads(value)
        return {"user": str(secret["username"]), "password": str(secret["password"])}
