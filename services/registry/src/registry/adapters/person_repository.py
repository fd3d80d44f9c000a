"""Repository of the person index: entries (sealed at rest) and tracing consents; never commits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import UUID

from sqlmodel import Session, col, select

from haven_shared.crypto import SubjectErased, SubjectKeyring
from haven_shared.events.model import SealedPersonalData
from registry.adapters.match_repository import candidate_from_row
from registry.adapters.person_tables import PersonEntryRow, TracingConsentRow
from registry.adapters.tables import MatchCandidateRow
from registry.domain.match_review import MatchCandidate, MatchStatus
from registry.domain.person_index import IntakeKind, PersonEntry


class PersonIndexRepository:
    """Entries of the person index and the tracing consents of cases."""

    def __init__(self, session: Session, keyring: SubjectKeyring) -> None:
        self.session = session
        self.keyring = keyring

    # ---- entries ---------------------------------------------------------------------------

    def get(self, ref: str) -> PersonEntry | None:
        """The entry, opened; None when unknown or its subject's key was erased."""
        row = self.session.get(PersonEntryRow, ref)
        return self._entry(row) if row else None

    def of_case(self, case_id: UUID) -> list[PersonEntry]:
        """The case's entries that can still be opened."""
        rows = self.session.exec(select(PersonEntryRow).where(PersonEntryRow.case_id == case_id))
        return [e for e in map(self._entry, rows) if e is not None]

    def indexed(self) -> Iterator[PersonEntry]:
        """Every entry that belongs in the index (and can still be opened)."""
        rows = self.session.exec(select(PersonEntryRow).where(col(PersonEntryRow.indexed))
                                 .order_by(col(PersonEntryRow.updated_at), col(PersonEntryRow.ref)))
        for row in rows:
            entry = self._entry(row)
            if entry is not None:
                yield entry

    def save(self, entry: PersonEntry) -> None:
        """Insert or update the entry, sealing its fields with the subject's key."""
        sealed = self.keyring.seal(self.session, entry.key_id, entry.fields)
        row = self.session.get(PersonEntryRow, entry.ref) or PersonEntryRow(
            ref=entry.ref, case_id=entry.case_id, organisation_id=entry.organisation_id,
            kind=entry.kind.value, key_id=entry.key_id, sharing_scope=[], fields_sealed={})
        row.organisation_id = entry.organisation_id
        row.key_id = entry.key_id
        row.sharing_scope = list(entry.sharing_scope)
        row.fields_sealed = sealed.model_dump()
        row.indexed = entry.indexed
        row.is_minor = entry.is_minor
        row.updated_at = datetime.now(UTC)
        self.session.add(row)
        self.session.flush()

    def remove_subjects(self, case_id: UUID, key_ids: list[str]) -> list[str]:
        """Delete the case's entries sealed under `key_ids` and destroy those keys here
        (erasure); returns the removed entries' refs."""
        rows = list(self.session.exec(select(PersonEntryRow).where(
            PersonEntryRow.case_id == case_id, col(PersonEntryRow.key_id).in_(key_ids))))
        for row in rows:
            self.session.delete(row)
        for key_id in key_ids:
            self.keyring.erase_subject(self.session, key_id)
        self.session.flush()
        return [row.ref for row in rows]

    def _entry(self, row: PersonEntryRow) -> PersonEntry | None:
        try:
            fields = self.keyring.open(self.session,
                                       SealedPersonalData.model_validate(row.fields_sealed))
        except SubjectErased:
            return None
        return PersonEntry(ref=row.ref, case_id=row.case_id,
                           organisation_id=row.organisation_id, kind=IntakeKind(row.kind),
                           key_id=row.key_id, sharing_scope=tuple(row.sharing_scope),
                           fields=fields, indexed=row.indexed, is_minor=row.is_minor)

    # ---- consents --------------------------------------------------------------------------

    def set_consent(self, consent_id: UUID, case_id: UUID, *, active: bool) -> None:
        """Record a tracing consent as given (active) or withdrawn."""
        row = self.session.get(TracingConsentRow, consent_id) or TracingConsentRow(
            consent_id=consent_id, case_id=case_id)
        row.active = active
        row.changed_at = datetime.now(UTC)
        self.session.add(row)
        self.session.flush()

    def has_tracing_consent(self, case_id: UUID) -> bool:
        """Whether any tracing consent of the case is active."""
        stmt = select(TracingConsentRow.consent_id).where(
            TracingConsentRow.case_id == case_id, col(TracingConsentRow.active))
        return self.session.exec(stmt).first() is not None

    # ---- candidates ------------------------------------------------------------------------

    def open_candidates_involving(self, refs: list[str]) -> list[MatchCandidate]:
        """Undecided match candidates that involve any of `refs` (locked for update)."""
        if not refs:
            return []
        open_ = [MatchStatus.PROPOSED.value, MatchStatus.AWAITING_SECOND_REVIEW.value]
        stmt = select(MatchCandidateRow).where(
            col(MatchCandidateRow.status).in_(open_),
            col(MatchCandidateRow.record_ref).in_(refs)
            | col(MatchCandidateRow.candidate_ref).in_(refs)).with_for_update()
        return [candidate_from_row(r) for r in self.session.exec(stmt)]
