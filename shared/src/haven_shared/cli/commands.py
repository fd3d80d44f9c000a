"""The `haven` commands: token, seed, import-pfif, import-hsds, audit-verify."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from haven_shared.cli import dead_letters, erase, export_pfif, pfif
from haven_shared.cli.client import CliError, checked, fetch_token, service_client
from haven_shared.cli.config import CliSettings
from haven_shared.cli.importing import import_records
from haven_shared.cli.options import Password
from haven_shared.cli.seed import seed_case, seed_providers

app = typer.Typer(help="Haven from the command line: tokens, demo data, imports, audit.",
                  no_args_is_help=True, add_completion=False)
console = Console()
errors = Console(stderr=True)

User = Annotated[str, typer.Option("--user", help="Demo user to act as")]


def _fail(message: str) -> typer.Exit:
    errors.print(f"[red]{message}")
    return typer.Exit(1)


@app.command()
def token(user: Annotated[str, typer.Argument(help="e.g. ana, dora, paula")],
          password: Password = None) -> None:
    """Print an access token for USER (password grant of the haven-cli client)."""
    try:
        typer.echo(fetch_token(CliSettings.load(), user, password))
    except CliError as exc:
        raise _fail(str(exc)) from exc


@app.command()
def seed(admin: Annotated[str, typer.Option(help="directory_admin user")] = "dora",
         caseworker: Annotated[str, typer.Option(help="caseworker user")] = "ana",
         password: Password = None) -> None:
    """Demo providers in the registry and a demo missing-person case in intake (idempotent)."""
    settings = CliSettings.load()
    try:
        with service_client(settings, "registry",
                            fetch_token(settings, admin, password)) as registry:
            services = seed_providers(registry)
        with service_client(settings, "intake",
                            fetch_token(settings, caseworker, password)) as intake:
            case, report = seed_case(intake)
    except CliError as exc:
        raise _fail(str(exc)) from exc
    table = Table("what", "name")
    table.add_column("id", no_wrap=True)
    for service in services:
        table.add_row(f"{service['kind']} service", service["name"], service["id"])
    table.add_row("missing-person case", case["person"].get("display_name") or "", case["id"])
    table.add_row("missing-person report", report["names"][0]["text"], report["id"])
    console.print(table)


@app.command("import-pfif")
def import_pfif(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                                     help="PFIF 1.4 XML or CSV")],
                user: User = "ana", password: Password = None,
                dry_run: Annotated[bool, typer.Option(help="Parse and report only")] = False,
                ) -> None:
    """File each PFIF person as a missing-person case and report in intake.

    Rejected rows are listed with their row and field; the exit code is 1 when any was.
    """
    try:
        parsed = pfif.parse_file(file)
    except (pfif.PfifError, UnicodeDecodeError) as exc:
        raise _fail(f"{file}: {exc}") from exc
    rejections = list(parsed.rejections)
    filed = 0
    if parsed.records and not dry_run:
        settings = CliSettings.load()
        try:
            access = fetch_token(settings, user, password)
        except CliError as exc:
            raise _fail(str(exc)) from exc
        columns = (TextColumn("filing reports"), BarColumn(), MofNCompleteColumn())
        with service_client(settings, "intake", access) as intake, \
                Progress(*columns, console=console) as progress:
            task = progress.add_task("import", total=len(parsed.records))
            summary = import_records(intake, parsed.records,
                                     lambda: progress.advance(task))
        filed = len(summary.filed)
        rejections += summary.rejections
    _print_summary(len(parsed.records) + len(parsed.rejections), filed, rejections, dry_run)
    if rejections:
        raise typer.Exit(1)


def _print_summary(total: int, filed: int, rejections: list[pfif.Rejection],
                   dry_run: bool) -> None:
    verb = "would file" if dry_run else "filed"
    console.print(f"{total} records: {verb} {total - len(rejections) if dry_run else filed}, "
                  f"rejected {len(rejections)}")
    if rejections:
        table = Table("row", "field", "reason", title="Rejected rows")
        for r in sorted(rejections, key=lambda r: r.row):
            table.add_row(str(r.row), r.field, r.reason)
        console.print(table)


@app.command("import-hsds")
def import_hsds(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                                     help="An HSDS 3.0 page of services (JSON)")],
                user: User = "dora", password: Password = None) -> None:
    """Import providers into the registry's directory (POST /directory/hsds/import)."""
    try:
        page = json.loads(file.read_text("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail(f"{file}: not JSON ({exc})") from exc
    settings = CliSettings.load()
    try:
        with service_client(settings, "registry",
                            fetch_token(settings, user, password)) as registry:
            summary = checked(registry.post("/directory/hsds/import", json=page),
                              "HSDS import")
    except CliError as exc:
        raise _fail(str(exc)) from exc
    table = Table("created", "updated", "unchanged", "withdrawn", title="HSDS import")
    table.add_row(*(str(summary[k]) for k in ("created", "updated", "unchanged", "withdrawn")))
    console.print(table)


@app.command("audit-verify")
def audit_verify(service: Annotated[str, typer.Option(help="intake, referral or registry")
                                    ] = "intake",
                 database_url: Annotated[str | None, typer.Option(
                     help="Default: the service's SQLite file of `make up`")] = None,
                 as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Verify a service's audit hash chain (python -m haven_shared.audit verify)."""
    from haven_shared.audit.cli import verify

    settings = CliSettings.load()
    if not settings.master_key:
        raise _fail("no master key: set HAVEN_MASTER_KEY or run `make up` (secrets.env)")
    url = database_url or f"sqlite:///{settings.run_dir / f'{service}.db'}"
    verify(database_url=url, master_key=settings.master_key, checkpoints_file=None,
           as_json=as_json)


app.command("export-pfif")(export_pfif.command)
app.command("erase")(erase.command)
app.add_typer(dead_letters.app, name="dead-letters")
app.command("audit-trace")(__import__("haven_shared.cli.audit_trace", fromlist=["_"]).command)
