"""Opening the matching-only part of intake's tracing events (the `matching` field).

Intake seals it with the record subject's matching key (alg `A256GCM-MK`), which the registry
fetches from intake (`GET /internal/matching-keys/{key_id}`, signed with the secret the two
services share) each time it consumes such an event, and never keeps: once intake has erased the
subject, the key is gone and so is every copy of the part. Parts of the earlier construction
(alg `A256GCM`, a key derived from the shared secret) are still opened, for history.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from haven_shared.crypto import ALG, MATCHING_ALG, SealBroken, SubjectErased, open_with_key
from haven_shared.events.model import SealedPersonalData
from haven_shared.inbox import DependencyUnavailable

_INFO = b"haven matching v1:"
SCHEME = "HavenMatching"


class IntakeUnavailable(DependencyUnavailable):
    """Intake did not answer the key request (unreachable, timed out, 5xx or 429): an outage,
    so the person index waits for intake and the event comes again; it is never parked."""


class IntakeRefused(RuntimeError):
    """Intake answered the key request with a refusal (401/403: the services' shared secret
    differs; another 4xx): no wait helps, so the event is parked for a replay after the fix."""


class IntakeMatchingKeys:
    """Fetches record subjects' matching keys from intake, signing each request."""

    def __init__(self, base_url: str, secret: str, *, client: httpx.Client | None = None,
                 timeout: float = 5.0) -> None:
        if not secret:
            raise ValueError("a matching secret is required")
        self._secret = secret.encode()
        self._client = client or httpx.Client(base_url=base_url, timeout=timeout)

    def fetch(self, key_id: str) -> bytes:
        """The key; `SubjectErased` when intake has erased the subject or does not know it
        (another intake's record), `IntakeUnavailable` when intake cannot be asked,
        `IntakeRefused` when it refuses this caller."""
        ts = int(time.time())
        sig = hmac.new(self._secret, f"{ts}\n{key_id}".encode(), hashlib.sha256).hexdigest()
        try:
            response = self._client.get(f"/internal/matching-keys/{key_id}",
                                        headers={"Authorization": f"{SCHEME} {ts}.{sig}"})
        except httpx.HTTPError as exc:
            raise IntakeUnavailable(type(exc).__name__) from exc
        if response.status_code in (404, 410):
            raise SubjectErased("intake holds no matching key for this subject")
        if response.status_code >= 500 or response.status_code == 429:
            raise IntakeUnavailable(f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise IntakeRefused(f"HTTP {response.status_code}")
        return _unb64(str(response.json()["key"]))


class MatchingOpener:
    """Opens intake's sealed matching parts."""

    def __init__(self, secret: str, keys: IntakeMatchingKeys | None = None) -> None:
        if not secret:
            raise ValueError("a matching secret is required")
        self._secret = secret.encode()
        self._keys = keys

    def open(self, sealed: SealedPersonalData) -> dict[str, Any]:
        """The matching fields; `SubjectErased` when the subject's key is gone, `SealBroken`
        when they do not authenticate."""
        if sealed.alg == MATCHING_ALG:
            if self._keys is None:
                raise SubjectErased("no source of matching keys is configured")
            return open_with_key(self._keys.fetch(sealed.key_id), sealed)
        if sealed.alg != ALG:
            raise SealBroken("unsupported algorithm")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=_INFO + sealed.key_id.encode()).derive(self._secret)
        try:
            plain = AESGCM(key).decrypt(_unb64(sealed.nonce), _unb64(sealed.ciphertext),
                                        sealed.key_id.encode())
        except InvalidTag as e:
            raise SealBroken("the matching part does not authenticate") from e
        fields: dict[str, Any] = json.loads(plain)
        return fields


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
