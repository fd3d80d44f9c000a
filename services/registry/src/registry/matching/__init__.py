"""Haven matching engine: trace the missing and identify the dead.

Pure Python (standard library, rapidfuzz, anyascii, numpy); no web or database imports.

How the registry service uses it::

    from registry.matching import MatchIndex, PersonRecord, RecordKind, BirthDate, Sighting

    index = MatchIndex()                       # one per process, rebuilt from the person index
    index.add_many(records_from_database)      # bulk load at start-up
    index.train()                              # learn m/u weights from the indexed records (EM)

    # on intake.missing-person.recorded / found-person / remains events:
    record = PersonRecord("case-123/report-1", RecordKind.MISSING_PERSON_REPORT,
                          given_names=("Maxamed",), family_names=("Cabdi", "Xasan"),
                          birth_date=BirthDate(1994), last_seen=Sighting(date, lat, lon))
    candidates = index.match_and_add(record, limit=10, min_probability=0.5)
    for c in candidates:                       # ranked, best first
        c.record_id, c.probability, c.explanation.fields   # per-field evidence
        c.explanation.absent                   # fields missing on either side

``index.query(record, kinds={RecordKind.UNIDENTIFIED_REMAINS})`` matches without adding.
``index.remove(record_id)`` takes an amended or withdrawn record out.
Batch work: ``link(left, right)`` and ``deduplicate(records)`` return scored pairs and links
above a threshold; ``deduplicate`` clusters by average linkage (``clustering``), which one
wrong link cannot chain. ``synthetic.generate(size, seed)`` makes test data with ground truth.
"""

from .index import Candidate, MatchIndex
from .linkage import LinkageResult, connected_components, deduplicate, link
from .model import FieldEvidence, MatchExplanation, MatchModel
from .records import AgeEstimate, BirthDate, PersonRecord, RecordKind, Sighting

__all__ = [
    "AgeEstimate",
    "BirthDate",
    "Candidate",
    "FieldEvidence",
    "LinkageResult",
    "MatchExplanation",
    "MatchIndex",
    "MatchModel",
    "PersonRecord",
    "RecordKind",
    "Sighting",
    "connected_components",
    "deduplicate",
    "link",
]
