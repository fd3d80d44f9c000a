"""The personal-data inventory: every personal field of every table and event, in one place.

Each entry tags a column (`TABLES`, by table and column name) or an event field (`EVENTS`, by
event type and field path; a nested model's fields are covered by its parent's tag) with its
category, the purpose it serves and the retention rule that ends it. Fields whose names look
personal but are not (an organisation's name, a wrapped key) are listed in `NOT_PERSONAL` with
the reason. `PARTNER_PURPOSES` lists, for each event type on a `partner.*` topic, the only fields
that purpose needs: a partner receives nothing else.

The test `tests/unit/shared/test_privacy_inventory.py` walks every service's tables and every
event model and fails on a field that looks personal and is not in here, on an entry that no
longer names a field, and on a partner event that carries a field outside its purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Category = Literal["personal", "sensitive", "child"]

#: personal  - relates to an identifiable person (a survivor, a relative, a staff member),
#:             pseudonymous references included.
#: sensitive - special-category or dangerous if disclosed: trafficking indicators and victim
#:             status, health and support needs, post-mortem data, a survivor's whereabouts,
#:             immigration deadlines, the sealed details of a missing or found person.
#: child     - reveals that the person is a minor, or exists only because they are one.
CATEGORIES: dict[Category, str] = {
    "personal": "Relates to an identifiable person (pseudonymous references included).",
    "sensitive": "Special-category or dangerous if disclosed (victim status, health, "
    "post-mortem data, whereabouts, immigration status, sealed identity).",
    "child": "Reveals that the person is a minor, or exists only because they are one.",
}

PURPOSES: dict[str, str] = {
    "case-management": "An NGO's caseworkers open, assign and follow a case (intake).",
    "tracing": "Searching for a missing person and restoring family links (§12).",
    "identification": "Identifying the dead and telling their families (§12).",
    "survivor-support": "Screening, needs assessment and support of a trafficking survivor (§17).",
    "referral": "Routing one need to a provider and following the referral (§17).",
    "legal-deadlines": "Alerting caseworkers before a residence permit or reflection period ends.",
    "consent": "Recording what the person agreed to share, with whom, and its withdrawal.",
    "accountability": "Who did what to which record, for auditors (hash-chained audit log).",
    "delivery": "Carrying events between services exactly once (outbox, inbox, dead letters, "
    "idempotency keys).",
    "erasure": "Crypto-shredding: a per-subject key whose destruction erases the subject.",
}

RETENTION: dict[str, str] = {
    "case": "While the case is held by its organisation (its case-file retention after "
    "closure); ended early by erasure, which destroys the subject's key so every sealed "
    "copy becomes unreadable.",
    "record": "As `case`; a record's subject can also be erased on their own.",
    "index": "Registry person index: until the record is amended away, its tracing consent is "
    "withdrawn or its subject erased (the entry is then dropped and its key destroyed).",
    "referral": "Referral service: for the referral's life and the referring organisation's "
    "case-file retention; shared facts are withdrawn from partners on cancellation "
    "or consent withdrawal, and erased with the subject.",
    "staff": "Usernames and roles of staff: as long as the record they acted on (audit: as the "
    "audit log).",
    "audit": "The audit log's retention; entries are never rewritten (the chain stays "
    "verifiable) and carry only usernames, roles, organisations and object ids.",
    "delivery": "Until delivered: the outbox row is purged once relayed (`purge_sent`), Kafka "
    "keeps topics 7 days; personal fields inside are sealed per subject.",
    "dead-letter": "Until an operator replays or discards it; the payload stays sealed per "
    "subject, so erasure reaches it too.",
    "idempotency": "The idempotency window of the request (a digest, not the body).",
    "deadline": "Until the deadline has passed and its alerts were sent, then with the case.",
}


@dataclass(frozen=True)
class Tag:
    """How one field is classified: category, purpose and retention (keys of the maps above)."""

    category: Category
    purpose: str
    retention: str


def _t(category: Category, purpose: str, retention: str) -> Tag:
    return Tag(category, purpose, retention)


STAFF = _t("personal", "accountability", "staff")

TABLES: dict[str, dict[str, Tag]] = {
    # ---- intake ---------------------------------------------------------------------------
    "intake_case": {
        "is_minor": _t("child", "case-management", "case"),
        "subject_key_id": _t("personal", "erasure", "case"),
        "person_sealed": _t("sensitive", "case-management", "case"),
        "assignees": STAFF,
        "opened_by": STAFF,
    },
    "intake_person_record": {
        "sex": _t("personal", "tracing", "record"),
        "is_minor": _t("child", "tracing", "record"),
        "sharing_scope": _t("personal", "consent", "record"),
        "subject_key_id": _t("personal", "erasure", "record"),
        "details_sealed": _t("sensitive", "tracing", "record"),
        "enquirer_key_id": _t("personal", "erasure", "record"),
        "enquirer_sealed": _t("personal", "tracing", "record"),
        "recorded_by": STAFF,
    },
    "intake_idempotency": {
        "scope_key": _t("personal", "delivery", "idempotency"),
        "fingerprint": _t("personal", "delivery", "idempotency"),
    },
    "intake_screening": {
        "indicators": _t("sensitive", "survivor-support", "case"),
        "result": _t("sensitive", "survivor-support", "case"),
        "notes_sealed": _t("sensitive", "survivor-support", "case"),
        "decisions": _t("sensitive", "survivor-support", "case"),
        "reconsideration_requested": STAFF,
        "screened_by": STAFF,
    },
    "intake_needs_assessment": {
        "needs": _t("sensitive", "survivor-support", "case"),
        "languages": _t("personal", "survivor-support", "case"),
        "staff_gender": _t("personal", "survivor-support", "case"),
        "women_only_shelter": _t("sensitive", "survivor-support", "case"),
        "notes_sealed": _t("sensitive", "survivor-support", "case"),
        "assessed_by": STAFF,
    },
    "intake_consent": {
        "purpose": _t("personal", "consent", "case"),
        "partner_kinds": _t("personal", "consent", "case"),
        "given_by": _t("personal", "consent", "case"),
        "override_reason_sealed": _t("child", "consent", "case"),
        "recorded_by": STAFF,
        "withdrawn_by": STAFF,
    },
    "intake_referral_view": {
        "need": _t("sensitive", "referral", "case"),
        "partner_org": _t("sensitive", "referral", "case"),
    },
    "intake_match_view": {
        "other_ref": _t("personal", "tracing", "case"),
        "state": _t("sensitive", "identification", "case"),
    },
    # ---- referral -------------------------------------------------------------------------
    "referral": {
        "need": _t("sensitive", "referral", "referral"),
        "offers": _t("sensitive", "referral", "referral"),
        "routing": _t("personal", "referral", "referral"),
        "shared": _t("sensitive", "referral", "referral"),
        "consent": _t("personal", "consent", "referral"),
        "created_by": STAFF,
    },
    "referral_deadline": {
        "kind": _t("personal", "legal-deadlines", "deadline"),
        "due": _t("sensitive", "legal-deadlines", "deadline"),
        "caseworker": STAFF,
    },
    "referral_idempotency": {
        "scope_key": _t("personal", "delivery", "idempotency"),
        "fingerprint": _t("personal", "delivery", "idempotency"),
    },
    "referral_case_consent": {
        "partner_kinds": _t("personal", "consent", "referral"),
        "override": _t("child", "consent", "referral"),
    },
    "referral_pending_need": {
        "need": _t("sensitive", "referral", "referral"),
        "is_minor": _t("child", "referral", "referral"),
    },
    # ---- registry -------------------------------------------------------------------------
    "match_candidate": {
        "pair": _t("personal", "tracing", "index"),
        "record_ref": _t("personal", "tracing", "index"),
        "candidate_ref": _t("personal", "tracing", "index"),
        "evidence": _t("sensitive", "tracing", "index"),
        "reviews": STAFF,
        "involves_minor": _t("child", "tracing", "index"),
    },
    "person_index_entry": {
        "ref": _t("personal", "tracing", "index"),
        "key_id": _t("personal", "erasure", "index"),
        "sharing_scope": _t("personal", "consent", "index"),
        "fields_sealed": _t("sensitive", "tracing", "index"),
        "is_minor": _t("child", "tracing", "index"),
    },
    "tracing_consent": {
        "active": _t("personal", "consent", "index"),
    },
    "family_notification_task": {
        "involves_minor": _t("child", "tracing", "index"),
        "kind": _t("sensitive", "identification", "index"),
        "record_ref": _t("personal", "identification", "index"),
    },
    # ---- shared by every service ----------------------------------------------------------
    "outbox": {
        "payload": _t("sensitive", "delivery", "delivery"),
    },
    "subject_key": {
        "key_id": _t("personal", "erasure", "case"),
    },
    "dead_letter": {
        "value": _t("sensitive", "delivery", "dead-letter"),
    },
    "audit_entry": {
        "actor": STAFF,
        "roles": STAFF,
        "object_id": _t("personal", "accountability", "audit"),
    },
    # Entries queued for the chain: the same fields, until a chaining pass moves them.
    "audit_pending": {
        "actor": STAFF,
        "roles": STAFF,
        "object_id": _t("personal", "accountability", "audit"),
    },
}

_SUBJECT = _t("sensitive", "tracing", "record")
_MINOR = _t("child", "tracing", "record")
_SEX = _t("personal", "tracing", "record")
_SCOPE = _t("personal", "consent", "record")
_REF = _t("personal", "tracing", "index")
_PSEUDONYM = _t("personal", "referral", "referral")

EVENTS: dict[str, dict[str, Tag]] = {
    # ---- intake.case ----------------------------------------------------------------------
    "haven.intake.case.opened.v1": {"subject": _t("sensitive", "case-management", "case")},
    "haven.intake.case.status-changed.v1": {
        "is_minor": _t("child", "case-management", "case"),
        "risk_level": _t("personal", "case-management", "case"),
    },
    "haven.intake.consent.given.v1": {
        "purpose": _t("personal", "consent", "case"),
        "partner_kinds": _t("personal", "consent", "case"),
        "override": _t("child", "consent", "case"),
    },
    "haven.intake.consent.withdrawn.v1": {
        "purpose": _t("personal", "consent", "case"),
        "partner_kinds": _t("personal", "consent", "case"),
    },
    "haven.intake.missing-person.recorded.v1": {
        "sex": _SEX,
        "is_minor": _MINOR,
        "sharing_scope": _SCOPE,
        "subject": _SUBJECT,
        "matching": _SUBJECT,
    },
    "haven.intake.found-person.recorded.v1": {
        "sex": _SEX,
        "is_minor": _MINOR,
        "sharing_scope": _SCOPE,
        "subject": _SUBJECT,
        "matching": _SUBJECT,
        "found_setting": _t("sensitive", "tracing", "record"),
    },
    "haven.intake.person-record.amended.v1": {
        "sex": _SEX,
        "is_minor": _MINOR,
        "sharing_scope": _SCOPE,
        "subject": _SUBJECT,
        "matching": _SUBJECT,
    },
    "haven.intake.remains.recorded.v1": {
        "estimated_sex": _t("personal", "identification", "record"),
        "is_minor": _t("child", "identification", "record"),
        "subject": _t("sensitive", "identification", "record"),
        "matching": _t("sensitive", "identification", "record"),
    },
    "haven.intake.subject.erased.v1": {
        "key_ids": _t("personal", "erasure", "case"),
        "reason": _t("personal", "erasure", "case"),
        "case_subject": _t("personal", "erasure", "case"),
    },
    "haven.intake.victim.presumed.v1": {
        "is_minor": _t("child", "survivor-support", "case"),
        "reasons": _t("sensitive", "survivor-support", "case"),
        "decision_date": _t("sensitive", "survivor-support", "case"),
    },
    "haven.intake.victim.identified.v1": {
        "is_minor": _t("child", "survivor-support", "case"),
        "reasons": _t("sensitive", "survivor-support", "case"),
        "decision_date": _t("sensitive", "survivor-support", "case"),
    },
    "haven.intake.needs.assessed.v1": {
        "is_minor": _t("child", "survivor-support", "case"),
        "needs": _t("sensitive", "survivor-support", "case"),
        "languages": _t("personal", "survivor-support", "case"),
        "staff_gender": _t("personal", "survivor-support", "case"),
        "women_only_shelter": _t("sensitive", "survivor-support", "case"),
    },
    # ---- referral.referral ----------------------------------------------------------------
    "haven.referral.requested.v1": {
        "need": _t("sensitive", "referral", "referral"),
        "child_protection_override": _t("child", "referral", "referral"),
    },
    "haven.referral.offered.v1": {"partner_org": _t("sensitive", "referral", "referral")},
    "haven.referral.offer.closed.v1": {"partner_org": _t("sensitive", "referral", "referral")},
    "haven.referral.status.changed.v1": {
        "partner_org": _t("sensitive", "referral", "referral"),
        "reason_code": _t("personal", "referral", "referral"),
    },
    "haven.referral.unmet-need.v1": {"need": _t("sensitive", "referral", "referral")},
    "haven.referral.deadline.approaching.v1": {
        "kind": _t("personal", "legal-deadlines", "deadline"),
        "due": _t("sensitive", "legal-deadlines", "deadline"),
    },
    "haven.referral.deadline.breached.v1": {
        "kind": _t("personal", "legal-deadlines", "deadline"),
        "due": _t("sensitive", "legal-deadlines", "deadline"),
    },
    # ---- partner.<org>.* ------------------------------------------------------------------
    "haven.partner.referral.offered.v1": {
        "subject": _PSEUDONYM,
        "need": _t("sensitive", "referral", "referral"),
        "shared": _t("sensitive", "referral", "referral"),
    },
    "haven.partner.referral.withdrawn.v1": {
        "subject": _PSEUDONYM,
        "outcome": _t("personal", "referral", "referral"),
    },
    "haven.partner.subject.erased.v1": {"subject": _PSEUDONYM},
    "haven.partner.referral.answered.v1": {"reason": _t("personal", "referral", "referral")},
    # ---- registry.match -------------------------------------------------------------------
    "haven.registry.match.proposed.v1": {
        "record_ref": _REF,
        "candidate_ref": _REF,
        "explanation": _t("sensitive", "tracing", "index"),
    },
    "haven.registry.match.rejected.v1": {"record_ref": _REF, "candidate_ref": _REF},
    "haven.registry.match.withdrawn.v1": {"record_ref": _REF, "candidate_ref": _REF},
    "haven.registry.family-link.restored.v1": {"record_ref": _REF, "candidate_ref": _REF},
    "haven.registry.identification.confirmed.v1": {
        "record_ref": _t("sensitive", "identification", "index"),
        "candidate_ref": _t("sensitive", "identification", "index"),
    },
    "haven.registry.family-notification.requested.v1": {
        "kind": _t("sensitive", "identification", "index"),
        "record_ref": _t("personal", "identification", "index"),
    },
    "haven.registry.family-notification.updated.v1": {
        "kind": _t("sensitive", "identification", "index"),
        "record_ref": _t("personal", "identification", "index"),
    },
}

#: Fields whose names look personal but hold no personal data, and why.
NOT_PERSONAL: dict[str, str] = {
    "subject_key.wrapped_key": "A wrapped per-subject key, not data about anyone; destroying "
    "it is what erases the subject.",
    "audit_checkpoint.key_id": "The id of the audit log's signing key.",
    "outbox.headers": "CloudEvents attributes and the trace context only.",
    "dead_letter.headers": "Kafka headers: CloudEvents attributes and the trace context.",
    "dead_letter.key": "The Kafka key: an aggregate id (a case or service id).",
    "dead_letter.reason": "The failure's class and message, never the payload.",
    "referral_provider.name": "A provider service's name.",
    "referral_provider.min_age": "The youngest age the provider serves (eligibility).",
    "referral_provider.max_age": "The oldest age the provider serves (eligibility).",
    "referral_deadline_alert.key": "A deadline id and alert offset (sent-once marker).",
    "tracing_consent.consent_id": "The id of a consent record.",
    "haven.intake.consent.given.v1.consent_id": "The id of a consent record.",
    "haven.intake.consent.withdrawn.v1.consent_id": "The id of a consent record.",
    "haven.partner.referral.offered.v1.respond_by": "When the offer must be answered.",
    "referral_provider.languages": "Languages the provider serves in.",
    "referral_provider.genders": "Whom the provider serves (eligibility).",
    "directory_organisation.name": "An organisation's name.",
    "directory_organisation.description": "An organisation's description.",
    "directory_organisation.email": "A shared organisational inbox, not a person's.",
    "directory_service.name": "A service's name.",
    "directory_service.description": "A service's description.",
    "directory_service.languages": "Languages the service works in.",
    "directory_service.locations": "Addresses of the service's premises.",
    "haven.registry.provider.upserted.v1.provider": "A provider service's directory entry.",
    "haven.registry.provider.capacity.changed.v1.provider": "A provider service's directory entry.",
    "haven.registry.provider.withdrawn.v1.provider": "A provider service's directory entry.",
    "haven.registry.provider.withdrawn.v1.reason": "Why a service left the directory.",
    "haven.registry.family-link.restored.v1.reviewer_org": "The reviewing organisation.",
    "haven.registry.identification.confirmed.v1.reviewer_orgs": "The reviewing organisations.",
}

#: Event types on `partner.<org>.*` topics: their purpose and the only fields it needs.
PARTNER_PURPOSES: dict[str, tuple[str, frozenset[str]]] = {
    "haven.partner.referral.offered.v1": (
        "referral",
        frozenset(
            {
                "referral_id",
                "partner_org",
                "subject",
                "provider_id",
                "need",
                "urgency",
                "respond_by",
                "shared.is_minor",
                "shared.sex",
                "shared.age",
                "shared.languages",
                "shared.area",
                "shared.staff_gender",
            }
        ),
    ),
    "haven.partner.referral.withdrawn.v1": (
        "referral",
        frozenset(
            {
                "referral_id",
                "partner_org",
                "subject",
                "outcome",
            }
        ),
    ),
    "haven.partner.subject.erased.v1": (
        "erasure",
        frozenset(
            {
                "referral_id",
                "partner_org",
                "subject",
                "erased_at",
            }
        ),
    ),
    "haven.partner.referral.answered.v1": (
        "referral",
        frozenset(
            {
                "referral_id",
                "partner_org",
                "action",
                "reason",
            }
        ),
    ),
}
