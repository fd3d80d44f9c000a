"""Directory use cases on SQLite: state and provider events commit together, or not at all."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa
from registry_samples import NOW, beds, organisation, shelter_details

from haven_shared.db import make_engine
from haven_shared.outbox import OutboxMessage
from haven_shared.uow import UnitOfWork
from registry.adapters.hsds_export import page
from registry.adapters.hsds_import import HsdsImportError
from registry.adapters.tables import create_directory_tables
from registry.bootstrap import unit_of_work_factory
from registry.service_layer import directory as uc
from registry.service_layer.errors import (
    AlreadyExists,
    NotFoundError,
    NotYourService,
    OrganisationMismatch,
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    create_directory_tables(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def uow(engine: sa.Engine) -> Callable[[], UnitOfWork]:
    return unit_of_work_factory(engine)


def outbox(engine: sa.Engine) -> list[tuple[str, str, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(OutboxMessage.__table__).order_by(sa.text("seq"))).all()
    return [(r.type, r.aggregateid, r.payload) for r in rows]


def test_registering_a_service_writes_it_and_its_upsert_event(engine, uow) -> None:
    org = organisation()
    uc.save_organisation(uow(), org, NOW)
    service = uc.register_service(uow(), uuid4(), org.id, shelter_details(), beds(), NOW)
    [(type_, key, body)] = outbox(engine)
    assert type_ == "haven.registry.provider.upserted.v1"
    assert key == str(service.id)
    state = body["provider"]
    assert state["kind"] == "shelter" and state["organisation_code"] == "shelter-a"
    assert state["eligibility"]["women_only"] is True
    assert state["capacity"]["available"] == 4 and state["languages"] == ["en", "ar", "ti"]
    assert uc.get_service(uow(), service.id).details == service.details


def test_a_service_of_an_unknown_organisation_is_refused_and_nothing_is_emitted(engine, uow
                                                                                ) -> None:
    with pytest.raises(NotFoundError):
        uc.register_service(uow(), uuid4(), uuid4(), shelter_details(), None, NOW)
    assert outbox(engine) == []


def test_the_same_service_id_twice_is_a_conflict(uow) -> None:
    org = organisation()
    uc.save_organisation(uow(), org, NOW)
    sid = uuid4()
    uc.register_service(uow(), sid, org.id, shelter_details(), None, NOW)
    with pytest.raises(AlreadyExists):
        uc.register_service(uow(), sid, org.id, shelter_details(), None, NOW)


def test_provider_staff_report_capacity_only_for_their_own_organisation(engine, uow) -> None:
    org = organisation(code="shelter-a")
    uc.save_organisation(uow(), org, NOW)
    service = uc.register_service(uow(), uuid4(), org.id, shelter_details(), beds(), NOW)
    with pytest.raises(NotYourService):
        uc.change_capacity(uow(), service.id, 1, NOW, new_capacity_id=uuid4(),
                           acting_org="clinic-b")
    changed = uc.change_capacity(uow(), service.id, 1, NOW, new_capacity_id=uuid4(),
                                 acting_org="shelter-a")
    assert changed.capacity is not None and changed.capacity.available == 1
    types = [t for t, _, _ in outbox(engine)]
    assert types == ["haven.registry.provider.upserted.v1",
                     "haven.registry.provider.capacity.changed.v1"]
    assert outbox(engine)[-1][2]["previous_available"] == 4


def test_renaming_an_organisation_re_announces_its_services(engine, uow) -> None:
    org = organisation()
    uc.save_organisation(uow(), org, NOW)
    service = uc.register_service(uow(), uuid4(), org.id, shelter_details(), None, NOW)
    org.change(name="Safe Harbour Catania", description=org.description, code=org.code,
               website=org.website, email=org.email)
    assert uc.save_organisation(uow(), org, NOW) is False
    last = outbox(engine)[-1]
    assert last[1] == str(service.id)
    assert last[2]["provider"]["organisation_name"] == "Safe Harbour Catania"
    assert last[2]["provider"]["version"] == 2


def test_an_import_with_one_bad_record_imports_nothing(engine, uow) -> None:
    org = organisation()
    uc.save_organisation(uow(), org, NOW)
    good = uc.register_service(uow(), uuid4(), org.id, shelter_details(), beds(), NOW)
    doc = page([good])
    doc["contents"].append(json.loads(json.dumps(doc["contents"][0])))
    doc["contents"][1]["id"] = str(uuid4())
    doc["contents"][1]["maximum_age"] = "old"
    doc["contents"][0]["name"] = "Renamed by the file"
    before = outbox(engine)
    with pytest.raises(HsdsImportError):
        uc.import_hsds(uow(), json.dumps(doc).encode(), NOW)
    assert uc.get_service(uow(), good.id).details.name == good.details.name
    assert outbox(engine) == before


def test_importing_a_withdrawn_active_service_again_is_refused_as_a_whole(engine, uow) -> None:
    org = organisation()
    uc.save_organisation(uow(), org, NOW)
    service = uc.register_service(uow(), uuid4(), org.id, shelter_details(), None, NOW)
    doc = page([service])
    other = uc.register_service(uow(), uuid4(), org.id, shelter_details(), None, NOW)
    doc["contents"].insert(0, page([other])["contents"][0])
    doc["contents"][0]["name"] = "Changed first"
    uc.withdraw_service(uow(), service.id, "Closed.", NOW)
    with pytest.raises(HsdsImportError) as info:
        uc.import_hsds(uow(), json.dumps(doc).encode(), NOW)
    assert info.value.problems[0].record == 1
    assert uc.get_service(uow(), other.id).details.name == other.details.name


def test_reimporting_an_export_changes_nothing(engine, uow) -> None:
    org = organisation()
    uc.save_organisation(uow(), org, NOW)
    uc.register_service(uow(), uuid4(), org.id, shelter_details(), beds(), NOW)
    events = len(outbox(engine))
    summary = uc.import_hsds(uow(), json.dumps(uc.export_hsds(uow())).encode(), NOW)
    assert summary == uc.ImportSummary(unchanged=1)
    assert len(outbox(engine)) == events


def test_a_service_does_not_move_to_another_organisation_by_revision(uow) -> None:
    org, other = organisation(), organisation(code="clinic-b")
    uc.save_organisation(uow(), org, NOW)
    uc.save_organisation(uow(), other, NOW)
    service = uc.register_service(uow(), uuid4(), org.id, shelter_details(), beds(), NOW)
    with pytest.raises(OrganisationMismatch):
        uc.revise_service(uow(), service.id, other.id, shelter_details(), None, NOW)
    revised = uc.revise_service(uow(), service.id, org.id, shelter_details(name="Renamed"),
                                beds(available=1), NOW)
    assert revised.capacity is not None and service.capacity is not None
    assert revised.capacity.id == service.capacity.id and revised.capacity.available == 1


def test_the_hsds_export_is_paged_like_the_hsds_api(uow) -> None:
    org = organisation()
    uc.save_organisation(uow(), org, NOW)
    ids = {uc.register_service(uow(), uuid4(), org.id, shelter_details(), None, NOW).id
           for _ in range(3)}
    first = uc.export_hsds(uow(), org.id, page_number=1, per_page=2)
    second = uc.export_hsds(uow(), org.id, page_number=2, per_page=2)
    assert (first["total_items"], first["total_pages"], first["size"]) == (3, 2, 2)
    assert first["first_page"] and not first["last_page"]
    assert second["last_page"] and second["size"] == 1
    assert {s["id"] for s in first["contents"] + second["contents"]} == {str(i) for i in ids}
