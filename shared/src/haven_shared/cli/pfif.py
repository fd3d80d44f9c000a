"""PFIF 1.4 (People Finder Interchange Format) → intake missing-person reports; pure parsing.

A PFIF `person` becomes a missing-person case and its report (`MissingPersonReportIn` of
intake's API). Each record that cannot become a valid report is rejected with its row number and
the PFIF field at fault: in CSV the line of the file (the header is line 1), in XML the position
of the `person` element (1 for the first). Mapping:

- names: `full_name`, else `given_name` + `family_name`; each line of `alternate_names` too;
- `sex` (female, male, other; empty is unknown); `date_of_birth` when a full date (a year or
  year-month alone is kept out); `age` (`N` or `N-M`, the midpoint) as the estimated age;
- last seen: `last_known_location` of the newest note, else `home_city`, `home_country`;
  circumstances unknown (PFIF has no such field);
- enquirer: `author_name`, reached at `author_email` or `author_phone`, relationship other;
- nationality: `home_country` when an ISO 3166 code; `description` as physical description.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

PFIF_NS = "http://zesty.ca/pfif/1.4"
_AGE = re.compile(r"^(\d{1,3})(?:-(\d{1,3}))?$")
_COUNTRY = re.compile(r"^[A-Z]{2,3}$")
_SEXES = {"female", "male", "other"}
_MAX_TEXT = {"full_name": 200, "given_name": 200, "family_name": 200, "author_name": 200,
             "description": 4000, "last_known_location": 300}


class PfifError(ValueError):
    """The file as a whole is not PFIF 1.4 (wrong namespace, not XML, no header...)."""


@dataclass(frozen=True)
class Rejection:
    """A record left out: where (row) and why (PFIF field, reason)."""

    row: int
    field: str
    reason: str


@dataclass(frozen=True)
class PfifRecord:
    """One PFIF person ready for intake: the case to open and the report to file in it."""

    row: int
    person_record_id: str
    display_name: str
    report: dict[str, Any]


@dataclass
class ParseResult:
    """The records that map to reports, and the rejected ones."""

    records: list[PfifRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def add(self, outcome: PfifRecord | Rejection) -> None:
        """File a mapped record or a rejection."""
        if isinstance(outcome, Rejection):
            self.rejections.append(outcome)
        else:
            self.records.append(outcome)


def to_record(row: int, person: dict[str, str],
              notes: list[dict[str, str]]) -> PfifRecord | Rejection:
    """Map one PFIF person (field → text) and its notes to a record, or reject it."""
    p = {k: (v or "").strip() for k, v in person.items() if k}
    for name, limit in _MAX_TEXT.items():
        if len(p.get(name, "")) > limit:
            return Rejection(row, name, f"longer than {limit} characters")
    record_id = p.get("person_record_id", "")
    if not record_id:
        return Rejection(row, "person_record_id", "missing")
    given_and_family = (p.get("given_name"), p.get("family_name"))
    full = p.get("full_name") or " ".join(x for x in given_and_family if x)
    if not full:
        return Rejection(row, "full_name", "no full_name, given_name or family_name")
    names = [{"text": full}] + [{"text": n.strip()[:200]}
                                for n in p.get("alternate_names", "").splitlines() if n.strip()]
    sex = p.get("sex", "").lower() or "unknown"
    if sex not in _SEXES | {"unknown"}:
        return Rejection(row, "sex", "not female, male or other")
    report: dict[str, Any] = {"names": names[:10], "sex": sex}
    dob = p.get("date_of_birth", "")
    if dob:
        if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", dob):
            return Rejection(row, "date_of_birth", "not YYYY, YYYY-MM or YYYY-MM-DD")
        if len(dob) == 10:
            try:
                report["date_of_birth"] = date.fromisoformat(dob).isoformat()
            except ValueError:
                return Rejection(row, "date_of_birth", "not a calendar date")
    age = p.get("age", "")
    if age:
        m = _AGE.match(age)
        low, high = (int(m.group(1)), int(m.group(2) or m.group(1))) if m else (0, -1)
        if not m or high > 120 or high < low:
            return Rejection(row, "age", "not N or N-M (N ≤ M ≤ 120)")
        report["estimated_age"] = (low + high) // 2
    author = p.get("author_name", "")
    if not author:
        return Rejection(row, "author_name", "missing: the enquirer is needed for tracing")
    contact = p.get("author_email") or p.get("author_phone", "")
    if not contact:
        return Rejection(row, "author_email", "no author_email or author_phone")
    place = _last_known_location(p, notes)
    if not place:
        return Rejection(row, "last_known_location", "no location in notes, home_city or "
                                                     "home_country")
    report["last_seen"] = {"place": place[:300], "circumstances": "unknown"}
    report["enquirer"] = {"name": author, "relationship": "other", "contact": contact[:300]}
    country = p.get("home_country", "").upper()
    if _COUNTRY.match(country):
        report["nationalities"] = [country]
    if p.get("description"):
        report["physical_description"] = p["description"]
    return PfifRecord(row, record_id, full, report)


def _last_known_location(person: dict[str, str], notes: list[dict[str, str]]) -> str:
    dated = sorted(notes, key=lambda n: n.get("entry_date") or n.get("source_date") or "")
    for note in reversed(dated):
        if (note.get("last_known_location") or "").strip():
            return note["last_known_location"].strip()
    if person.get("last_known_location"):  # a convenience column of Haven's CSV files
        return person["last_known_location"]
    return ", ".join(x for x in (person.get("home_city"), person.get("home_country")) if x)


def parse_csv(text: str) -> ParseResult:
    """PFIF 1.4 CSV: a header of person field names, one person per row."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "person_record_id" not in reader.fieldnames:
        raise PfifError("the CSV header has no person_record_id column")
    result = ParseResult()
    for person in reader:
        result.add(to_record(reader.line_num, {k: v for k, v in person.items() if k}, []))
    return result


