"""Use cases of the service directory. Each runs in the unit of work it is given and commits it.

Writes lock the service's row (`for_update`), so the events of one service enter the outbox in
the order of their changes and the relay publishes them in that order.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from haven_shared.uow import UnitOfWork
from registry.adapters import hsds_export
from registry.adapters.hsds_import import (
    HsdsImportError,
    ImportedService,
    ImportProblem,
    import_services,
)
from registry.adapters.repository import OrganisationRepository, ServiceRepository
from registry.domain.directory import (
    Capacity,
    DirectoryError,
    Organisation,
    ProviderService,
    ServiceDetails,
    ServiceStatus,
)
from registry.service_layer import audit
from registry.service_layer.audit import Who, audited
from registry.service_layer.errors import (
    AlreadyExists,
    NotFoundError,
    NotYourService,
    OrganisationMismatch,
)

WITHDRAWN_BY_IMPORT = "Marked inactive in an HSDS import."
#: SQLSTATE of a unique violation (PostgreSQL); SQLite says so in its message.
UNIQUE_VIOLATION = "23505"


def is_unique_violation(exc: sa.exc.IntegrityError) -> bool:
    """Whether the database refused a row because its key exists already."""
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code == UNIQUE_VIOLATION or "UNIQUE constraint failed" in str(orig)


@contextmanager
def created_once(what: str) -> Iterator[None]:
    """Turn a lost creation race into `AlreadyExists` (409).

    Two requests creating the same id both find nothing, both insert; the database lets the
    first commit and refuses the second's row. That request changed nothing, so it says so.
    """
    try:
        yield
    except sa.exc.IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        raise AlreadyExists(f"{what} was created by another request at the same time; "
                            "nothing was changed. Read it and try again.") from None


def save_organisation(uow: UnitOfWork, org: Organisation, now: datetime, *,
                      by: Who | None = None) -> bool:
    """Add or change an organisation; True when it is new.

    The organisation's name and code travel in every provider event, so changing them
    re-announces each of its services that is still in the directory.
    """
    with (audited(uow, by, "organisation.save", audit.ORGANISATION, org.id),
          created_once("The organisation")):
        created = _save_organisation(uow, org, now)
        uow.commit()
    return created


def _save_organisation(uow: UnitOfWork, org: Organisation, now: datetime) -> bool:
    orgs, services = OrganisationRepository(uow.session), ServiceRepository(uow.session)
    existing = orgs.get(org.id, for_update=True)
    orgs.save(org, new=existing is None)
    if existing is None:
        return True
    if (existing.name, existing.code) != (org.name, org.code):
        for service in services.list(organisation_id=org.id):
            if service.status is not ServiceStatus.WITHDRAWN:
                locked = _load(services, service.id)
                locked.organisation = org
                locked.revise(locked.details, now)
                _store(uow, services, locked)
    return False


def register_service(uow: UnitOfWork, service_id: UUID, organisation_id: UUID,
                     details: ServiceDetails, capacity: Capacity | None, now: datetime, *,
                     by: Who | None = None) -> ProviderService:
    """Add a service of an existing organisation to the directory."""
    with (audited(uow, by, "service.create", audit.SERVICE, service_id),
          created_once("A service with this id")):
        org = OrganisationRepository(uow.session).get(organisation_id)
        if org is None:
            raise NotFoundError("The organisation does not exist.")
        services = ServiceRepository(uow.session)
        if services.get(service_id) is not None:
            raise AlreadyExists("A service with this id exists already.")
        service = ProviderService.register(service_id, org, details, now, capacity)
        _store(uow, services, service, new=True)
        uow.commit()
    return service


def revise_service(uow: UnitOfWork, service_id: UUID, organisation_id: UUID,
                   details: ServiceDetails, capacity: Capacity | None, now: datetime, *,
                   by: Who | None = None) -> ProviderService:
    """Replace a service's details (and its capacity when given)."""
    with audited(uow, by, "service.update", audit.SERVICE, service_id):
        services = ServiceRepository(uow.session)
        service = _load(services, service_id)
        if service.organisation.id != organisation_id:
            raise OrganisationMismatch("A service stays with its organisation; withdraw it "
                                       "and add it to the other organisation instead.")
        service.revise(details, now, capacity)
        _store(uow, services, service)
        uow.commit()
    return service


def change_capacity(uow: UnitOfWork, service_id: UUID, available: int, now: datetime, *,
                    maximum: int | None = None, unit: str | None = None,
                    new_capacity_id: UUID, acting_org: str | None = None,
                    by: Who | None = None) -> ProviderService:
    """Record a service's free capacity.

    `acting_org` is the organisation of provider staff reporting their own capacity; None means
    a directory administrator, who may change any service.
    """
    with audited(uow, by, "service.capacity", audit.SERVICE, service_id):
        services = ServiceRepository(uow.session)
        service = _load(services, service_id)
        if acting_org is not None and service.organisation.code != acting_org:
            raise NotYourService("Only the organisation running this service may report its "
                                 "capacity.")
        service.update_capacity(available, now, maximum=maximum, unit=unit,
                                capacity_id=new_capacity_id)
        _store(uow, services, service)
        uow.commit()
    return service


