"""`python -m haven_shared.audit`: verify a service's audit chain, export its checkpoints.

The master key comes from `--master-key` or the HAVEN_MASTER_KEY environment variable (never
log it); the exit code is 0 for an intact chain, 1 for a broken one, 2 for a usage error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from haven_shared.audit.chain import checkpoint_key
from haven_shared.audit.export import export_checkpoints, read_checkpoint_file
from haven_shared.audit.verify import VerificationResult, verify_chain
from haven_shared.db import make_engine

app = typer.Typer(help="Haven audit log: verify the hash chain, export signed checkpoints.",
                  no_args_is_help=True, add_completion=False)

DatabaseUrl = Annotated[str, typer.Option("--database-url", help="The service's database")]
MasterKey = Annotated[str, typer.Option("--master-key", envvar="HAVEN_MASTER_KEY",
                                        help="The service's master key", show_default=False,
                                        show_envvar=True)]


@app.command()
def verify(
    database_url: DatabaseUrl,
    master_key: MasterKey,
    checkpoints_file: Annotated[Path | None, typer.Option(
        help="Exported checkpoints to check the chain against as well")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
) -> None:
    """Walk the chain and the checkpoints; report the first broken entry."""
    engine = make_engine(database_url)
    extra = read_checkpoint_file(checkpoints_file) if checkpoints_file else []
    try:
        with Session(engine) as session:
            result = verify_chain(session, checkpoint_key(master_key), extra)
    except SQLAlchemyError as e:
        # The class name only: a driver's message may carry the URL and its password.
        Console(stderr=True).print(f"[red]cannot read the audit tables ({type(e).__name__})")
        raise typer.Exit(2) from e
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(result.as_json()))
    else:
        _print(result)
    raise typer.Exit(0 if result.ok else 1)


@app.command("export-checkpoints")
def export(database_url: DatabaseUrl,
           out: Annotated[Path, typer.Option(help="JSON-lines file to append to")]) -> None:
    """Append the checkpoints not yet in OUT to it."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            written = export_checkpoints(session, out)
    finally:
        engine.dispose()
    Console().print(f"{written} checkpoints appended to {out}")


def _print(result: VerificationResult) -> None:
    console = Console()
    table = Table(title="Audit chain", show_header=False)
    table.add_row("Status", "[green]intact[/green]" if result.ok else "[red]BROKEN[/red]")
    table.add_row("Entries", str(result.entries))
    table.add_row("Checkpoints", str(result.checkpoints))
    table.add_row("Last sequence number", str(result.last_seq))
    if result.queued:
        table.add_row("Queued, not linked yet", str(result.queued))
    if not result.ok:
        table.add_row("Reason", str(result.reason))
        table.add_row("First broken entry", str(result.first_broken_seq or "-"))
        table.add_row("Detected at entry", str(result.detected_at_seq or "-"))
    table.add_row("Detail", result.detail)
    console.print(table)
