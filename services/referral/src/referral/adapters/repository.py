"""Repositories over referral's tables; they never commit (the unit of work does)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from haven_shared.events.registry import ProviderServiceState
from referral.adapters.mapping import (
    provider_from_row,
    provider_values,
    referral_from_row,
    referral_values,
)
from referral.adapters.orm import IdempotencyRow, ProviderRow, ReferralRow
from referral.domain.lifecycle import OPEN
from referral.domain.offers import Referral
from referral.domain.request import ReferralContext
from referral.domain.routing import Provider, ServiceKind

PROVIDERS: sa.Table = ProviderRow.__table__  # type: ignore[attr-defined]
REFERRALS: sa.Table = ReferralRow.__table__  # type: ignore[attr-defined]


class ConcurrentUpdate(Exception):
    """Another transaction changed the referral since it was loaded (the API answers 409)."""


class ProviderRepository:
    """The provider read model fed by registry's provider events."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_if_newer(self, state: ProviderServiceState) -> None:
        """Store `state` unless the stored version is the same or newer (so replays and
        out-of-order deliveries never roll the model back)."""
        values = provider_values(state)
        dialect = self.session.get_bind().dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(PROVIDERS)
        stmt = insert.values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[PROVIDERS.c.service_id],
            set_={k: stmt.excluded[k] for k in values if k != "service_id"},
            where=PROVIDERS.c.version < stmt.excluded.version,
        )
        self.session.execute(stmt)

    def of_kind(self, kind: ServiceKind) -> list[Provider]:
        """Every known service of `kind`, whatever its state (routing explains exclusions)."""
        rows = self.session.exec(select(ProviderRow).where(ProviderRow.kind == kind.value))
        return [provider_from_row(r) for r in rows]

    def get(self, service_id: uuid.UUID) -> ProviderRow | None:
        return self.session.get(ProviderRow, service_id)


class ReferralRepository:
    """Referrals: loaded with a row lock for changes, saved with a version check."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._versions: dict[str, int] = {}

    def add(self, referral: Referral, context: ReferralContext) -> None:
        self.session.execute(REFERRALS.insert().values(
            id=uuid.UUID(referral.referral_id), version=1, updated_at=datetime.now(UTC),
            **referral_values(referral, context)))
        self._versions[referral.referral_id] = 1

    def get(self, referral_id: uuid.UUID, *, for_update: bool = False
            ) -> tuple[Referral, ReferralContext] | None:
        """The referral, locking its row until commit when `for_update` (PostgreSQL)."""
        query = select(ReferralRow).where(ReferralRow.id == referral_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.exec(query).first()
        if row is None:
            return None
        self._versions[str(row.id)] = row.version
        return referral_from_row(row)

    def save(self, referral: Referral, context: ReferralContext) -> None:
        """Write back a referral loaded by `get`; ConcurrentUpdate if someone else did first."""
        loaded = self._versions[referral.referral_id]
        result = self.session.execute(
            REFERRALS.update()
            .where(REFERRALS.c.id == uuid.UUID(referral.referral_id),
                   REFERRALS.c.version == loaded)
            .values(version=loaded + 1, updated_at=datetime.now(UTC),
                    **referral_values(referral, context)))
        if result.rowcount != 1:
            raise ConcurrentUpdate(referral.referral_id)
        self._versions[referral.referral_id] = loaded + 1

    def of_case(self, case_id: uuid.UUID, organisation_id: str
                ) -> list[tuple[Referral, ReferralContext]]:
        """Every referral of a case by its organisation, oldest first."""
        rows = self.session.exec(select(ReferralRow).where(
            ReferralRow.case_id == case_id, ReferralRow.organisation_id == organisation_id
        ).order_by(ReferralRow.created_at))  # type: ignore[arg-type]
        return [referral_from_row(r) for r in rows]

    def open_of_case(self, case_id: uuid.UUID, organisation_id: str) -> list[uuid.UUID]:
        """Referrals of a case, by its organisation, not yet in a final state."""
        return list(self.session.exec(
            select(ReferralRow.id).where(
                ReferralRow.case_id == case_id,
                ReferralRow.organisation_id == organisation_id,
                ReferralRow.status.in_(sorted(s.value for s in OPEN)))))  # type: ignore[attr-defined]

    def open_ids(self) -> list[uuid.UUID]:
        """Referrals still waiting for an answer (for the escalation tick)."""
        return list(self.session.exec(
            select(ReferralRow.id).where(ReferralRow.status == "requested")))


class IdempotencyRepository:
    """Referrals already requested under an idempotency key."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, scope_key: str) -> IdempotencyRow | None:
        return self.session.get(IdempotencyRow, scope_key)

    def add(self, scope_key: str, fingerprint: str, referral_id: str) -> None:
        self.session.add(IdempotencyRow(scope_key=scope_key, fingerprint=fingerprint,
                                        referral_id=uuid.UUID(referral_id)))
