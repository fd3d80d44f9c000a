"""REST routes of the service directory: written by directory admins, read by referrers.

Routes only translate between HTTP and the use cases; rules live in the domain, errors are
mapped in `registry.api.errors`. The router is mounted authenticated (`build_service_app`).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from haven_shared.auth import Principal, require_roles
from registry.api.dependencies import Now, Uow, caller
from registry.api.schemas import (
    CapacityIn,
    ImportSummaryOut,
    OrganisationIn,
    OrganisationOut,
    ServiceIn,
    ServiceOut,
    WithdrawalIn,
)
from registry.domain.directory import ServiceKind, ServiceStatus
from registry.service_layer import directory as uc

router = APIRouter(prefix="/directory", tags=["directory"])

Reader = Annotated[Principal, Depends(require_roles(
    "caseworker", "supervisor", "provider_staff", "directory_admin"))]
Admin = Annotated[Principal, Depends(require_roles("directory_admin"))]
CapacityReporter = Annotated[Principal, Depends(require_roles(
    "directory_admin", "provider_staff"))]




# ---- organisations ------------------------------------------------------------------------

@router.get("/organisations", summary="Organisations of the directory")
def list_organisations(_: Reader, uow: Uow) -> list[OrganisationOut]:
    return [OrganisationOut.of(o) for o in uc.list_organisations(uow)]


@router.post("/organisations", status_code=status.HTTP_201_CREATED,
             summary="Add an organisation")
def create_organisation(body: OrganisationIn, admin: Admin, uow: Uow, now: Now
                        ) -> OrganisationOut:
    org = body.to_domain(uuid4())
    uc.save_organisation(uow, org, now, by=caller(admin))
    return OrganisationOut.of(org)


@router.get("/organisations/{organisation_id}", summary="One organisation")
def get_organisation(organisation_id: UUID, _: Reader, uow: Uow) -> OrganisationOut:
    return OrganisationOut.of(uc.get_organisation(uow, organisation_id))


@router.put("/organisations/{organisation_id}",
            summary="Add or replace an organisation (re-announces its services when renamed)",
            responses={201: {"model": OrganisationOut,
                             "description": "Added: no organisation had this id"}})
def put_organisation(organisation_id: UUID, body: OrganisationIn, admin: Admin, uow: Uow,
                     now: Now, response: Response) -> OrganisationOut:
    org = body.to_domain(organisation_id)
    if uc.save_organisation(uow, org, now, by=caller(admin)):
        response.status_code = status.HTTP_201_CREATED
    return OrganisationOut.of(org)


# ---- services -----------------------------------------------------------------------------

@router.get("/services", summary="Services of the directory, filtered")
def list_services(
    _: Reader, uow: Uow,
    kind: Annotated[ServiceKind | None, Query()] = None,
    service_status: Annotated[ServiceStatus | None, Query(alias="status")] = None,
    organisation_id: Annotated[UUID | None, Query()] = None,
) -> list[ServiceOut]:
    found = uc.list_services(uow, kind=kind.value if kind else None,
                             status=service_status.value if service_status else None,
                             organisation_id=organisation_id)
    return [ServiceOut.of(s) for s in found]


@router.post("/services", status_code=status.HTTP_201_CREATED,
             summary="Add a service (emits haven.registry.provider.upserted.v1)")
def create_service(body: ServiceIn, admin: Admin, uow: Uow, now: Now) -> ServiceOut:
    service = uc.register_service(uow, uuid4(), body.organisation_id, body.details(),
                                  body.new_capacity(now), now, by=caller(admin))
    return ServiceOut.of(service)


@router.get("/services/{service_id}", summary="One service")
def get_service(service_id: UUID, _: Reader, uow: Uow) -> ServiceOut:
    return ServiceOut.of(uc.get_service(uow, service_id))


@router.put("/services/{service_id}",
            summary="Replace a service's details (emits haven.registry.provider.upserted.v1)")
def put_service(service_id: UUID, body: ServiceIn, admin: Admin, uow: Uow, now: Now
                ) -> ServiceOut:
    service = uc.revise_service(uow, service_id, body.organisation_id, body.details(),
                                body.new_capacity(now), now, by=caller(admin))
    return ServiceOut.of(service)


@router.put("/services/{service_id}/capacity",
            summary="Report free capacity (emits haven.registry.provider.capacity.changed.v1)",
            description="Directory admins may report for any service; provider staff only "
                        "for the services of their own organisation.")
def put_capacity(service_id: UUID, body: CapacityIn, principal: CapacityReporter, uow: Uow,
                 now: Now) -> ServiceOut:
    acting_org = None if "directory_admin" in principal.roles else principal.org
    service = uc.change_capacity(uow, service_id, body.available, now, maximum=body.maximum,
                                 unit=body.unit, new_capacity_id=uuid4(),
                                 acting_org=acting_org, by=caller(principal))
    return ServiceOut.of(service)


@router.post("/services/{service_id}/withdrawal",
             summary="Withdraw a service (emits haven.registry.provider.withdrawn.v1)")
def withdraw_service(service_id: UUID, body: WithdrawalIn, admin: Admin, uow: Uow, now: Now
                     ) -> ServiceOut:
    return ServiceOut.of(uc.withdraw_service(uow, service_id, body.reason, now,
                                             by=caller(admin)))


# ---- Open Referral HSDS -------------------------------------------------------------------

@router.get("/hsds/services",
            summary="Export as an Open Referral HSDS 3.0 page (capacity as in HSDS 3.1 draft)")
def export_hsds(_: Reader, uow: Uow,
                organisation_id: Annotated[UUID | None, Query()] = None,
                page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                per_page: Annotated[int, Query(ge=1, le=1000)] = 500) -> dict[str, Any]:
    return uc.export_hsds(uow, organisation_id, page_number=page, per_page=per_page)


@router.post(
    "/hsds/import",
    summary="Import an Open Referral HSDS 3.0 JSON file: every record or none",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": {
            "description": "An HSDS 3.0 page of services, or a list of HSDS services",
            "anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]}}}}},
)
async def import_hsds(request: Request, admin: Admin, uow: Uow, now: Now) -> ImportSummaryOut:
    raw = await request.body()
    summary = await run_in_threadpool(uc.import_hsds, uow, raw, now, by=caller(admin))
    return ImportSummaryOut(**vars(summary))
