"""The matching-only part of tracing records, sealed for the registry's person index.

Intake's sealed fields use keys only intake holds. The registry needs a few fields to match
records (names, sex, birth, nationalities, languages, place and date) and nothing else: no
enquirer, no description, no personal effects. `MatchingOutbox` adds them to each tracing event
as its `matching` field as the event enters the outbox, sealed with the subject's matching key:
derived from the subject's data key, handed to the registry only on request
(`GET /internal/matching-keys/{key_id}`), and destroyed with the data key when the subject is
erased, so no copy of the matching part stays readable after an erasure.

`seal_for_matching` is the earlier construction (a key derived from the secret both services
share); events sealed that way stay readable to holders of the secret even after an erasure,
so intake no longer produces them and the registry opens them only for history.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session

from haven_shared.crypto import ALG, SubjectKeyring, seal_with_key
from haven_shared.events.intake import (
    FoundPersonRecorded,
    MissingPersonRecorded,
    PersonRecordAmended,
    RemainsRecorded,
)
from haven_shared.events.model import Event, SealedPersonalData
from haven_shared.outbox import Outbox, OutboxMessage

_INFO = b"haven matching v1:"
TRACING_EVENTS = (MissingPersonRecorded, FoundPersonRecorded, RemainsRecorded,
                  PersonRecordAmended)
_REMAINS_FIELDS = ("date_of_birth", "estimated_age_min", "estimated_age_max", "date_of_death",
                   "post_mortem_interval_days")


def matching_fields(sex: str, details: dict[str, Any]) -> dict[str, Any]:
    """What the registry may see of a record to match it, from the record's sealed details."""
    if "names" not in details:  # unidentified remains
        return {"sex": sex, **{k: details.get(k) for k in _REMAINS_FIELDS},
                "place": details.get("found_place"), "date": details.get("found_date")}
    seen = details.get("last_seen") or {}
    return {"sex": sex, "names": [n["text"] for n in details["names"]],
            "date_of_birth": details.get("date_of_birth"),
            "estimated_age": details.get("estimated_age"),
            "nationalities": details.get("nationalities", []),
            "languages": details.get("languages", []),
            "place": seen.get("place", details.get("found_place")),
            "date": seen.get("date", details.get("found_date"))}


def seal_for_matching(secret: bytes, key_id: str, fields: dict[str, Any]) -> SealedPersonalData:
    """`fields` sealed under a key derived from the shared secret (the earlier construction,
    which erasure cannot reach; kept to describe and test the history)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=_INFO + key_id.encode()).derive(secret)
    nonce = os.urandom(12)
    plaintext = json.dumps(fields, ensure_ascii=False, separators=(",", ":"),
                           sort_keys=True).encode()
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, key_id.encode())
    return SealedPersonalData(key_id=key_id, alg=ALG, nonce=_b64(nonce),
                              ciphertext=_b64(ciphertext))


class MatchingOutbox(Outbox):
    """The outbox, adding the sealed matching part to tracing events (in the same session)."""

    def __init__(self, source: str, keyring: SubjectKeyring) -> None:
        super().__init__(source)
        self._keyring = keyring

    def add_all(self, session: Session, events: Sequence[Event]) -> list[OutboxMessage]:
        return super().add_all(session, [self._with_matching(session, e) for e in events])

    def _with_matching(self, session: Session, event: Event) -> Event:
        if not isinstance(event, TRACING_EVENTS) or event.matching is not None:
            return event
        sex = event.estimated_sex if isinstance(event, RemainsRecorded) else event.sex
        fields = matching_fields(sex, self._keyring.open(session, event.subject))
        key_id = event.subject.key_id
        key = self._keyring.matching_key(session, key_id)
        return event.model_copy(update={"matching": seal_with_key(key, key_id, fields)})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
