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
event. An amendment, withdrawal or erasure changes the index for that record only
(`PersonIndex.remove`); a rebuild happens only when retired versions pile up.

Every indexing, removal, proposal and closure is audited as the system actor
`registry-person-index` with purpose `tracing`, in the consumer's transaction.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Session

from haven_shared.audit import AuditLog, append_at_commit
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
from registry.matching import Candidate, MatchIndex, PersonRecord
from registry.service_layer import audit
from registry.service_layer.match_review import announce, propose_found

log = logging.getLogger(__name__)
TRACING = "tracing"


class PersonIndex:
    """The process's in-memory `MatchIndex`, kept in step with the committed entries.

    `MatchIndex` cannot forget a record, so an entry that changes or leaves the index is
    retired here instead: its indexed version is marked dead and left out of every answer, and
    a changed entry is added again under a fresh internal id. Only when dead versions make up
    more than `max_dead_share` of the index (and at least `min_dead` of them) is it rebuilt
    from the table, at the next event. A transaction that changed the index and then rolled
    back marks it stale: it is rebuilt before the next event.
    """

    def __init__(self, factory: Callable[[], MatchIndex] = MatchIndex, *,
                 max_dead_share: float = 0.1, min_dead: int = 256) -> None:
        self._factory = factory
        self.max_dead_share = max_dead_share
        self.min_dead = min_dead
        self.index = factory()
        self._live: dict[str, str] = {}  # entry ref -> id of its version in the MatchIndex
        self._ref_of: dict[str, str] = {}  # id in the MatchIndex -> entry ref
        self._dead: set[str] = set()
        self._versions = itertools.count(1)
        self._stale = False
        self.rebuilds = 0
        self.lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, ref: object) -> bool:
        return ref in self._live

    @property
    def dead(self) -> int:
        """Retired versions still held by the MatchIndex."""
        return len(self._dead)

    def rebuild(self, entries: Iterable[PersonEntry]) -> None:
        """Replace the index by these entries (start-up; rollback; too many retired)."""
        with self.lock:
            records = [e.as_person_record() for e in entries]
            index = self._factory()
            index.add_many(records)
            self.index, self._stale = index, False
            self._live = {r.record_id: r.record_id for r in records}
            self._ref_of = dict(self._live)
            self._dead = set()
            self.rebuilds += 1

    def match(self, entry: PersonEntry, *, threshold: float, limit: int = 10,
              session: Session | None = None) -> list[Candidate]:
        """Candidates for the entry; it is added to the index unless already there."""
        record = entry.as_person_record()
        with self.lock:
            live = self._live.get(entry.ref)
            if live is not None:
                return self._query(replace(record, record_id=live), limit, threshold)
            # The ref itself the first time; a fresh id if a retired version holds it.
            internal = entry.ref if entry.ref not in self._ref_of else (
                f"{entry.ref}#{next(self._versions)}")
            self._changed(session)
            found = self._query(replace(record, record_id=internal), limit, threshold)
            self.index.add(replace(record, record_id=internal))
            self._live[entry.ref] = internal
            self._ref_of[internal] = entry.ref
            return found

    def remove(self, ref: str, *, session: Session | None = None) -> bool:
        """Retire the entry's indexed version (changed or left the index); True if it was in."""
        with self.lock:
            internal = self._live.pop(ref, None)
            if internal is None:
                return False
            self._changed(session)
            self._dead.add(internal)
            return True

    def needs_compaction(self) -> bool:
        """Whether retired versions have become too many to keep skipping."""
        dead = len(self._dead)
        return dead >= self.min_dead and dead > self.max_dead_share * len(self.index)

    def _query(self, record: PersonRecord, limit: int, threshold: float) -> list[Candidate]:
        # Retired versions may take places among the best: ask for as many more as there are.
        extra = min(len(self._dead), 4 * limit)
        found = self.index.query(record, limit=limit + extra, min_probability=threshold)
        return [replace(c, record_id=self._ref_of[c.record_id]) for c in found
                if c.record_id not in self._dead][:limit]

    def follow(self, session: Session) -> None:
        """Mark the index stale if `session`'s transaction rolls back after changing it."""
        if not session.info.get("person_index_followed"):
            session.info["person_index_followed"] = True
            sa.event.listen(session, "after_rollback", self._rolled_back)

    def refresh(self, repo: PersonIndexRepository) -> None:
        """Rebuild from the table when an earlier transaction's changes were rolled back, or
        when retired versions have become too many."""
        if self._stale or self.needs_compaction():
            self.rebuild(repo.indexed())

    def _changed(self, session: Session | None) -> None:
        if session is not None:
            session.info["person_index_changed"] = True

    def _rolled_back(self, session: Session) -> None:
        if session.info.pop("person_index_changed", False):
            self._stale = True


