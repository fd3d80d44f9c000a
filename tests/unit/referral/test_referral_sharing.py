"""Consent-scoped sharing and partner pseudonyms."""

from __future__ import annotations

import pytest

from referral.domain.sharing import (
    Consent,
    ConsentRequired,
    SharedField,
    check_consent,
    partner_pseudonym,
    shared_facts,
)

KEY = b"unit-test-master-key"


def test_without_consent_a_referral_may_not_leave() -> None:
    with pytest.raises(ConsentRequired):
        check_consent(Consent(given=False), is_minor=False)


def test_a_child_protection_override_needs_a_reason_and_a_minor() -> None:
    check_consent(Consent(given=False, override_reason="child at risk tonight"), is_minor=True)
    with pytest.raises(ConsentRequired):
        check_consent(Consent(given=False, override_reason="   "), is_minor=True)
    with pytest.raises(ConsentRequired):
        check_consent(Consent(given=False, override_reason="adult at risk"), is_minor=False)


def test_only_consented_facts_are_shared() -> None:
    consent = Consent(given=True, fields=frozenset({SharedField.SEX, SharedField.LANGUAGES}))
    facts = {"is_minor": True, "sex": "female", "age": 16, "languages": ["ti"], "area": "x"}
    assert shared_facts(consent, facts) == {"sex": "female", "languages": ["ti"]}


def test_each_partner_sees_its_own_stable_pseudonym_never_the_case_id() -> None:
    case = "0b5c3f7e-5d2a-4c1e-9a57-3f1f2b9d6a10"
    a1 = partner_pseudonym(KEY, "shelter-a", case)
    assert a1 == partner_pseudonym(KEY, "shelter-a", case)
    assert a1 != partner_pseudonym(KEY, "clinic-b", case)
    assert a1 != partner_pseudonym(b"another-master-key", "shelter-a", case)
    assert case not in a1 and case.replace("-", "") not in a1
