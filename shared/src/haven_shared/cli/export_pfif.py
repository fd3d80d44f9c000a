"""Intake's missing-person reports → PFIF 1.4 (XML or CSV): `haven export-pfif`.

Exports what the caller may see: the cases `GET /cases` lists for them (their organisation; a
minor's only with child protection), and each missing-person report of those cases, read with a
purpose of use (every read is audited in intake). One PFIF `person` per report:

- `person_record_id` `<domain>/<report id>` (Haven is the record's original repository);
- `full_name` the first name, `alternate_names` the others (one a line); `sex` unless unknown;
  `date_of_birth`; `age` the estimated age; `home_country` the first nationality;
  `description` the physical description;
- `author_name` the enquirer, reached at `author_email` (a contact with `@`) or `author_phone`;
- one `note` (status `information_sought`) carrying the last known location, which is where
  `import-pfif` reads it from. CSV has no notes: its `last_known_location` column (Haven's
  convenience column, also read by `import-pfif`) carries the place.

So a file written here imports again with `haven import-pfif` into the same reports.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from xml.etree import ElementTree

import httpx
import typer
from rich.console import Console

from haven_shared.cli.client import CliError, checked, fetch_token, service_client
from haven_shared.cli.config import CliSettings
from haven_shared.cli.options import Password
from haven_shared.cli.pfif import NOTE_FIELDS, PERSON_FIELDS, PFIF_NS

PAGE = 200
MISSING_PERSON = "missing-person"
CSV_FIELDS = (*PERSON_FIELDS, "last_known_location")

errors = Console(stderr=True)


def visible_reports(
    intake: httpx.Client, purpose: str, advance: Callable[[], None] = lambda: None
) -> Iterator[dict[str, Any]]:
    """Every missing-person report of every case the caller may see, oldest case last."""
    headers = {"X-Purpose-Of-Use": purpose}
    offset = 0
    while True:
        page = checked(
            intake.get("/cases", params={"limit": PAGE, "offset": offset}, headers=headers),
            "listing cases",
        )
        for summary in page:
            case = checked(intake.get(f"/cases/{summary['id']}", headers=headers), "reading a case")
            for ref in case.get("records", []):
                if ref["kind"] == MISSING_PERSON:
                    yield checked(
                        intake.get(
                            f"/cases/{case['id']}/missing-person-reports/{ref['id']}",
                            headers=headers,
                        ),
                        "reading a missing-person report",
                    )
            advance()
        if len(page) < PAGE:
            return
        offset += PAGE


def _pfif_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_person(
    report: dict[str, Any], domain: str, now: datetime
) -> tuple[dict[str, str], dict[str, str]]:
    """A report as PFIF person fields and its one note's fields (empty fields left out)."""
    stamp = _pfif_time(now)
    record_id = f"{domain}/{report['id']}"
    names = [n["text"] for n in report.get("names", [])]
    enquirer = report.get("enquirer") or {}
    contact = str(enquirer.get("contact") or "")
    by_mail = "@" in contact
    sex = report.get("sex") or "unknown"
    age = report.get("estimated_age")
    person = {
        "person_record_id": record_id,
        "entry_date": stamp,
        "author_name": enquirer.get("name") or "",
        "author_email": contact if by_mail else "",
        "author_phone": "" if by_mail else contact,
        "source_name": "Haven intake",
        "source_date": stamp,
        "full_name": names[0] if names else "",
        "alternate_names": "\n".join(names[1:]),
        "description": report.get("physical_description") or "",
        "sex": sex if sex != "unknown" else "",
        "date_of_birth": report.get("date_of_birth") or "",
        "age": "" if age is None else str(age),
        "home_country": (report.get("nationalities") or [""])[0],
    }
    last_seen = report.get("last_seen") or {}
    note = {
        "note_record_id": f"{domain}/{report['id']}.last-seen",
        "person_record_id": record_id,
        "entry_date": stamp,
        "author_name": person["author_name"],
        "author_email": person["author_email"],
        "author_phone": person["author_phone"],
        "source_date": stamp,
        "status": "information_sought",
        "last_known_location": last_seen.get("place") or "",
        "text": "Reported missing; the family seeks information.",
    }
    return ({k: v for k, v in person.items() if v}, {k: v for k, v in note.items() if v})


def render_xml(people: list[tuple[dict[str, str], dict[str, str]]]) -> str:
    """A PFIF 1.4 XML document; fields in the schema's order, each note inside its person."""
    ElementTree.register_namespace("pfif", PFIF_NS)
    root = ElementTree.Element(f"{{{PFIF_NS}}}pfif")
    for person, note in people:
        element = ElementTree.SubElement(root, f"{{{PFIF_NS}}}person")
        _fill(element, person, PERSON_FIELDS)
        _fill(ElementTree.SubElement(element, f"{{{PFIF_NS}}}note"), note, NOTE_FIELDS)
    ElementTree.indent(root)
    body = ElementTree.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _fill(element: ElementTree.Element, fields: dict[str, str], order: tuple[str, ...]) -> None:
    for name in order:
        if name in fields:
            ElementTree.SubElement(element, f"{{{PFIF_NS}}}{name}").text = fields[name]


def render_csv(people: list[tuple[dict[str, str], dict[str, str]]]) -> str:
    """PFIF 1.4 CSV: one person a row; the note's place in the `last_known_location` column."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for person, note in people:
        writer.writerow({**person, "last_known_location": note.get("last_known_location", "")})
    return out.getvalue()


def export(
    reports: list[dict[str, Any]],
    fmt: Literal["xml", "csv"],
    domain: str,
    now: datetime | None = None,
) -> str:
    """The reports as a PFIF 1.4 document in `fmt`."""
    moment = now or datetime.now(UTC)
    people = [to_person(r, domain, moment) for r in reports]
    return render_xml(people) if fmt == "xml" else render_csv(people)


def command(
    out: Annotated[
        Path | None,
        typer.Option("--out", dir_okay=False, help="File to write (default: standard output)"),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="xml or csv")] = "xml",
    user: Annotated[str, typer.Option("--user", help="Demo user to act as")] = "ana",
    password: Password = None,
    purpose: Annotated[
        str, typer.Option(help="Purpose of use sent with every read")
    ] = "family-tracing",
    domain: Annotated[str, typer.Option(help="Domain of the exported record ids")] = "haven.intake",
) -> None:
    """Export the missing-person reports you may see in intake as PFIF 1.4 (XML or CSV)."""
    if fmt not in ("xml", "csv"):
        errors.print(f"[red]--format must be xml or csv, not {fmt!r}")
        raise typer.Exit(2)
    settings = CliSettings.load()
    cases = 0

    def counted() -> None:
        nonlocal cases
        cases += 1

    try:
        with service_client(settings, "intake", fetch_token(settings, user, password)) as intake:
            reports = list(visible_reports(intake, purpose, counted))
    except (CliError, httpx.HTTPError) as exc:
        message = (
            str(exc)
            if isinstance(exc, CliError)
            else (f"cannot reach intake ({type(exc).__name__})")
        )
        errors.print(f"[red]{message}")
        raise typer.Exit(1) from exc
    text = export(reports, "xml" if fmt == "xml" else "csv", domain)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, "utf-8")
    errors.print(
        f"exported {len(reports)} missing-person reports from {cases} cases"
        + (f" to {out}" if out else "")
    )
