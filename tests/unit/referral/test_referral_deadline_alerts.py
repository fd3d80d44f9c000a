"""Legal clocks on SQLite: the reflection period from a presumed-victim decision, alerts at the
configured offsets, each once, with an injected clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from referral_builders import T0

from haven_shared.db import make_engine
from haven_shared.events.intake import VictimPresumed
from haven_shared.outbox import OutboxMessage
from referral.adapters.schema import create_schema
from referral.bootstrap import make_deps
from referral.config import Settings
from referral.domain.deadlines import DeadlineKind
from referral.service_layer import deadlines as uc
from referral.service_layer.referrals import Actor, Deps

OFFSETS = (timedelta(hours=168), timedelta(hours=24))
ANA = Actor("ana", "ngo-a")


@pytest.fixture
def deps(tmp_path: Path) -> Iterator[Deps]:
    engine = make_engine(f"sqlite:///{tmp_path / 'referral.db'}")
    create_schema(engine)
    yield make_deps(Settings(environment="test", database_url=str(engine.url)), engine)
    engine.dispose()


def presumed(case_id: uuid.UUID, org: str = "ngo-a") -> VictimPresumed:
    return VictimPresumed.example().model_copy(
        update={"case_id": case_id, "organisation_id": org, "decided_at": T0})


def alerts(deps: Deps) -> list[tuple[str, int | None]]:
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    with deps.uows() as uow:
        rows = uow.session.execute(sa.select(table).order_by(table.c.seq)).all()
    return [(r.type.split(".")[3], r.payload.get("offset_hours")) for r in rows]


def test_a_presumed_victim_gets_the_jurisdiction_s_reflection_period_once(deps: Deps) -> None:
    case_id = uuid.uuid4()
    handle = uc.reflection_handler(reflection_days=45)
    for _ in range(2):  # a replayed decision moves nothing
        with deps.uows() as uow:
            handle(presumed(case_id), uow)
            uow.commit()
    found = uc.upcoming(deps.uows, ANA, T0)
    assert [(d.case_id, d.kind, d.due) for d in found] == [
        (str(case_id), DeadlineKind.REFLECTION_PERIOD_END, T0 + timedelta(days=45))]
    assert uc.upcoming(deps.uows, Actor("carla", "ngo-b"), T0) == []
    with pytest.raises(ValueError):
        uc.reflection_handler(reflection_days=29)(presumed(case_id), None)  # type: ignore[arg-type]


def test_alerts_fire_at_each_configured_offset_and_when_breached_each_once(deps: Deps) -> None:
    due = T0 + timedelta(days=30)
    uc.record_deadline(deps.uows, ANA, uuid.uuid4(), DeadlineKind.RESIDENCE_PERMIT_EXPIRY, due)
    assert uc.alert_tick(deps.uows, due - timedelta(days=8), OFFSETS) == 0
    assert uc.alert_tick(deps.uows, due - timedelta(days=7), OFFSETS) == 1
    assert uc.alert_tick(deps.uows, due - timedelta(days=6), OFFSETS) == 0
    assert uc.alert_tick(deps.uows, due - timedelta(hours=24), OFFSETS) == 1
    assert uc.alert_tick(deps.uows, due, OFFSETS) == 1
    assert uc.alert_tick(deps.uows, due + timedelta(days=1), OFFSETS) == 0
    assert alerts(deps) == [("approaching", 168), ("approaching", 24), ("breached", None)]
