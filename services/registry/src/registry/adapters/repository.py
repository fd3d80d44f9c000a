"""Repositories of the directory: load and save aggregates through a session; never commit."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Session, select

from registry.adapters.tables import OrganisationRow, ServiceRow
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


def _aware(at: datetime) -> datetime:
    # SQLite returns naive datetimes; everything is stored in UTC.
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class OrganisationRepository:
    """Organisations of the directory."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, organisation_id: UUID, *, for_update: bool = False) -> Organisation | None:
        """The organisation, or None."""
        stmt = select(OrganisationRow).where(OrganisationRow.id == organisation_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self.session.exec(stmt).first()
        return organisation_from_row(row) if row else None

    def list(self) -> list[Organisation]:
        """Every organisation, by name."""
        rows = self.session.exec(select(OrganisationRow).order_by(OrganisationRow.name))
        return [organisation_from_row(r) for r in rows]

    def save(self, organisation: Organisation, *, new: bool = False) -> None:
        """Update the organisation's row, or insert it when missing; `new` always inserts, so a
        row another transaction committed meanwhile is a unique violation, not overwritten."""
        row = None if new else self.session.get(OrganisationRow, organisation.id)
        row = row or OrganisationRow(id=organisation.id, name="", description="")
        row.name, row.description = organisation.name, organisation.description
        row.code, row.website, row.email = (organisation.code, organisation.website,
                                            organisation.email)
        self.session.add(row)
        self.session.flush()


class ServiceRepository:
    """Provider services, each loaded with its organisation."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, service_id: UUID, *, for_update: bool = False) -> ProviderService | None:
        """The service, or None; `for_update` locks its row until the transaction ends."""
        stmt = select(ServiceRow).where(ServiceRow.id == service_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self.session.exec(stmt).first()
        if row is None:
            return None
        org = self.session.get(OrganisationRow, row.organisation_id)
        assert org is not None  # foreign key
        return service_from_rows(row, org)

    def list(self, *, kind: str | None = None, status: str | None = None,
             organisation_id: UUID | None = None, offset: int = 0, limit: int | None = None
             ) -> list[ProviderService]:
        """Services matching the filters, by organisation and name."""
        stmt = (select(ServiceRow, OrganisationRow)
                .join(OrganisationRow, OrganisationRow.id == ServiceRow.organisation_id)  # type: ignore[arg-type]
                .order_by(OrganisationRow.name, ServiceRow.name, ServiceRow.id))
        stmt = stmt.where(*_filters(kind, status, organisation_id)).offset(offset).limit(limit)
        return [service_from_rows(s, o) for s, o in self.session.exec(stmt)]

    def count(self, *, kind: str | None = None, status: str | None = None,
              organisation_id: UUID | None = None) -> int:
        """How many services match the filters."""
        stmt = select(sa.func.count()).select_from(ServiceRow).where(
            *_filters(kind, status, organisation_id))
        return int(self.session.exec(stmt).one())

    def save(self, service: ProviderService, *, new: bool = False) -> None:
        """Update the service's row from the aggregate, or insert it when missing; `new` always
        inserts (a row committed meanwhile by another transaction is a unique violation)."""
        row = None if new else self.session.get(ServiceRow, service.id)
        values = service_row_values(service)
        if row is None:
            row = ServiceRow(**values)
        else:
            for key, value in values.items():
                setattr(row, key, value)
        self.session.add(row)
        self.session.flush()


def _filters(kind: str | None, status: str | None, organisation_id: UUID | None
             ) -> list[Any]:
    out: list[Any] = []
    if kind:
        out.append(ServiceRow.kind == kind)
    if status:
        out.append(ServiceRow.status == status)
    if organisation_id:
        out.append(ServiceRow.organisation_id == organisation_id)
    return out


def organisation_from_row(row: OrganisationRow) -> Organisation:
    return Organisation(id=row.id, name=row.name, description=row.description, code=row.code,
                        website=row.website, email=row.email)


def service_row_values(service: ProviderService) -> dict[str, Any]:
    """The column values of a service's row."""
    d = service.details
    e = d.eligibility
    cap = service.capacity
    return {
        "id": service.id,
        "organisation_id": service.organisation.id,
        "name": d.name,
        "description": d.description,
        "kind": d.kind.value,
        "status": d.status.value,
        "eligibility": {"genders": sorted(g.value for g in e.genders),
                        "minimum_age": e.minimum_age, "maximum_age": e.maximum_age,
                        "women_only": e.women_only, "child_qualified": e.child_qualified},
        "languages": list(d.languages),
        "locations": [{**vars(loc), "id": str(loc.id)} for loc in d.locations],
        "areas": [{**vars(a), "id": str(a.id)} for a in d.areas],
        "opening_hours": [{"id": str(h.id), "day": h.day.value,
                           "opens_at": h.opens_at.isoformat("minutes"),
                           "closes_at": h.closes_at.isoformat("minutes")}
                          for h in d.opening_hours],
        "capacity_id": cap.id if cap else None,
        "capacity_unit": cap.unit if cap else None,
        "capacity_available": cap.available if cap else None,
        "capacity_maximum": cap.maximum if cap else None,
        "capacity_updated_at": cap.updated_at if cap else None,
        "version": service.version,
        "changed_at": service.changed_at,
    }


def service_from_rows(row: ServiceRow, org: OrganisationRow) -> ProviderService:
    """The aggregate stored in `row` (with its organisation)."""
    e = row.eligibility
    details = ServiceDetails(
        name=row.name,
        kind=ServiceKind(row.kind),
        description=row.description,
        status=ServiceStatus(row.status),
        eligibility=Eligibility(
            genders=frozenset(Gender(g) for g in e.get("genders", [])),
            minimum_age=e.get("minimum_age"), maximum_age=e.get("maximum_age"),
            women_only=bool(e.get("women_only")),
            child_qualified=bool(e.get("child_qualified"))),
        languages=tuple(row.languages),
        locations=tuple(Location(**{**loc, "id": UUID(loc["id"])}) for loc in row.locations),
        areas=tuple(ServiceArea(**{**a, "id": UUID(a["id"])}) for a in row.areas),
        opening_hours=tuple(
            OpeningHours(id=UUID(h["id"]), day=Weekday(h["day"]),
                         opens_at=time.fromisoformat(h["opens_at"]),
                         closes_at=time.fromisoformat(h["closes_at"]))
            for h in row.opening_hours),
    )
    capacity = None
    if row.capacity_id is not None and row.capacity_available is not None:
        capacity = Capacity(id=row.capacity_id, unit=row.capacity_unit or "bed",
                            available=row.capacity_available, maximum=row.capacity_maximum,
                            updated_at=_aware(row.capacity_updated_at or row.changed_at))
    return ProviderService(id=row.id, organisation=organisation_from_row(org), details=details,
                           changed_at=_aware(row.changed_at), capacity=capacity,
                           version=row.version)

