"""Routing: which providers may receive a survivor's need, ranked, and why others may not.

Exclusion rules are hard constraints (service kind, status, capacity, area, eligibility by sex
and age, child-sensitive and gender-responsive rules). Preferences (language, staff gender) only
rank the eligible. Every provider gets a reason, so a caseworker can see why it was or was not
chosen; an empty result is an unmet need, never silence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ServiceKind(StrEnum):
    SHELTER = "shelter"
    MEDICAL = "medical"
    COUNSELLING = "counselling"
    LEGAL_AID = "legal_aid"
    INTERPRETATION = "interpretation"
    REINTEGRATION = "reintegration"
    RESIDENCE_PERMIT_SUPPORT = "residence_permit_support"
    GUARDIAN = "guardian"


class Urgency(StrEnum):
    EMERGENCY = "emergency"
    HIGH = "high"
    ROUTINE = "routine"


ANY_AREA = "*"


@dataclass(frozen=True)
class Provider:
    """A service of a provider organisation, as the directory describes it."""

    provider_id: str
    org: str
    kind: ServiceKind
    capacity: int
    active: bool = True
    areas: frozenset[str] = frozenset({ANY_AREA})
    languages: frozenset[str] = frozenset()
    women_only: bool = False
    child_qualified: bool = False
    # Sexes the service accepts; empty means all.
    accepts_sexes: frozenset[str] = frozenset()
    min_age: int | None = None
    max_age: int | None = None
    staff_genders: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Survivor:
    """What routing may know of the person: nothing that identifies them."""

    is_minor: bool
    sex: str | None = None
    age: int | None = None


@dataclass(frozen=True)
class Need:
    kind: ServiceKind
    urgency: Urgency = Urgency.ROUTINE
    area: str | None = None
    languages: tuple[str, ...] = ()
    women_only_shelter: bool = False
    staff_gender: str | None = None


@dataclass(frozen=True)
class Assessment:
    """One provider judged against one need: eligible or not, and why."""

    provider: Provider
    eligible: bool
    reasons: tuple[str, ...]
    rank_key: tuple[int, int, int, str] = (0, 0, 0, "")


@dataclass(frozen=True)
class RoutingDecision:
    need: Need
    chosen: tuple[Assessment, ...]
    excluded: tuple[Assessment, ...] = field(default=())

    @property
    def unmet(self) -> bool:
        return not self.chosen


def _exclusions(need: Need, survivor: Survivor, p: Provider) -> list[str]:
    out: list[str] = []
    if p.kind != need.kind:
        out.append(f"offers {p.kind.value}, not {need.kind.value}")
    if not p.active:
        out.append("not active")
    if p.capacity <= 0:
        out.append("no free capacity")
    if need.area and ANY_AREA not in p.areas and need.area not in p.areas:
        out.append("does not serve the area")
    if survivor.is_minor and not p.child_qualified:
        out.append("not qualified to serve children")
    if p.accepts_sexes and survivor.sex and survivor.sex not in p.accepts_sexes:
        out.append("does not serve the person's sex")
    if survivor.age is not None:
        if p.min_age is not None and survivor.age < p.min_age:
            out.append("below the service's minimum age")
        if p.max_age is not None and survivor.age > p.max_age:
            out.append("above the service's maximum age")
    if need.kind == ServiceKind.SHELTER and need.women_only_shelter and not p.women_only:
        out.append("not a women-only shelter, which was requested")
    return out


def assess(need: Need, survivor: Survivor, provider: Provider) -> Assessment:
    """Judge one provider for one need, with the reasons for the verdict."""
    excluded = _exclusions(need, survivor, provider)
    if excluded:
        return Assessment(provider, False, tuple(excluded))
    reasons = [f"offers {need.kind.value} with {provider.capacity} free"]
    language_match = bool(set(need.languages) & provider.languages)
    if need.languages:
        reasons.append("speaks a preferred language" if language_match
                       else "no preferred language; interpretation needed")
    staff_match = bool(need.staff_gender and need.staff_gender in provider.staff_genders)
    if need.staff_gender:
        reasons.append("has staff of the preferred gender" if staff_match
                       else "no staff of the preferred gender")
    if survivor.is_minor:
        reasons.append("child-qualified")
    if provider.women_only:
        reasons.append("women-only")
    # Lower sorts first: preferences met, then more free capacity, then a stable id.
    rank = (0 if language_match else 1, 0 if staff_match else 1, -provider.capacity,
            provider.provider_id)
    return Assessment(provider, True, tuple(reasons), rank)


def route(need: Need, survivor: Survivor, providers: list[Provider]) -> RoutingDecision:
    """All providers judged for `need`: the eligible ranked best first, the rest with reasons."""
    assessments = [assess(need, survivor, p) for p in providers]
    chosen = sorted((a for a in assessments if a.eligible), key=lambda a: a.rank_key)
    excluded = sorted((a for a in assessments if not a.eligible),
                      key=lambda a: a.provider.provider_id)
    return RoutingDecision(need, tuple(chosen), tuple(excluded))


def needs_to_route(needs: list[Need], survivor: Survivor) -> list[Need]:
    """The needs to route: those assessed, plus a guardian for any minor who has none listed.

    A child without a guardian is never left unrouted because the assessment forgot the need.
    """
    out = list(needs)
    if survivor.is_minor and not any(n.kind == ServiceKind.GUARDIAN for n in out):
        out.append(Need(kind=ServiceKind.GUARDIAN, urgency=Urgency.HIGH,
                        area=out[0].area if out else None))
    return out
