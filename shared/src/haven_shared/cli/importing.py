"""Filing PFIF records in intake: one missing-person case and its report per record.

Each request carries an Idempotency-Key derived from the PFIF `person_record_id`, so importing
the same file twice files nothing new (intake returns the first result).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from haven_shared.cli.pfif import PfifRecord, Rejection


@dataclass
class ImportSummary:
    """What an import filed and what it left out."""

    filed: list[tuple[PfifRecord, str]] = field(default_factory=list)  # (record, case id)
    rejections: list[Rejection] = field(default_factory=list)


def _key(kind: str, record: PfifRecord) -> str:
    digest = hashlib.sha256(record.person_record_id.encode()).hexdigest()[:32]
    return f"pfif-{kind}-{digest}"


def _field_of(response: httpx.Response) -> str:
    """The first failing field named by a problem+json validation error, else `(server)`."""
    try:
        body: Any = response.json()
        errors = body.get("errors") or []
        return str(errors[0]["field"]).removeprefix("body.") if errors else "(server)"
    except (ValueError, AttributeError, KeyError, IndexError, TypeError):
        return "(server)"


def file_record(intake: httpx.Client, record: PfifRecord) -> str | Rejection:
    """Open the case and file the report; the case id, or a rejection naming the field."""
    case = intake.post("/cases", headers={"Idempotency-Key": _key("case", record)},
                       json={"kind": "missing-person",
                             "person": {"display_name": record.display_name}})
    if not case.is_success:
        return Rejection(record.row, _field_of(case), f"intake refused the case: HTTP "
                                                       f"{case.status_code}")
    case_id = str(case.json()["id"])
    report = intake.post(f"/cases/{case_id}/missing-person-reports", json=record.report,
                         headers={"Idempotency-Key": _key("report", record)})
    if not report.is_success:
        return Rejection(record.row, _field_of(report), f"intake refused the report: HTTP "
                                                         f"{report.status_code}")
    return case_id


def import_records(intake: httpx.Client, records: Iterable[PfifRecord],
                   advance: Callable[[], None] = lambda: None) -> ImportSummary:
    """File every record, calling `advance` after each (for a progress bar)."""
    summary = ImportSummary()
    for record in records:
        outcome = file_record(intake, record)
        if isinstance(outcome, Rejection):
            summary.rejections.append(outcome)
        else:
            summary.filed.append((record, outcome))
        advance()
    return summary
