"""The service-provider directory: organisations and the services they offer survivors.

A provider is an organisation (a shelter, a clinic, a legal-aid clinic), never a person, so
nothing here is personal data. The `ProviderService` aggregate holds everything referral needs
to route a survivor to it: kind, eligibility, languages, where it works, when it is open, how
much capacity it has left and whether it takes referrals at all. Every change records a domain
event; the unit of work turns them into integration events in the outbox.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from uuid import UUID


class DirectoryError(Exception):
    """A rule of the directory was broken; the message never quotes submitted values."""


class UnknownServiceKind(DirectoryError):
    """The service kind is not one of `ServiceKind`."""


class InvalidCapacity(DirectoryError):
    """Capacity below zero, or more available than the maximum."""


class InvalidEligibility(DirectoryError):
    """Contradictory eligibility rules (e.g. minimum age above maximum age)."""


class ServiceWithdrawn(DirectoryError):
    """The service was withdrawn from the directory and no longer changes."""


class ServiceKind(enum.StrEnum):
    """What a service does for a survivor (the needs of a needs assessment)."""

    SHELTER = "shelter"
    MEDICAL = "medical"
    COUNSELLING = "counselling"
    LEGAL_AID = "legal_aid"
    INTERPRETATION = "interpretation"
    REINTEGRATION = "reintegration"
    RESIDENCE_PERMIT_SUPPORT = "residence_permit_support"
    GUARDIAN = "guardian"

    @classmethod
    def parse(cls, value: str) -> ServiceKind:
        """The kind named `value`; `UnknownServiceKind` otherwise."""
        try:
            return cls(value)
        except ValueError:
            raise UnknownServiceKind("The service kind is not a known kind.") from None


class ServiceStatus(enum.StrEnum):
    """Whether a service takes referrals."""

    ACTIVE = "active"
    TEMPORARILY_CLOSED = "temporarily_closed"
    WITHDRAWN = "withdrawn"


class Gender(enum.StrEnum):
    """Genders a service accepts (an empty set of them means everyone)."""

    FEMALE = "female"
    MALE = "male"
    NON_BINARY = "non_binary"


class Weekday(enum.StrEnum):
    """Days of the week, in iCalendar's two-letter form (as HSDS schedules use)."""

    MO = "MO"
    TU = "TU"
    WE = "WE"
    TH = "TH"
    FR = "FR"
    SA = "SA"
    SU = "SU"


@dataclass(frozen=True)
class Eligibility:
    """Who a service accepts. Minors go only to child-qualified services."""

    genders: frozenset[Gender] = frozenset()
    minimum_age: int | None = None
    maximum_age: int | None = None
    women_only: bool = False
    child_qualified: bool = False

    def __post_init__(self) -> None:
        for age in (self.minimum_age, self.maximum_age):
            if age is not None and not 0 <= age <= 130:
                raise InvalidEligibility("Ages must lie between 0 and 130.")
        if (self.minimum_age is not None and self.maximum_age is not None
                and self.minimum_age > self.maximum_age):
            raise InvalidEligibility("The minimum age is above the maximum age.")
        if self.women_only and self.genders - {Gender.FEMALE}:
            raise InvalidEligibility("A women-only service cannot accept other genders.")

    def accepts_minors(self) -> bool:
        """Whether a person under 18 may be referred here."""
        below_18 = self.minimum_age is None or self.minimum_age < 18
        return self.child_qualified and below_18


@dataclass(frozen=True)
class Location:
    """Where a service is delivered: the organisation's premises, never a person's address."""

    id: UUID
    name: str
    address: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class ServiceArea:
    """An area the service covers (e.g. a region, a municipality or a GeoJSON extent)."""

    id: UUID
    name: str
    extent: str = ""
    extent_type: str = ""


@dataclass(frozen=True)
class OpeningHours:
    """One weekly opening window."""

    id: UUID
    day: Weekday
    opens_at: time
    closes_at: time

    def __post_init__(self) -> None:
        if self.opens_at >= self.closes_at:
            raise DirectoryError("Opening hours must close after they open.")


@dataclass(frozen=True)
class Capacity:
    """How many units (beds, appointments) a service has free, as of `updated_at`."""

    id: UUID
    unit: str
    available: int
    updated_at: datetime
    maximum: int | None = None

    def __post_init__(self) -> None:
        if self.available < 0 or (self.maximum is not None and self.maximum < 0):
            raise InvalidCapacity("Capacity cannot be below zero.")
        if self.maximum is not None and self.available > self.maximum:
            raise InvalidCapacity("Available capacity cannot exceed the maximum.")


