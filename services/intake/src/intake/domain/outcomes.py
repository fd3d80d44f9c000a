"""What other services report back about a case: referral states and proposed matches.

A read model only: intake shows these on the case; referral and registry own them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

MATCH_STATES = ("proposed", "family-link-restored", "identified", "rejected", "withdrawn")


@dataclass(frozen=True)
class ReferralState:
    """The latest known state of one referral made for a case."""

    referral_id: UUID
    case_id: UUID
    status: str
    need: str | None
    partner_org: str | None
    updated_at: datetime


@dataclass(frozen=True)
class MatchState:
    """A proposed (or decided) match between one of the case's records and another record."""

    candidate_id: UUID
    case_id: UUID
    record_id: UUID
    other_ref: str
    other_kind: str
    state: str
    probability: float | None
    updated_at: datetime


def record_ids_in(ref: str) -> list[UUID]:
    """The record ids a person-index reference mentions (registry refs embed intake's ids)."""
    return [UUID(m) for m in _UUID.findall(ref)]
