"""The person index: intake's tracing records become match keys, matched as they arrive.

`PersonIndexer`'s methods are the inbox consumer's handlers for intake's events; each runs in
the consumer's unit of work (which commits, with the inbox entry). A record is stored with only
the fields matching needs, sealed at rest, under a pseudonymous reference; it enters the
in-memory `MatchIndex` when consent and sharing scope allow (`domain.person_index.may_match`),
and each new pair above the review threshold is proposed (`match.proposed`). Withdrawing tracing
consent takes the case's records out of the index and closes their open candidates; so does
intake's erasure of their subjects, which also destroys the registry's keys of them.

The in-memory index follows the database: a record is added to it in the transaction that
stores it; if that transaction rolls back, the index is rebuilt from the table before the next
event. `MatchIndex` cannot forget a record, so an amendment or a withdrawal rebuilds it too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Session

from haven_shared.crypto import SubjectErased, SubjectKeyring
from haven_shared.events.intake import (
    ConsentGiven,
    ConsentWithdrawn,
    DataSubjectErased,
    FoundPersonRecorded,
    MissingPersonRecorded,
    PersonRecordAmended,
    RemainsRecorded,
)
from haven_shared.events.model import Event
from haven_shared.inbox import Handler
from haven_shared.uow import UnitOfWork
from registry.adapters.intake_matching import MatchingOpener
from registry.adapters.match_repository import MatchCandidateRepository
from registry.adapters.person_repository import PersonIndexRepository
from registry.domain.person_index import (
    AMENDED_KIND,
    IntakeKind,
    PersonEntry,
    may_match,
    may_pair,
    record_ref,
)
from registry.matching import Candidate, MatchIndex
from registry.service_layer.match_review import propose_found

log = logging.getLogger(__name__)
TRACING = "tracing"


class PersonIndex:
    """The process's in-memory `MatchIndex`, kept in step with the committed entries."""

    def __init__(self, factory: Callable[[], MatchIndex] = MatchIndex) -> None:
        self._factory = factory
        self.index = factory()
        self._refs: set[str] = set()
        self._stale = False
        self.lock = threading.RLock()

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, ref: object) -> bool:
        return ref in self._refs

    def rebuild(self, entries: Iterable[PersonEntry]) -> None:
        """Replace the index by these entries (start-up, amendment, withdrawal, rollback)."""
        with self.lock:
            records = [e.as_person_record() for e in entries]
            index = self._factory()
            index.add_many(records)
            self.index, self._refs, self._stale = index, {r.record_id for r in records}, False

    def match(self, entry: PersonEntry, *, threshold: float, limit: int = 10
              ) -> list[Candidate]:
        """Candidates for the entry; it is added to the index unless already there."""
        record = entry.as_person_record()
        with self.lock:
            if entry.ref in self._refs:
                return self.index.query(record, limit=limit, min_probability=threshold)
            self._refs.add(entry.ref)
            return self.index.match_and_add(record, limit=limit, min_probability=threshold)

    def follow(self, session: Session) -> None:
        """Mark the index stale if `session`'s transaction rolls back after changing it."""
        if not session.info.get("person_index_followed"):
            session.info["person_index_followed"] = True
            sa.event.listen(session, "after_rollback", self._mark_stale)

    def refresh(self, repo: PersonIndexRepository) -> None:
        """Rebuild from the table when an earlier transaction's changes were rolled back."""
        if self._stale:
            self.rebuild(repo.indexed())

    def _mark_stale(self, _session: Session) -> None:
        self._stale = True