@dataclass
class Organisation:
    """An organisation offering services; `code` is its organisation claim in Keycloak."""

    id: UUID
    name: str
    description: str
    code: str = ""
    website: str = ""
    email: str = ""

    def change(self, *, name: str, description: str, code: str, website: str, email: str
               ) -> None:
        """Replace the organisation's details."""
        self.name, self.description, self.code = name, description, code
        self.website, self.email = website, email


@dataclass(frozen=True)
class ServiceDetails:
    """Everything about a service an administrator may set at once."""

    name: str
    kind: ServiceKind
    description: str = ""
    status: ServiceStatus = ServiceStatus.ACTIVE
    eligibility: Eligibility = field(default_factory=Eligibility)
    languages: tuple[str, ...] = ()
    locations: tuple[Location, ...] = ()
    areas: tuple[ServiceArea, ...] = ()
    opening_hours: tuple[OpeningHours, ...] = ()


# ---- domain events -----------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceUpserted:
    """A service was added or its details changed."""

    service: ProviderService


@dataclass(frozen=True)
class CapacityChanged:
    """A service's free capacity changed."""

    service: ProviderService
    previous_available: int | None


@dataclass(frozen=True)
class ServiceWithdrawnEvent:
    """A service left the directory; referral must stop offering it."""

    service: ProviderService
    reason: str


DirectoryEvent = ServiceUpserted | CapacityChanged | ServiceWithdrawnEvent


@dataclass(eq=False)
class ProviderService:
    """A service of an organisation, the unit referral routes survivors to (aggregate)."""

    id: UUID
    organisation: Organisation
    details: ServiceDetails
    changed_at: datetime
    capacity: Capacity | None = None
    version: int = 0
    events: list[DirectoryEvent] = field(default_factory=list)

    @classmethod
    def register(cls, id: UUID, organisation: Organisation, details: ServiceDetails,  # noqa: A002
                 at: datetime, capacity: Capacity | None = None) -> ProviderService:
        """A new service in the directory."""
        service = cls(id=id, organisation=organisation, details=details, changed_at=at,
                      capacity=capacity)
        service._bump(at)
        service.events.append(ServiceUpserted(service.snapshot()))
        return service

    @property
    def status(self) -> ServiceStatus:
        return self.details.status

    def revise(self, details: ServiceDetails, at: datetime,
               capacity: Capacity | None = None) -> None:
        """Replace the service's details (and capacity when given)."""
        self._refuse_if_withdrawn()
        if details.status is ServiceStatus.WITHDRAWN:
            raise DirectoryError("Withdraw a service through its own action, with a reason.")
        self.details = details
        if capacity is not None:
            # The same capacity record, updated (its id is what HSDS exports refer to).
            self.capacity = replace(capacity, id=self.capacity.id) if self.capacity else capacity
        self._bump(at)
        self.events.append(ServiceUpserted(self.snapshot()))

    def update_capacity(self, available: int, at: datetime, *, maximum: int | None = None,
                        unit: str | None = None, capacity_id: UUID | None = None) -> None:
        """Record how much capacity is free now (a shelter reporting its beds)."""
        self._refuse_if_withdrawn()
        current = self.capacity
        if current is None and capacity_id is None:
            raise DirectoryError("A first capacity needs an id.")
        previous = current.available if current else None
        self.capacity = Capacity(
            id=current.id if current else capacity_id,  # type: ignore[arg-type]
            unit=unit or (current.unit if current else "bed"),
            available=available,
            maximum=maximum if maximum is not None else (current.maximum if current else None),
            updated_at=at,
        )
        self._bump(at)
        self.events.append(CapacityChanged(self.snapshot(), previous))

    def withdraw(self, reason: str, at: datetime) -> None:
        """Take the service out of the directory; referral stops offering it."""
        self._refuse_if_withdrawn()
        self.details = replace(self.details, status=ServiceStatus.WITHDRAWN)
        self._bump(at)
        self.events.append(ServiceWithdrawnEvent(self.snapshot(), reason))

    def snapshot(self) -> ProviderService:
        """A copy without events, safe to carry inside an event."""
        return ProviderService(id=self.id, organisation=replace(self.organisation),
                               details=self.details, changed_at=self.changed_at,
                               capacity=self.capacity, version=self.version)

    def _bump(self, at: datetime) -> None:
        self.version += 1
        self.changed_at = at

    def _refuse_if_withdrawn(self) -> None:
        if self.details.status is ServiceStatus.WITHDRAWN:
            raise ServiceWithdrawn("The service was withdrawn from the directory.")
