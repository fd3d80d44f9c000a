"""Opening the matching-only part of intake's tracing events (the `matching` field).

Intake seals it under a per-subject key derived from the secret the two services share for
matching (the construction is documented on the field in `haven_shared.events.intake`).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from haven_shared.crypto import ALG, SealBroken
from haven_shared.events.model import SealedPersonalData

_INFO = b"haven matching v1:"


class MatchingOpener:
    """Opens intake's sealed matching parts with the shared matching secret."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a matching secret is required")
        self._secret = secret.encode()

    def open(self, sealed: SealedPersonalData) -> dict[str, Any]:
        """The matching fields; `SealBroken` when they do not authenticate."""
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