def withdraw_service(uow: UnitOfWork, service_id: UUID, reason: str, now: datetime, *,
                     by: Who | None = None) -> ProviderService:
    """Take a service out of the directory, with the reason referral will see."""
    with audited(uow, by, "service.withdraw", audit.SERVICE, service_id):
        services = ServiceRepository(uow.session)
        service = _load(services, service_id)
        service.withdraw(reason, now)
        _store(uow, services, service)
        uow.commit()
    return service


def get_service(uow: UnitOfWork, service_id: UUID) -> ProviderService:
    """One service of the directory."""
    with uow:
        return _load(ServiceRepository(uow.session), service_id, lock=False)


def list_services(uow: UnitOfWork, *, kind: str | None = None, status: str | None = None,
                  organisation_id: UUID | None = None) -> list[ProviderService]:
    """Services matching the filters."""
    with uow:
        return ServiceRepository(uow.session).list(kind=kind, status=status,
                                                   organisation_id=organisation_id)


def list_organisations(uow: UnitOfWork) -> list[Organisation]:
    """Every organisation of the directory."""
    with uow:
        return OrganisationRepository(uow.session).list()


def get_organisation(uow: UnitOfWork, organisation_id: UUID) -> Organisation:
    """One organisation."""
    with uow:
        org = OrganisationRepository(uow.session).get(organisation_id)
    if org is None:
        raise NotFoundError("The organisation does not exist.")
    return org


def export_hsds(uow: UnitOfWork, organisation_id: UUID | None = None, *,
                page_number: int = 1, per_page: int = 500) -> dict[str, Any]:
    """One HSDS 3.0 page of the directory (or of one organisation's services)."""
    with uow:
        services = ServiceRepository(uow.session)
        total = services.count(organisation_id=organisation_id)
        found = services.list(organisation_id=organisation_id,
                              offset=(page_number - 1) * per_page, limit=per_page)
    return hsds_export.page(found, total_items=total, page_number=page_number,
                            per_page=per_page)


@dataclass(frozen=True)
class ImportSummary:
    """What an HSDS import did."""

    created: int = 0
    updated: int = 0
    withdrawn: int = 0
    unchanged: int = 0


def import_hsds(uow: UnitOfWork, raw: bytes, now: datetime, *, by: Who | None = None
                ) -> ImportSummary:
    """Import an HSDS 3.0 JSON file in one transaction: every record, or none. Each
    organisation and each created, updated or withdrawn service is audited (`*.import`)."""
    records = import_services(raw)  # raises before anything is written
    counts = {"created": 0, "updated": 0, "withdrawn": 0, "unchanged": 0}
    with (audited(uow, by, "directory.import", audit.SERVICE, None),
          created_once("An organisation or service of this file")):
        services = ServiceRepository(uow.session)
        saved_orgs: set[UUID] = set()
        for index, record in enumerate(records):
            if record.organisation.id not in saved_orgs:
                _save_organisation(uow, record.organisation, now)
                saved_orgs.add(record.organisation.id)
                if by is not None:
                    audit.queue(uow, audit.record(by, "organisation.import", audit.ORGANISATION,
                                                  record.organisation.id))
            try:
                outcome = _import_one(uow, services, record, now)
            except DirectoryError as e:
                raise HsdsImportError([ImportProblem(index, "status", str(e))]) from None
            counts[outcome] += 1
            if by is not None and outcome != "unchanged":
                audit.queue(uow, audit.record(by, "service.import", audit.SERVICE,
                                              record.service_id))
        uow.commit()
    return ImportSummary(**counts)


def _import_one(uow: UnitOfWork, services: ServiceRepository, record: ImportedService,
                now: datetime) -> str:
    existing = services.get(record.service_id, for_update=True)
    if existing is None:
        service = ProviderService.register(record.service_id, record.organisation,
                                           record.details, now, record.capacity)
        _store(uow, services, service, new=True)
        return "created"
    existing.organisation = record.organisation
    wanted = record.details
    if wanted.status is ServiceStatus.WITHDRAWN:
        if existing.status is ServiceStatus.WITHDRAWN:
            return "unchanged"
        existing.revise(replace(wanted, status=existing.status), now, record.capacity)
        existing.withdraw(WITHDRAWN_BY_IMPORT, now)
        _store(uow, services, existing)
        return "withdrawn"
    if existing.details == wanted and _same_capacity(existing.capacity, record.capacity):
        services.save(existing)  # the organisation may have changed
        return "unchanged"
    existing.revise(wanted, now, record.capacity)
    _store(uow, services, existing)
    return "updated"


def _same_capacity(a: Capacity | None, b: Capacity | None) -> bool:
    if a is None or b is None:
        return b is None
    return (a.unit, a.available, a.maximum) == (b.unit, b.available, b.maximum)


def _load(services: ServiceRepository, service_id: UUID, *, lock: bool = True
          ) -> ProviderService:
    service = services.get(service_id, for_update=lock)
    if service is None:
        raise NotFoundError("The service does not exist.")
    return service


def _store(uow: UnitOfWork, services: ServiceRepository, service: ProviderService, *,
           new: bool = False) -> None:
    services.save(service, new=new)
    uow.track(service)
