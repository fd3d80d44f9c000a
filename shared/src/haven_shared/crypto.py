"""Per-data-subject envelope encryption (crypto-shredding, DESIGN.md §5).

Every data subject (a sought person, an enquirer, a survivor, unidentified remains) has a data
key of their own, stored in the `subject_key` table wrapped (AES-256-GCM) with a key-encryption
key derived from the service's master key. Personal fields are sealed with the subject's data
key; erasing the subject destroys the wrapped key, after which everything sealed with it, in any
database, topic, backup or dead letter, can no longer be opened. The key's row stays as a
tombstone (no key material), so that a late or replayed write cannot bring the subject back under
a fresh key: sealing for an erased subject raises `SubjectErased`.

A subject's *matching key* (`matching_key`) is derived from its data key: it opens only what was
sealed for the registry's person index, and dies with the data key.

    keyring = SubjectKeyring(settings.master_key.get_secret_value())
    sealed = keyring.seal(session, key_id, {"names": [...]})   # creates the key if needed
    data = keyring.open(session, sealed)
    keyring.erase_subject(session, key_id)                    # caller's transaction commits

Nothing here commits: the key row is written in the caller's transaction, so a record and the key
that protects it are stored together or not at all.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from haven_shared.events.model import SealedPersonalData

ALG = "A256GCM"
_NONCE_BYTES = 12
_KEK_INFO = b"haven subject-key wrapping v1"
_MATCHING_INFO = b"haven matching key v2:"
#: `alg` of values sealed with a subject's matching key (see `seal_with_key`).
MATCHING_ALG = "A256GCM-MK"


class SubjectErased(LookupError):
    """The data subject's key is gone (erased, or never existed): the data cannot be opened."""


class SealBroken(ValueError):
    """The sealed value does not authenticate (tampered, or sealed under another key)."""


class SubjectKey(SQLModel, table=True):
    """One data subject's data key, wrapped with the key-encryption key."""

    __tablename__ = "subject_key"

    key_id: str = Field(primary_key=True, max_length=64)
    wrapped_key: bytes = Field(sa_type=sa.LargeBinary())
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True),
                                 default_factory=lambda: datetime.now(UTC))


SUBJECT_KEY: sa.Table = SubjectKey.__table__  # type: ignore[attr-defined]


def create_key_table(engine: sa.Engine) -> None:
    """Create the key store table if missing (tests, SQLite; services use their migrations)."""
    SQLModel.metadata.create_all(engine, tables=[SUBJECT_KEY])


