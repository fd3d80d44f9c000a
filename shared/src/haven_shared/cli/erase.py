"""`haven erase SUBJECT`: erase a data subject through intake (administrators only).

SUBJECT is a case id (every data subject of the case: the person it is about, each tracing
record's subject and each enquirer) or a tracing record's id (that record's subject). Intake
destroys their keys and tells the registry and referral, which destroy their copies and tell the
partners that received data. Asks for confirmation unless `--yes`; prints only ids and counts.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import httpx
import typer
from rich.console import Console
from rich.table import Table

from haven_shared.cli.client import CliError, checked, fetch_token, service_client
from haven_shared.cli.config import CliSettings
from haven_shared.cli.options import Password

Reason = Literal[
    "data-subject-request",
    "consent-withdrawn",
    "retention-expired",
    "unlawful-processing",
    "legal-obligation",
]
console = Console()
errors = Console(stderr=True)


def erase_subject(intake: httpx.Client, subject: str, reason: str) -> dict[str, Any]:
    """Ask intake to erase `subject`; the erasure's summary (ids and counts)."""
    try:
        ref = str(uuid.UUID(subject))
    except ValueError as exc:
        raise CliError("SUBJECT must be a case id or a record id (a UUID)") from exc
    result: dict[str, Any] = checked(
        intake.post(f"/subjects/{ref}/erasure", json={"reason": reason}), "erasure"
    )
    return result


def command(
    subject: Annotated[str, typer.Argument(help="Case id or tracing record id")],
    reason: Annotated[
        Reason, typer.Option(help="Legal ground of the erasure")
    ] = "data-subject-request",
    user: Annotated[str, typer.Option("--user", help="Administrator to act as")] = "adam",
    password: Password = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to confirm")] = False,
) -> None:
    """Erase a data subject everywhere (crypto-shredding); this cannot be undone."""
    if not yes and not typer.confirm(f"Erase {subject}? Their data cannot be recovered."):
        raise typer.Exit(1)
    settings = CliSettings.load()
    try:
        with service_client(settings, "intake", fetch_token(settings, user, password)) as intake:
            done = erase_subject(intake, subject, reason)
    except CliError as exc:
        errors.print(f"[red]{exc}")
        raise typer.Exit(1) from exc
    table = Table("erasure", "case", "subjects", "keys destroyed", "reason", title="Erased")
    table.add_row(
        str(done["erasure_id"]),
        str(done["case_id"]),
        str(done["subjects"]),
        str(done["keys_destroyed"]),
        str(done["reason"]),
    )
    console.print(table)
