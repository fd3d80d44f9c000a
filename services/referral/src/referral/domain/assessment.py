"""Needs from intake's needs assessment, turned into referral requests when consent allows.

Intake names needs and urgencies in its own words; routing has its own. Consent comes from
intake per kind of partner; a need whose partner kind the survivor has not consented to waits
until they do (or a child-protection override is recorded for a minor).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from referral.domain.routing import Need, ServiceKind, Survivor, Urgency, needs_to_route
from referral.domain.sharing import PARTNER_KIND, Consent, SharedField

NEED_KIND: dict[str, ServiceKind] = {
    "shelter": ServiceKind.SHELTER,
    "medical-care": ServiceKind.MEDICAL,
    "psychological-counselling": ServiceKind.COUNSELLING,
    "legal-aid": ServiceKind.LEGAL_AID,
    "interpretation": ServiceKind.INTERPRETATION,
    "education": ServiceKind.REINTEGRATION,
    "vocational-training": ServiceKind.REINTEGRATION,
    "residence-permit-support": ServiceKind.RESIDENCE_PERMIT_SUPPORT,
    "child-guardian": ServiceKind.GUARDIAN,
}
URGENCY: dict[str, Urgency] = {
    "immediate": Urgency.EMERGENCY, "high": Urgency.HIGH, "routine": Urgency.ROUTINE,
}
# What an assessment-driven referral shares: the facts the assessment itself holds.
ASSESSMENT_FIELDS = frozenset({SharedField.IS_MINOR, SharedField.LANGUAGES,
                               SharedField.STAFF_GENDER})
ALL_PARTNER_KINDS = "*"
OVERRIDE_REASON = "child-protection override recorded in intake"


@dataclass(frozen=True)
class CaseConsent:
    """The partner kinds a survivor consented to share referral data with, or an override."""

    partner_kinds: frozenset[str] = frozenset()
    override: bool = False

    def for_need(self, kind: ServiceKind, is_minor: bool) -> Consent | None:
        """The consent that lets a referral for `kind` leave, or None (it must wait)."""
        if ALL_PARTNER_KINDS in self.partner_kinds or PARTNER_KIND[kind] in self.partner_kinds:
            return Consent(given=True, fields=ASSESSMENT_FIELDS)
        if self.override and is_minor:
            return Consent(given=False, fields=frozenset({SharedField.IS_MINOR}),
                           override_reason=OVERRIDE_REASON, override_by="intake")
        return None


def assessed_needs(needs: list[tuple[str, str]], survivor: Survivor, languages: list[str],
                   staff_gender: str, women_only_shelter: bool) -> list[Need]:
    """Routing needs of an assessment (a minor always gets a guardian need too)."""
    out = [Need(kind=NEED_KIND[kind], urgency=URGENCY[urgency], languages=tuple(languages),
                women_only_shelter=women_only_shelter,
                staff_gender=None if staff_gender == "any" else staff_gender)
           for kind, urgency in needs]
    return needs_to_route(out, survivor)


def assessment_referral_id(assessment_id: str, need: Need) -> str:
    """One referral per assessed need, whatever the number of deliveries of the assessment."""
    return str(uuid.uuid5(uuid.UUID(assessment_id), need.kind.value))
