"""Needs assessments and consent records (§17)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from intake.domain import validation as v
from intake.domain.errors import InvalidField, InvalidTransition, NotPermitted

NEEDS = frozenset({
    "shelter", "medical-care", "psychological-counselling", "legal-aid", "interpretation",
    "education", "vocational-training", "residence-permit-support", "child-guardian",
})
PURPOSES = frozenset({"tracing", "services", "disclosure"})


@dataclass(frozen=True)
class Need:
    """One need and its urgency (immediate, high, routine)."""

    kind: str
    urgency: str


@dataclass(frozen=True)
class NeedsAssessment:
    """What a survivor needs, and the preferences providers must respect."""

    id: UUID
    case_id: UUID
    needs: tuple[Need, ...]
    languages: tuple[str, ...]
    staff_gender: str
    women_only_shelter: bool
    notes: str | None
    assessed_by: str
    assessed_at: datetime

    def validated(self, case_is_minor: bool) -> NeedsAssessment:
        """A clean copy; `InvalidField` for duplicates or child-only needs of an adult."""
        if not self.needs:
            raise InvalidField("needs", "must list at least one need", "empty")
        seen: set[str] = set()
        for i, need in enumerate(self.needs):
            if need.kind in seen:
                raise InvalidField(f"needs.{i}.kind", "is listed twice", "duplicate")
            seen.add(need.kind)
            if need.kind == "child-guardian" and not case_is_minor:
                raise InvalidField(f"needs.{i}.kind", "a guardian is for children only",
                                   "not-a-minor")
        if self.women_only_shelter and "shelter" not in seen:
            raise InvalidField("women_only_shelter", "applies only when shelter is needed",
                               "needs-shelter")
        return NeedsAssessment(**{**self.__dict__, "notes": v.clean_text("notes", self.notes)})


@dataclass
class ConsentRecord:
    """Consent for one purpose, or a recorded child-protection override; withdrawable."""

    id: UUID
    case_id: UUID
    purpose: str
    partner_kinds: tuple[str, ...]
    given_by: str
    recorded_by: str
    recorded_at: datetime
    override_reason: str | None = None
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None

    @property
    def override(self) -> bool:
        """Recorded without consent, to protect a child in danger."""
        return self.override_reason is not None

    def validate(self, case_is_minor: bool, actor_has_child_protection: bool) -> None:
        """The purpose's rules; an override only for a minor, by child protection, with reason."""
        if self.purpose == "disclosure" and not self.partner_kinds:
            raise InvalidField("partner_kinds", "disclosure needs the partner kinds",
                               "empty")
        if self.override_reason is not None:
            reason = v.clean_text("override_reason", self.override_reason)
            if not reason:
                raise InvalidField("override_reason", "must not be empty", "empty")
            self.override_reason = reason
            if not case_is_minor:
                raise InvalidField("override_reason", "overrides are for children in danger",
                                   "not-a-minor")
            if not actor_has_child_protection:
                raise NotPermitted("An override needs the child-protection permission.")

    def withdraw(self, by: str, now: datetime) -> None:
        """Withdraw the consent; `InvalidTransition` if already withdrawn."""
        if self.withdrawn_at is not None:
            raise InvalidTransition("This consent was already withdrawn.")
        self.withdrawn_at, self.withdrawn_by = now, by
