"""Request and response bodies of the directory API, and their mapping to domain objects."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Literal
from uuid import UUID, uuid4

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from registry.domain.directory import (
    Capacity,
    Eligibility,
    Gender,
    Location,
    OpeningHours,
    Organisation,
    ProviderService,
    ServiceArea,
    ServiceDetails,
    ServiceKind,
    ServiceStatus,
    Weekday,
)
from registry.domain.text import clean_line, clean_text

Text = Annotated[str, Field(max_length=300), AfterValidator(clean_line)]
LongText = Annotated[str, Field(max_length=5000), AfterValidator(clean_text)]
LanguageTag = Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
                                   description="BCP 47 language tag, e.g. 'ar' or 'ti-ER'")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrganisationIn(_In):
    """An organisation as an administrator writes it."""

    name: Text = Field(min_length=1)
    description: LongText = ""
    code: str = Field(default="", max_length=100, pattern=r"^[a-z0-9][a-z0-9._-]*$|^$",
                      description="The organisation's claim in Keycloak, if it has users.")
    website: str = Field(default="", max_length=500)
    email: str = Field(default="", max_length=300, description="A shared, not personal, inbox.")

    def to_domain(self, organisation_id: UUID) -> Organisation:
        return Organisation(id=organisation_id, name=self.name, description=self.description,
                            code=self.code, website=self.website, email=self.email)


class OrganisationOut(BaseModel):
    """An organisation of the directory."""

    id: UUID
    name: str
    description: str
    code: str
    website: str
    email: str

    @classmethod
    def of(cls, org: Organisation) -> OrganisationOut:
        return cls(id=org.id, name=org.name, description=org.description, code=org.code,
                   website=org.website, email=org.email)


class EligibilityBody(_In):
    """Who the service accepts; no genders listed means every gender."""

    genders: list[Gender] = Field(default_factory=list, max_length=3)
    minimum_age: int | None = Field(default=None, ge=0, le=130)
    maximum_age: int | None = Field(default=None, ge=0, le=130)
    women_only: bool = False
    child_qualified: bool = False


class LocationBody(_In):
    """A premises of the organisation (not a person's address)."""

    id: UUID | None = None
    name: Text = Field(min_length=1)
    address: Text = ""
    city: Text = ""
    region: Text = ""
    postal_code: str = Field(default="", max_length=20)
    country: str = Field(default="", max_length=100)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class AreaBody(_In):
    """An area the service covers."""

    id: UUID | None = None
    name: Text = Field(min_length=1)
    extent: str = Field(default="", max_length=100_000)
    extent_type: str = Field(default="", max_length=50)


class OpeningHoursBody(_In):
    """A weekly opening window."""

    id: UUID | None = None
    day: Weekday
    opens_at: time
    closes_at: time


class CapacityIn(_In):
    """Free capacity of a service now (e.g. beds)."""

    unit: str = Field(default="bed", min_length=1, max_length=100)
    available: int = Field(ge=0, le=1_000_000)
    maximum: int | None = Field(default=None, ge=0, le=1_000_000)


class CapacityOut(BaseModel):
    """Free capacity as of `updated_at`."""

    unit: str
    available: int
    maximum: int | None
    updated_at: datetime


class ServiceIn(_In):
    """A service as an administrator writes it (the whole of it)."""

    organisation_id: UUID
    name: Text = Field(min_length=1)
    kind: ServiceKind
    description: LongText = ""
    status: Literal["active", "temporarily_closed"] = "active"
    eligibility: EligibilityBody = Field(default_factory=EligibilityBody)
    languages: list[LanguageTag] = Field(default_factory=list, max_length=50)
    locations: list[LocationBody] = Field(default_factory=list, max_length=50)
    areas: list[AreaBody] = Field(default_factory=list, max_length=50)
    opening_hours: list[OpeningHoursBody] = Field(default_factory=list, max_length=50)
    capacity: CapacityIn | None = Field(
        default=None, description="Free capacity now; when omitted, the current one stays.")

    def details(self) -> ServiceDetails:
        """The domain's view of the submitted details (new ids for new parts)."""
        e = self.eligibility
        return ServiceDetails(
            name=self.name, kind=self.kind, description=self.description,
            status=ServiceStatus(self.status),
            eligibility=Eligibility(genders=frozenset(e.genders), minimum_age=e.minimum_age,
                                    maximum_age=e.maximum_age, women_only=e.women_only,
                                    child_qualified=e.child_qualified),
            languages=tuple(self.languages),
            locations=tuple(Location(**{**loc.model_dump(), "id": loc.id or uuid4()})
                            for loc in self.locations),
            areas=tuple(ServiceArea(**{**a.model_dump(), "id": a.id or uuid4()})
                        for a in self.areas),
            opening_hours=tuple(OpeningHours(id=h.id or uuid4(), day=h.day,
                                             opens_at=h.opens_at, closes_at=h.closes_at)
                                for h in self.opening_hours),
        )

    def new_capacity(self, now: datetime, current: UUID | None = None) -> Capacity | None:
        """The submitted capacity, if any, as of `now`."""
        c = self.capacity
        if c is None:
            return None
        return Capacity(id=current or uuid4(), unit=c.unit, available=c.available,
                        maximum=c.maximum, updated_at=now)


class ServiceOut(BaseModel):
    """A service of the directory with its organisation."""

    id: UUID
    organisation: OrganisationOut
    name: str
    kind: ServiceKind
    description: str
    status: ServiceStatus
    eligibility: EligibilityBody
    languages: list[str]
    locations: list[LocationBody]
    areas: list[AreaBody]
    opening_hours: list[OpeningHoursBody]
    capacity: CapacityOut | None
    version: int
    changed_at: datetime

    @classmethod
    def of(cls, s: ProviderService) -> ServiceOut:
        d, e, cap = s.details, s.details.eligibility, s.capacity
        return cls(
            id=s.id, organisation=OrganisationOut.of(s.organisation), name=d.name,
            kind=d.kind, description=d.description, status=d.status,
            eligibility=EligibilityBody(genders=sorted(e.genders), minimum_age=e.minimum_age,
                                        maximum_age=e.maximum_age, women_only=e.women_only,
                                        child_qualified=e.child_qualified),
            languages=list(d.languages),
            locations=[LocationBody(**vars(loc)) for loc in d.locations],
            areas=[AreaBody(**vars(a)) for a in d.areas],
            opening_hours=[OpeningHoursBody(**vars(h)) for h in d.opening_hours],
            capacity=CapacityOut(unit=cap.unit, available=cap.available, maximum=cap.maximum,
                                 updated_at=cap.updated_at) if cap else None,
            version=s.version, changed_at=s.changed_at,
        )


class WithdrawalIn(_In):
    """Why a service leaves the directory (shown to referral; no personal data)."""

    reason: str = Field(min_length=1, max_length=500)


class ImportSummaryOut(BaseModel):
    """What an HSDS import did."""

    created: int
    updated: int
    withdrawn: int
    unchanged: int
