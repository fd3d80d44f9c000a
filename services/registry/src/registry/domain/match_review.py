"""Review of match candidates: a person proposed by the matching engine as the same person.

A candidate links two records of the person index by their pseudonymous references. A tracing
officer confirms or rejects a match of living people; a confirmation restores a family link.
A match involving unidentified remains is an identification of the dead: it needs two
confirmations by two different forensic reviewers (four eyes), and, like every outcome that
amounts to "believed dead", the permission `deceased_records` to see and to record it.
A match of living people where either record is of a child is a child-protection matter (a
family link restored to the wrong adult can hand a child to a trafficker): it needs two
confirmations by two different people, one a tracing officer and one holding `child_protection`,
who sees such candidates (and only those) even without a tracing role.
A rejected pair stays rejected: the pair is never proposed again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

REMAINS = "remains"
LIVING_REVIEWER_ROLES = frozenset({"tracing_officer"})
REMAINS_REVIEWER_ROLES = frozenset({"forensic_reviewer", "deceased_records"})
CHILD_PROTECTION = "child_protection"
TRACING_OFFICER = "tracing_officer"
CONFIRMATIONS_FOR_REMAINS = 2
CONFIRMATIONS_FOR_A_CHILD = 2


class ReviewError(Exception):
    """A review rule was broken; the message quotes no submitted value."""


class ReviewNotPermitted(ReviewError):
    """The reviewer lacks the role this candidate needs."""


class AlreadyDecided(ReviewError):
    """The candidate was already confirmed or rejected."""


class SameReviewerTwice(ReviewError):
    """Four eyes: the second confirmation must come from another reviewer."""


class OtherKindOfReviewNeeded(ReviewError):
    """A child's match: the second confirmation must bring the kind of review (tracing or
    child protection) the first did not."""


class MatchStatus(enum.StrEnum):
    """Where a candidate stands in review."""

    PROPOSED = "proposed"
    AWAITING_SECOND_REVIEW = "awaiting_second_review"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    # Closed without a decision: a record of the pair left the index (tracing consent withdrawn).
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Reviewer:
    """Who reviews: a user's subject, organisation and roles (no framework type)."""

    subject: str
    org: str
    roles: frozenset[str]


@dataclass(frozen=True)
class Evidence:
    """How one field contributed to the score (names the field, never its values)."""

    field: str
    level: int
    label: str
    weight: float


@dataclass(frozen=True)
class Review:
    """One reviewer's decision."""

    reviewer: str
    org: str
    decision: str  # "confirmed" | "rejected"
    at: datetime
    reason: str = ""
    # The reviewer's roles that counted for this candidate (a child's match needs both kinds).
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class MatchProposed:
    candidate: MatchCandidate


@dataclass(frozen=True)
class MatchConfirmed:
    """The last confirmation a candidate needed was given."""

    candidate: MatchCandidate


@dataclass(frozen=True)
class MatchRejected:
    candidate: MatchCandidate


@dataclass(frozen=True)
class MatchClosed:
    """An undecided candidate was closed because one of its records left the index."""

    candidate: MatchCandidate
    at: datetime


def pair_key(a: str, b: str) -> str:
    """The same key for a pair in either order."""
    return "\x1f".join(sorted((a, b)))


