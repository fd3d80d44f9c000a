"""Repository of match candidates: load and save through a session; never commit."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from uuid import UUID

from sqlmodel import Session, col, select

from registry.adapters.tables import MatchCandidateRow
from registry.domain.match_review import Evidence, MatchCandidate, MatchStatus, Review


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class MatchCandidateRepository:
    """Match candidates of the person index."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, candidate_id: UUID, *, for_update: bool = False) -> MatchCandidate | None:
        """The candidate, or None; `for_update` locks it until the transaction ends."""
        stmt = select(MatchCandidateRow).where(MatchCandidateRow.id == candidate_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self.session.exec(stmt).first()
        return candidate_from_row(row) if row else None

    def known_pairs(self, pairs: list[str]) -> set[str]:
        """Which of these pairs were proposed before (whatever became of them)."""
        if not pairs:
            return set()
        stmt = select(MatchCandidateRow.pair).where(col(MatchCandidateRow.pair).in_(pairs))
        return set(self.session.exec(stmt))

    def list(self, *, statuses: Collection[MatchStatus] = (), limit: int = 100
             ) -> list[MatchCandidate]:
        """Candidates in any of `statuses` (all when empty) by score, best first."""
        stmt = select(MatchCandidateRow).order_by(col(MatchCandidateRow.probability).desc(),
                                                  col(MatchCandidateRow.id))
        if statuses:
            stmt = stmt.where(col(MatchCandidateRow.status).in_([s.value for s in statuses]))
        return [candidate_from_row(r) for r in self.session.exec(stmt.limit(limit))]

    def save(self, c: MatchCandidate) -> None:
        """Insert or update the candidate's row."""
        row = self.session.get(MatchCandidateRow, c.id)
        values = {
            "id": c.id, "pair": c.pair, "record_ref": c.record_ref,
            "record_kind": c.record_kind, "candidate_ref": c.candidate_ref,
            "candidate_kind": c.candidate_kind, "probability": c.probability,
            "weight": c.weight, "evidence": [vars(e) for e in c.evidence],
            "status": c.status.value,
            "reviews": [{**vars(r), "at": r.at.isoformat(), "roles": list(r.roles)}
                        for r in c.reviews],
            "proposed_at": c.proposed_at, "version": c.version,
            "involves_minor": c.involves_minor,
        }
        if row is None:
            row = MatchCandidateRow(**values)
        else:
            for key, value in values.items():
                setattr(row, key, value)
        self.session.add(row)
        self.session.flush()


def candidate_from_row(row: MatchCandidateRow) -> MatchCandidate:
    """The aggregate stored in `row`."""
    return MatchCandidate(
        id=row.id, record_ref=row.record_ref, record_kind=row.record_kind,
        candidate_ref=row.candidate_ref, candidate_kind=row.candidate_kind,
        probability=row.probability, weight=row.weight,
        evidence=tuple(Evidence(**e) for e in row.evidence),
        proposed_at=_aware(row.proposed_at), status=MatchStatus(row.status),
        reviews=[Review(**{**r, "at": datetime.fromisoformat(r["at"]),
                           "roles": tuple(r.get("roles", ()))}) for r in row.reviews],
        version=row.version, involves_minor=row.involves_minor)
