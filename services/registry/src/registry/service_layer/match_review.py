"""Use cases of match review: propose candidates from the matching engine, confirm, reject.

The person-index consumer (intake events → `PersonRecord`) calls `propose_matches` for each
arriving record; reviewers call the rest through the API.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from uuid import UUID, uuid4

from haven_shared.uow import UnitOfWork
from registry.adapters.match_repository import MatchCandidateRepository
from registry.domain.match_review import (
    Evidence,
    MatchCandidate,
    MatchStatus,
    Reviewer,
    pair_key,
)
from registry.matching import Candidate, MatchIndex, PersonRecord
from registry.service_layer import audit, family_notification
from registry.service_layer.audit import audited
from registry.service_layer.errors import NotFoundError
from registry.service_layer.events import translate


def propose_matches(uow: UnitOfWork, index: MatchIndex, record: PersonRecord, now: datetime,
                    *, threshold: float, limit: int = 10, minors: Collection[str] = ()
                    ) -> list[MatchCandidate]:
    """Match an arriving record incrementally and propose every new pair above `threshold`
    (a pair with a record in `minors` involves a child).

    Pairs proposed before, including rejected ones, are never proposed again.
    """
    found = index.match_and_add(record, limit=limit, min_probability=threshold)
    with uow:
        proposed = propose_found(uow, record, found, now, minors=minors)
        uow.commit()
    return proposed


def propose_found(uow: UnitOfWork, record: PersonRecord, found: list[Candidate],
                  now: datetime, *, minors: Collection[str] = ()) -> list[MatchCandidate]:
    """Propose the pairs of `record` with the engine's `found` candidates that are new, in the
    caller's open unit of work (which commits); each proposal's event goes to the outbox.
    A pair with a candidate in `minors` involves a child."""
    repo = MatchCandidateRepository(uow.session)
    known = repo.known_pairs([pair_key(record.record_id, c.record_id) for c in found])
    proposed = []
    for c in found:
        if pair_key(record.record_id, c.record_id) in known:
            continue
        evidence = tuple(Evidence(field=f.field, level=f.level, label=f.label,
                                  weight=round(f.weight, 4))
                         for f in c.explanation.fields)
        candidate = MatchCandidate.propose(
            uuid4(), record.record_id, record.kind.value, c.record_id, c.kind.value,
            probability=round(c.probability, 6), weight=round(c.weight, 4),
            evidence=evidence, at=now, involves_minor=c.record_id in minors)
        repo.save(candidate)
        announce(uow, candidate)
        proposed.append(candidate)
    return proposed


def announce(uow: UnitOfWork, candidate: MatchCandidate) -> None:
    """Queue the candidate's integration events (works whatever the unit's `translate`)."""
    while candidate.events:
        event = translate(candidate.events.pop(0))
        if event is not None:
            uow.emit(event)


OPEN = (MatchStatus.PROPOSED, MatchStatus.AWAITING_SECOND_REVIEW)


def list_candidates(uow: UnitOfWork, reviewer: Reviewer, status: MatchStatus | None = None,
                    limit: int = 100, purpose: str | None = None) -> list[MatchCandidate]:
    """Candidates the reviewer may see (by default those awaiting review), best score first;
    each one shown is audited as `match.list`."""
    with audited(uow, reviewer, "match.list", audit.CANDIDATE, None, purpose):
        found = MatchCandidateRepository(uow.session).list(
            statuses=(status,) if status else OPEN, limit=limit)
        visible = [c for c in found if c.visible_to(reviewer)]
        for c in visible:
            audit.queue(uow, audit.record(reviewer, "match.list", audit.CANDIDATE, c.id,
                                          purpose=purpose))
        uow.commit()
    return visible


def get_candidate(uow: UnitOfWork, candidate_id: UUID, reviewer: Reviewer,
                  purpose: str | None = None) -> MatchCandidate:
    """One candidate with its explanation; hidden ones are simply not found."""
    with audited(uow, reviewer, "match.read", audit.CANDIDATE, candidate_id, purpose):
        candidate = MatchCandidateRepository(uow.session).get(candidate_id)
        if candidate is None or not candidate.visible_to(reviewer):
            raise NotFoundError("The match candidate does not exist.")
        uow.commit()
    return candidate


def confirm_match(uow: UnitOfWork, candidate_id: UUID, reviewer: Reviewer, now: datetime
                  ) -> MatchCandidate:
    """Confirm a candidate (the second confirmation of remains completes it)."""
    with audited(uow, reviewer, "match.confirm", audit.CANDIDATE, candidate_id):
        repo = MatchCandidateRepository(uow.session)
        candidate = _visible(repo, candidate_id, reviewer)
        candidate.confirm(reviewer, now)
        repo.save(candidate)
        uow.track(candidate)
        if candidate.status is MatchStatus.CONFIRMED:
            outcome = ("identification.confirm" if candidate.involves_remains
                       else "family-link.restore")
            audit.queue(uow, audit.record(reviewer, outcome, audit.CANDIDATE, candidate.id))
            # Someone must now tell the family: a task for the enquirer's organisation.
            family_notification.open_for(uow, candidate, reviewer, now)
        uow.commit()
    return candidate


def reject_match(uow: UnitOfWork, candidate_id: UUID, reviewer: Reviewer, reason: str,
                 now: datetime) -> MatchCandidate:
    """Reject a candidate for good (the reason is kept with the candidate, not audited)."""
    with audited(uow, reviewer, "match.reject", audit.CANDIDATE, candidate_id):
        repo = MatchCandidateRepository(uow.session)
        candidate = _visible(repo, candidate_id, reviewer)
        candidate.reject(reviewer, reason, now)
        repo.save(candidate)
        uow.track(candidate)
        uow.commit()
    return candidate


def _visible(repo: MatchCandidateRepository, candidate_id: UUID, reviewer: Reviewer
             ) -> MatchCandidate:
    candidate = repo.get(candidate_id, for_update=True)
    if candidate is None or not candidate.visible_to(reviewer):
        raise NotFoundError("The match candidate does not exist.")
    return candidate