@dataclass(eq=False)
class MatchCandidate:
    """Two records proposed as one person, and their review (aggregate)."""

    id: UUID
    record_ref: str
    record_kind: str
    candidate_ref: str
    candidate_kind: str
    probability: float
    weight: float
    evidence: tuple[Evidence, ...]
    proposed_at: datetime
    status: MatchStatus = MatchStatus.PROPOSED
    reviews: list[Review] = field(default_factory=list)
    version: int = 0
    # Either record is of a child (under 18, or an age range reaching under 18).
    involves_minor: bool = False
    events: list[MatchProposed | MatchConfirmed | MatchRejected | MatchClosed] = field(
        default_factory=list)

    @classmethod
    def propose(cls, id: UUID, record_ref: str, record_kind: str,  # noqa: A002
                candidate_ref: str, candidate_kind: str, probability: float, weight: float,
                evidence: tuple[Evidence, ...], at: datetime,
                involves_minor: bool = False) -> MatchCandidate:
        """A new candidate awaiting review."""
        if record_ref == candidate_ref:
            raise ReviewError("A record cannot match itself.")
        c = cls(id=id, record_ref=record_ref, record_kind=record_kind,
                candidate_ref=candidate_ref, candidate_kind=candidate_kind,
                probability=probability, weight=weight, evidence=evidence, proposed_at=at,
                version=1, involves_minor=involves_minor)
        c.events.append(MatchProposed(c.snapshot()))
        return c

    @property
    def pair(self) -> str:
        return pair_key(self.record_ref, self.candidate_ref)

    @property
    def involves_remains(self) -> bool:
        """Whether confirming it identifies a dead person."""
        return REMAINS in (self.record_kind, self.candidate_kind)

    @property
    def of_a_living_child(self) -> bool:
        """A match of living people involving a child: child protection reviews it too."""
        return self.involves_minor and not self.involves_remains

    @property
    def confirmations_needed(self) -> int:
        if self.involves_remains:
            return CONFIRMATIONS_FOR_REMAINS
        return CONFIRMATIONS_FOR_A_CHILD if self.of_a_living_child else 1

    @property
    def required_roles(self) -> frozenset[str]:
        return REMAINS_REVIEWER_ROLES if self.involves_remains else LIVING_REVIEWER_ROLES

    def visible_to(self, reviewer: Reviewer) -> bool:
        """Whether the reviewer may see this candidate at all."""
        if self.involves_remains:
            return "deceased_records" in reviewer.roles
        if self.involves_minor and CHILD_PROTECTION in reviewer.roles:
            return True
        return bool(reviewer.roles & (LIVING_REVIEWER_ROLES | {"forensic_reviewer"}))

    def confirm(self, reviewer: Reviewer, at: datetime) -> None:
        """Confirm the match; remains need a second, different reviewer before it counts, and
        a child's match a tracing officer's and a child-protection holder's confirmations."""
        counted = self._check_may_review(reviewer)
        if any(r.reviewer == reviewer.subject for r in self.reviews):
            raise SameReviewerTwice("This reviewer has already confirmed the candidate; "
                                    "a second reviewer must confirm it.")
        if self.of_a_living_child and self.reviews:
            # The two confirmations together must bring both kinds of review.
            (first,) = self.reviews
            if not ((TRACING_OFFICER in first.roles and CHILD_PROTECTION in counted)
                    or (CHILD_PROTECTION in first.roles and TRACING_OFFICER in counted)):
                missing = CHILD_PROTECTION if TRACING_OFFICER in first.roles else TRACING_OFFICER
                raise OtherKindOfReviewNeeded(
                    f"This child's match needs its second confirmation from a {missing} role.")
        self.reviews.append(Review(reviewer.subject, reviewer.org, "confirmed", at,
                                   roles=counted))
        needed = self.confirmations_needed
        self.version += 1
        if len(self.reviews) >= needed:
            self.status = MatchStatus.CONFIRMED
            self.events.append(MatchConfirmed(self.snapshot()))
        else:
            self.status = MatchStatus.AWAITING_SECOND_REVIEW

    def reject(self, reviewer: Reviewer, reason: str, at: datetime) -> None:
        """Reject the match for good, with a reason for the record."""
        counted = self._check_may_review(reviewer)
        if not reason.strip():
            raise ReviewError("A rejection needs a reason.")
        self.reviews.append(Review(reviewer.subject, reviewer.org, "rejected", at, reason,
                                   roles=counted))
        self.status = MatchStatus.REJECTED
        self.version += 1
        self.events.append(MatchRejected(self.snapshot()))

    def withdraw(self, at: datetime) -> bool:
        """Close an undecided candidate because one of its records left the index.

        Decided candidates keep their decision; returns whether this one was closed. Nothing was
        decided, and the pair is not proposed again; `MatchClosed` tells those who showed the
        candidate as proposed to stop.
        """
        if self.status not in (MatchStatus.PROPOSED, MatchStatus.AWAITING_SECOND_REVIEW):
            return False
        self.status = MatchStatus.WITHDRAWN
        self.version += 1
        self.events.append(MatchClosed(self.snapshot(), at))
        return True

    def snapshot(self) -> MatchCandidate:
        """A copy without events, safe to carry inside an event."""
        return MatchCandidate(
            id=self.id, record_ref=self.record_ref, record_kind=self.record_kind,
            candidate_ref=self.candidate_ref, candidate_kind=self.candidate_kind,
            probability=self.probability, weight=self.weight, evidence=self.evidence,
            proposed_at=self.proposed_at, status=self.status, reviews=list(self.reviews),
            version=self.version, involves_minor=self.involves_minor)

    def _check_may_review(self, reviewer: Reviewer) -> tuple[str, ...]:
        """The reviewer's roles that count for this candidate; refused when none does."""
        if self.of_a_living_child:
            counted = tuple(sorted(reviewer.roles & {TRACING_OFFICER, CHILD_PROTECTION}))
            allowed = bool(counted)
        else:
            counted = tuple(sorted(self.required_roles))
            allowed = self.required_roles <= reviewer.roles
        if not allowed:
            raise ReviewNotPermitted("Your roles do not allow reviewing this candidate.")
        if self.status in (MatchStatus.CONFIRMED, MatchStatus.REJECTED, MatchStatus.WITHDRAWN):
            raise AlreadyDecided(f"The candidate was already {self.status.value}.")
        return counted