class PersonIndexer:
    """Handlers of intake's tracing and consent events for the person index."""

    def __init__(self, index: PersonIndex, keyring: SubjectKeyring, opener: MatchingOpener,
                 clock: Callable[[], datetime], *, threshold: float,
                 audit_log: AuditLog | None = None) -> None:
        self.index = index
        self.keyring = keyring
        self.opener = opener
        self.clock = clock
        self.threshold = threshold
        self.audit_log = audit_log

    def _audit(self, uow: UnitOfWork, action: str, object_type: str, object_id: str) -> None:
        """Record what the person index did, as the system actor, for tracing; appended by
        the consumer's commit (`append_at_commit`)."""
        if self.audit_log is not None:
            append_at_commit(self.audit_log, uow.session, audit.record(
                audit.SYSTEM, action, object_type, object_id, purpose=audit.TRACING_PURPOSE))

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
            indexed=may_match(kind, scope, repo.has_tracing_consent(event.case_id)),
            is_minor=bool(event.is_minor))
        before = repo.get(ref)
        if before is not None and (before.fields, before.sharing_scope, before.indexed,
                                   before.is_minor) == (entry.fields, entry.sharing_scope,
                                                        entry.indexed, entry.is_minor):
            return  # the same record again: already stored and indexed as it should be
        repo.save(entry)
        was_indexed = before is not None and before.indexed
        if was_indexed:
            # The record changed: its indexed version is retired (this record only).
            self.index.remove(ref, session=uow.session)
            if not entry.indexed:
                self._close_candidates(uow, repo, [ref])
                self._audit(uow, "person-index.remove", audit.PERSON_RECORD,
                            audit.person_ref(ref))
        if entry.indexed:
            self._audit(uow, "person-index.update" if was_indexed else "person-index.index",
                        audit.PERSON_RECORD, audit.person_ref(ref))
            self._propose(uow, entry)
        elif not was_indexed:
            self._audit(uow, "person-index.store", audit.PERSON_RECORD, audit.person_ref(ref))

    def _propose(self, uow: UnitOfWork, entry: PersonEntry) -> None:
        found = self.index.match(entry, threshold=self.threshold, session=uow.session)
        repo = PersonIndexRepository(uow.session, self.keyring)
        others = {c.record_id: repo.get(c.record_id) for c in found}
        allowed = [c for c in found
                   if (other := others[c.record_id]) is not None and may_pair(entry, other)]
        minors = {ref for ref, other in others.items()
                  if other is not None and (other.is_minor or entry.is_minor)}
        for candidate in propose_found(uow, entry.as_person_record(), allowed, self.clock(),
                                       minors=minors):
            self._audit(uow, "match.propose", audit.CANDIDATE, str(candidate.id))

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
                self._audit(uow, "person-index.index", audit.PERSON_RECORD,
                            audit.person_ref(entry.ref))
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
            self.index.remove(entry.ref, session=uow.session)
            self._audit(uow, "person-index.remove", audit.PERSON_RECORD,
                        audit.person_ref(entry.ref))
        self._close_candidates(uow, repo, [e.ref for e in leaving])

    # ---- erasure ---------------------------------------------------------------------------

    def on_subject_erased(self, event: Any, uow: UnitOfWork) -> None:
        """Intake erased data subjects: the registry's keys of them are destroyed, their entries
        deleted, their undecided candidates closed, and they leave the in-memory index."""
        repo = self._repo(uow)
        removed = repo.remove_subjects(event.case_id, list(event.key_ids))
        if removed:
            for ref in removed:
                self.index.remove(ref, session=uow.session)
                self._audit(uow, "person-index.erase", audit.PERSON_RECORD,
                            audit.person_ref(ref))
            self._close_candidates(uow, repo, removed)

    def _close_candidates(self, uow: UnitOfWork, repo: PersonIndexRepository, refs: list[str]
                          ) -> None:
        """Close the undecided candidates of `refs`; each says so (`match.withdrawn`) so that
        intake stops showing it as proposed."""
        candidates = MatchCandidateRepository(repo.session)
        now = self.clock()
        for candidate in repo.open_candidates_involving(refs):
            if candidate.withdraw(now):
                candidates.save(candidate)
                announce(uow, candidate)
                self._audit(uow, "match.withdraw", audit.CANDIDATE, str(candidate.id))


def _identity(event: Any) -> tuple[IntakeKind, UUID, list[str]]:
    """Kind, intake record id and sharing scope of a tracing event."""
    if isinstance(event, MissingPersonRecorded):
        return IntakeKind.MISSING_PERSON, event.report_id, list(event.sharing_scope)
    if isinstance(event, FoundPersonRecorded):
        return IntakeKind.FOUND_PERSON, event.record_id, list(event.sharing_scope)
    if isinstance(event, RemainsRecorded):
        return IntakeKind.REMAINS, event.remains_id, []
    return AMENDED_KIND[event.record_kind], event.record_id, list(event.sharing_scope)