class PersonIndexer:
    """Handlers of intake's tracing and consent events for the person index."""

    def __init__(self, index: PersonIndex, keyring: SubjectKeyring, opener: MatchingOpener,
                 clock: Callable[[], datetime], *, threshold: float) -> None:
        self.index = index
        self.keyring = keyring
        self.opener = opener
        self.clock = clock
        self.threshold = threshold

    def handlers(self) -> dict[type[Event], Handler]:
        """The inbox consumer's handlers, by event model."""
        return {MissingPersonRecorded: self.on_recorded, FoundPersonRecorded: self.on_recorded,
                RemainsRecorded: self.on_recorded, PersonRecordAmended: self.on_recorded,
                ConsentGiven: self.on_consent_given,
                ConsentWithdrawn: self.on_consent_withdrawn,
                DataSubjectErased: self.on_subject_erased}

    def _repo(self, uow: UnitOfWork) -> PersonIndexRepository:
        repo = PersonIndexRepository(uow.session, self.keyring)
        self.index.follow(uow.session)
        self.index.refresh(repo)
        return repo

    # ---- records ---------------------------------------------------------------------------

    def on_recorded(self, event: Any, uow: UnitOfWork) -> None:
        """A record was filed or amended: store its match fields, (re)index it, propose."""
        kind, record_id, scope = _identity(event)
        if event.matching is None:
            # Producers without the matching secret: nothing to match on (no values logged).
            log.warning("person index: %s without a matching part skipped", event.event_type)
            return
        repo = self._repo(uow)
        if self.keyring.is_erased(uow.session, event.matching.key_id):
            return  # a late or replayed event of an erased subject: nothing may come back
        try:
            fields = self.opener.open(event.matching)
        except SubjectErased:
            # Erased at intake (or a record of another intake): nothing left to match on.
            log.info("person index: %s of an erased or unknown subject skipped",
                     event.event_type)
            return
        ref = record_ref(kind, record_id)
        entry = PersonEntry(
            ref=ref, case_id=event.case_id, organisation_id=event.organisation_id, kind=kind,
            key_id=event.matching.key_id, sharing_scope=tuple(scope), fields=fields,
            indexed=may_match(kind, scope, repo.has_tracing_consent(event.case_id)))
        before = repo.get(ref)
        if before is not None and (before.fields, before.sharing_scope, before.indexed) == (
                entry.fields, entry.sharing_scope, entry.indexed):
            return  # the same record again: already stored and indexed as it should be
        repo.save(entry)
        if before is not None and before.indexed:
            # The record changed: the index cannot replace it, so it is rebuilt.
            self.index.rebuild(repo.indexed())
            if not entry.indexed:
                self._close_candidates(repo, [ref])
        if entry.indexed:
            self._propose(uow, entry)

    def _propose(self, uow: UnitOfWork, entry: PersonEntry) -> None:
        found = self.index.match(entry, threshold=self.threshold)
        repo = PersonIndexRepository(uow.session, self.keyring)
        others = {c.record_id: repo.get(c.record_id) for c in found}
        allowed = [c for c in found
                   if (other := others[c.record_id]) is not None and may_pair(entry, other)]
        propose_found(uow, entry.as_person_record(), allowed, self.clock())

    # ---- consent ---------------------------------------------------------------------------

    def on_consent_given(self, event: Any, uow: UnitOfWork) -> None:
        """Tracing consent: the case's records that the sharing scope allows enter the index."""
        if event.purpose != TRACING:
            return
        repo = self._repo(uow)
        repo.set_consent(event.consent_id, event.case_id, active=True)
        for entry in repo.of_case(event.case_id):
            if not entry.indexed and may_match(entry.kind, entry.sharing_scope, True):
                entry.indexed = True
                repo.save(entry)
                self._propose(uow, entry)

    def on_consent_withdrawn(self, event: Any, uow: UnitOfWork) -> None:
        """Tracing consent withdrawn: unless another one stands, the case's records leave the
        index and their undecided candidates are closed."""
        if event.purpose != TRACING:
            return
        repo = self._repo(uow)
        repo.set_consent(event.consent_id, event.case_id, active=False)
        if repo.has_tracing_consent(event.case_id):
            return
        leaving = [e for e in repo.of_case(event.case_id)
                   if e.indexed and not may_match(e.kind, e.sharing_scope, False)]
        if not leaving:
            return
        for entry in leaving:
            entry.indexed = False
            repo.save(entry)
        self._close_candidates(repo, [e.ref for e in leaving])
        self.index.rebuild(repo.indexed())

    # ---- erasure ---------------------------------------------------------------------------

    def on_subject_erased(self, event: Any, uow: UnitOfWork) -> None:
        """Intake erased data subjects: the registry's keys of them are destroyed, their entries
        deleted, their undecided candidates closed, and the index rebuilt without them."""
        repo = self._repo(uow)
        removed = repo.remove_subjects(event.case_id, list(event.key_ids))
        if removed:
            self._close_candidates(repo, removed)
            self.index.rebuild(repo.indexed())

    def _close_candidates(self, repo: PersonIndexRepository, refs: list[str]) -> None:
        candidates = MatchCandidateRepository(repo.session)
        for candidate in repo.open_candidates_involving(refs):
            if candidate.withdraw():
                candidates.save(candidate)


def _identity(event: Any) -> tuple[IntakeKind, UUID, list[str]]:
    """Kind, intake record id and sharing scope of a tracing event."""
    if isinstance(event, MissingPersonRecorded):
        return IntakeKind.MISSING_PERSON, event.report_id, list(event.sharing_scope)
    if isinstance(event, FoundPersonRecorded):
        return IntakeKind.FOUND_PERSON, event.record_id, list(event.sharing_scope)
    if isinstance(event, RemainsRecorded):
        return IntakeKind.REMAINS, event.remains_id, []
    return AMENDED_KIND[event.record_kind], event.record_id, list(event.sharing_scope)