def new_subject_key_id() -> str:
    """A fresh, random subject key id (carries nothing about the person)."""
    return f"sk-{uuid.uuid4().hex}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SubjectKeyring:
    """Seals and opens personal data with per-subject keys held in the session's database."""

    def __init__(self, master_key: str) -> None:
        """`master_key` is the service's secret; the key-encryption key is derived from it."""
        if not master_key:
            raise ValueError("a master key is required")
        self._kek = AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                                info=_KEK_INFO).derive(master_key.encode()))

    # ---- keys ------------------------------------------------------------------------------

    def ensure_key(self, session: Session, key_id: str) -> bytes:
        """The subject's data key, created (in the caller's transaction) when missing."""
        row = session.get(SubjectKey, key_id)  # one read: a key, a tombstone, or nothing
        if row is not None:
            if not row.wrapped_key:
                raise SubjectErased("the data subject was erased; nothing may be sealed for them")
            return self._unwrap(row)
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(_NONCE_BYTES)
        wrapped = nonce + self._kek.encrypt(nonce, key, key_id.encode())
        session.add(SubjectKey(key_id=key_id, wrapped_key=wrapped))
        session.flush()
        return key

    def erase_subject(self, session: Session, key_id: str) -> bool:
        """Destroy the subject's key (crypto-shredding), leaving a tombstone; True when a live
        key was destroyed (False when already erased or never created)."""
        row = session.get(SubjectKey, key_id, with_for_update=True)
        if row is None:
            session.add(SubjectKey(key_id=key_id, wrapped_key=b""))
            session.flush()
            return False
        if not row.wrapped_key:
            return False
        row.wrapped_key = b""
        session.add(row)
        session.flush()
        return True

    def is_erased(self, session: Session, key_id: str) -> bool:
        """Whether the subject was erased here (a tombstone stands for its key)."""
        row = session.get(SubjectKey, key_id)
        return row is not None and not row.wrapped_key

    def matching_key(self, session: Session, key_id: str) -> bytes:
        """The subject's matching key (derived from its data key); `SubjectErased` when the
        data key is gone."""
        key = self._data_key(session, key_id)
        if key is None:
            raise SubjectErased("the data subject's key has been erased")
        return derive_matching_key(key, key_id)

    def _data_key(self, session: Session, key_id: str) -> bytes | None:
        row = session.get(SubjectKey, key_id)
        if row is None or not row.wrapped_key:
            return None  # never created, or erased (a tombstone)
        return self._unwrap(row)

    def _unwrap(self, row: SubjectKey) -> bytes:
        wrapped = bytes(row.wrapped_key)
        try:
            # The key id is authenticated data: a wrapped key moved to another id fails.
            return self._kek.decrypt(wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:],
                                     row.key_id.encode())
        except InvalidTag as e:
            raise SealBroken("the subject key cannot be unwrapped with this master key") from e

    # ---- data ------------------------------------------------------------------------------

    def seal(self, session: Session, subject_key_id: str, data: dict[str, Any]
             ) -> SealedPersonalData:
        """Encrypt `data` (JSON-serialisable) with the subject's key, creating it if needed."""
        key = self.ensure_key(session, subject_key_id)
        nonce = os.urandom(_NONCE_BYTES)
        plaintext = json.dumps(data, ensure_ascii=False, separators=(",", ":"),
                               sort_keys=True, default=str).encode()
        ciphertext = AESGCM(key).encrypt(nonce, plaintext, subject_key_id.encode())
        return SealedPersonalData(key_id=subject_key_id, alg=ALG, nonce=_b64(nonce),
                                  ciphertext=_b64(ciphertext))

    def open(self, session: Session, sealed: SealedPersonalData) -> dict[str, Any]:
        """Decrypt a sealed value; `SubjectErased` when the key is gone."""
        if sealed.alg != ALG:
            raise SealBroken("unsupported algorithm")
        key = self._data_key(session, sealed.key_id)
        if key is None:
            raise SubjectErased("the data subject's key has been erased")
        try:
            plaintext = AESGCM(key).decrypt(_unb64(sealed.nonce), _unb64(sealed.ciphertext),
                                            sealed.key_id.encode())
        except InvalidTag as e:
            raise SealBroken("the sealed value does not authenticate") from e
        result: dict[str, Any] = json.loads(plaintext)
        return result


# ---- matching keys ---------------------------------------------------------------------------

def derive_matching_key(data_key: bytes, key_id: str) -> bytes:
    """The matching key of a subject from its data key (one-way: it does not reveal the data
    key, so its holder can open only what was sealed with it)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=_MATCHING_INFO + key_id.encode()).derive(data_key)


def seal_with_key(key: bytes, key_id: str, data: dict[str, Any]) -> SealedPersonalData:
    """`data` sealed with a subject's matching key (`alg` MATCHING_ALG, key id authenticated)."""
    nonce = os.urandom(_NONCE_BYTES)
    plaintext = json.dumps(data, ensure_ascii=False, separators=(",", ":"),
                           sort_keys=True, default=str).encode()
    return SealedPersonalData(key_id=key_id, alg=MATCHING_ALG, nonce=_b64(nonce),
                              ciphertext=_b64(AESGCM(key).encrypt(nonce, plaintext,
                                                                  key_id.encode())))


def open_with_key(key: bytes, sealed: SealedPersonalData) -> dict[str, Any]:
    """Open a value sealed by `seal_with_key`; `SealBroken` when it does not authenticate."""
    if sealed.alg != MATCHING_ALG:
        raise SealBroken("unsupported algorithm")
    try:
        plaintext = AESGCM(key).decrypt(_unb64(sealed.nonce), _unb64(sealed.ciphertext),
                                        sealed.key_id.encode())
    except InvalidTag as e:
        raise SealBroken("the sealed value does not authenticate") from e
    result: dict[str, Any] = json.loads(plaintext)
    return result