def parse_xml(text: str) -> ParseResult:
    """PFIF 1.4 XML: `pfif:person` elements, with notes nested in them or at the top level."""
    if re.search(r"<!(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        raise PfifError("DOCTYPE and entity declarations are not accepted")
    try:
        # No DTDs or entities (refused above), so the standard parser is safe here.
        root = ElementTree.fromstring(text)  # noqa: S314
    except ElementTree.ParseError as exc:
        raise PfifError(f"not well-formed XML ({exc})") from exc
    if root.tag != f"{{{PFIF_NS}}}pfif":
        raise PfifError(f"the root is not pfif in the PFIF 1.4 namespace {PFIF_NS}")
    loose: dict[str, list[dict[str, str]]] = {}
    for note in root.findall(f"{{{PFIF_NS}}}note"):
        fields = _fields(note)
        loose.setdefault(fields.get("person_record_id", ""), []).append(fields)
    result = ParseResult()
    for row, person in enumerate(root.findall(f"{{{PFIF_NS}}}person"), start=1):
        fields = _fields(person)
        notes = [_fields(n) for n in person.findall(f"{{{PFIF_NS}}}note")]
        notes += loose.get(fields.get("person_record_id", ""), [])
        result.add(to_record(row, fields, notes))
    return result


def _fields(element: ElementTree.Element) -> dict[str, str]:
    prefix = f"{{{PFIF_NS}}}"
    return {child.tag.removeprefix(prefix): child.text or "" for child in element
            if child.tag.startswith(prefix) and child.tag != f"{prefix}note"}


def parse_file(path: Path) -> ParseResult:
    """Parse a PFIF file, XML or CSV by its content (XML starts with `<`)."""
    text = path.read_text("utf-8-sig")
    return parse_xml(text) if text.lstrip().startswith("<") else parse_csv(text)


# Field order of PFIF 1.4 records (the XML schema's sequence), for writers.
PERSON_FIELDS = (
    "person_record_id", "entry_date", "expiry_date", "author_name", "author_email",
    "author_phone", "source_name", "source_date", "source_url", "full_name", "given_name",
    "family_name", "alternate_names", "description", "sex", "date_of_birth", "age",
    "home_street", "home_neighborhood", "home_city", "home_state", "home_postal_code",
    "home_country", "photo_url", "profile_urls",
)
NOTE_FIELDS = (
    "note_record_id", "person_record_id", "linked_person_record_id", "entry_date",
    "author_name", "author_email", "author_phone", "source_date", "author_made_contact",
    "status", "email_of_found_person", "phone_of_found_person", "last_known_location", "text",
    "photo_url",
)
