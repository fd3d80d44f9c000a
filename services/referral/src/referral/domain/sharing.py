"""Consent-scoped sharing: which of a survivor's facts a partner may see, and under what name.

A referral leaves the referring organisation only with the survivor's consent, and carries only
the facts consented to. The one exception is a recorded child-protection override for a minor,
with a reason. The partner never sees the case id: it sees a pseudonym derived with a key of its
own, so two partners cannot link their records of the same person.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from referral.domain.lifecycle import OPEN, Status
from referral.domain.offers import OfferStatus, Referral
from referral.domain.routing import ServiceKind


class SharedField(StrEnum):
    """Facts a survivor may consent to share with a provider."""

    IS_MINOR = "is_minor"
    SEX = "sex"
    AGE = "age"
    LANGUAGES = "languages"
    AREA = "area"
    STAFF_GENDER = "staff_gender"


class ConsentRequired(Exception):
    """No consent to share and no child-protection override: the referral may not leave."""


@dataclass(frozen=True)
class Consent:
    """What the survivor agreed to share, or the override that stands in for it."""

    given: bool
    fields: frozenset[SharedField] = frozenset()
    override_reason: str | None = None
    override_by: str | None = None

    @property
    def overridden(self) -> bool:
        return not self.given and bool(self.override_reason and self.override_reason.strip())


def check_consent(consent: Consent, is_minor: bool) -> None:
    """Raise ConsentRequired unless consent was given or a minor's override has a reason."""
    if consent.given:
        return
    if consent.override_reason is not None and not is_minor:
        raise ConsentRequired("a child-protection override applies to minors only")
    if not consent.overridden:
        raise ConsentRequired("the survivor's consent to share is required")


def shared_facts(consent: Consent, facts: dict[str, object]) -> dict[str, object]:
    """Only the facts in the consent's scope (and not empty)."""
    return {f.value: facts[f.value] for f in sorted(consent.fields)
            if facts.get(f.value) not in (None, "", [], ())}


def partner_key(master_key: bytes, org: str) -> bytes:
    """The pseudonymisation key of one partner, derived from the master key."""
    return hmac.new(master_key, b"haven/referral/partner-pseudonym/" + org.encode(),
                    hashlib.sha256).digest()


def partner_pseudonym(master_key: bytes, org: str, case_id: str) -> str:
    """The name under which partner `org` knows the person of `case_id` (stable, unlinkable)."""
    digest = hmac.new(partner_key(master_key, org), case_id.encode(), hashlib.sha256)
    return "p-" + digest.hexdigest()[:32]


# Intake records consent per kind of partner; each service kind belongs to one of them.
PARTNER_KIND: dict[ServiceKind, str] = {
    ServiceKind.SHELTER: "shelter",
    ServiceKind.MEDICAL: "clinic",
    ServiceKind.COUNSELLING: "counselling",
    ServiceKind.LEGAL_AID: "legal-aid",
    ServiceKind.INTERPRETATION: "ngo",
    ServiceKind.REINTEGRATION: "ngo",
    ServiceKind.RESIDENCE_PERMIT_SUPPORT: "legal-aid",
    ServiceKind.GUARDIAN: "authority",
}
CONSENT_WITHDRAWN = "consent-withdrawn"


def withdrawal_covers(kind: ServiceKind, partner_kinds: list[str]) -> bool:
    """Whether withdrawing consent for `partner_kinds` (empty: every kind) covers `kind`."""
    return not partner_kinds or PARTNER_KIND[kind] in partner_kinds


def stop_for_withdrawn_consent(referral: Referral) -> list[str]:
    """Stop an open referral whose consent was withdrawn; return every organisation that
    received its data (each must be told to delete it).

    Not yet started: cancelled. Already under way: failed, with the reason.
    """
    if referral.status not in OPEN:
        return []
    held = list(dict.fromkeys(o.org for o in referral.offers))
    if referral.status in (Status.REQUESTED, Status.ACCEPTED):
        referral.advance(None, Status.CANCELLED)
    else:
        referral.advance(None, Status.FAILED, CONSENT_WITHDRAWN)
    for o in referral.offers:
        if o.status == OfferStatus.OPEN:
            o.status = OfferStatus.CANCELLED
    return held
