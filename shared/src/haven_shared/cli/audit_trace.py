"""`haven audit-trace TRACE_ID`: one trace stitched across the services, for an auditor.

Asks each service's auditor API (`GET /audit/traces/{trace_id}`) with the auditor's token for
its spans and audit entries of the trace, and prints them as one timeline ordered by time: a
table, JSON lines or CSV (to a file with `--out`). A service that does not answer is named on
stderr and left out; the exit code is 1 when none answered or the trace is unknown everywhere.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from haven_shared.audit.traces import collect, to_csv, to_json_lines
from haven_shared.cli.client import CliError, fetch_token, service_client
from haven_shared.cli.config import SERVICE_PORTS, CliSettings
from haven_shared.cli.options import Password

_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
FORMATS = ("table", "jsonl", "csv")


def command(
    trace_id: Annotated[str, typer.Argument(help="The trace id: 32 hex digits")],
    fmt: Annotated[str, typer.Option("--format", help="table, jsonl or csv")] = "table",
    out: Annotated[Path | None, typer.Option(help="Write the timeline to this file")] = None,
    user: Annotated[str, typer.Option("--user", help="An auditor")] = "audrey",
    password: Password = None,
    service: Annotated[list[str] | None, typer.Option(
        help="Services to ask (repeatable; default all three)")] = None,
) -> None:
    """Stitch one trace across intake, registry and referral into a timeline."""
    errors = Console(stderr=True)
    trace_id = trace_id.strip().lower()
    if not _TRACE_ID.match(trace_id):
        errors.print("[red]a trace id is 32 hex digits")
        raise typer.Exit(2)
    if fmt not in FORMATS:
        errors.print(f"[red]--format must be one of {', '.join(FORMATS)}")
        raise typer.Exit(2)
    names = service or list(SERVICE_PORTS)
    unknown = sorted(set(names) - set(SERVICE_PORTS))
    if unknown:
        errors.print(f"[red]unknown service {unknown[0]}")
        raise typer.Exit(2)
    settings = CliSettings.load()
    try:
        token = fetch_token(settings, user, password)
    except CliError as exc:
        errors.print(f"[red]{exc}")
        raise typer.Exit(1) from exc
    clients = {name: service_client(settings, name, token) for name in names}
    try:
        timeline, status = collect(clients, trace_id)
    finally:
        for client in clients.values():
            client.close()
    for name, state in status.items():
        if state != "ok":
            errors.print(f"[yellow]{name}: {state}")
    if not timeline:
        errors.print("[red]no service knows this trace")
        raise typer.Exit(1)
    if fmt == "table":
        _print_table(timeline, trace_id, out)
        return
    text = "".join(to_csv(timeline) if fmt == "csv" else to_json_lines(timeline))
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        errors.print(f"{len(timeline)} items written to {out}")


def _print_table(timeline: list[dict], trace_id: str, out: Path | None) -> None:  # type: ignore[type-arg]
    table = Table("time", "service", "what", "detail", title=f"Trace {trace_id}")
    for item in timeline:
        if item["source"] == "span":
            detail = f"{item['span_kind']} span, {item['duration_ms']} ms"
        else:
            detail = (f"{item['actor']} ({item['organisation']}) {item['object_type']} "
                      f"{item['object_id']} {item['outcome']}"
                      + (f", purpose {item['purpose']}" if item.get("purpose") else ""))
        table.add_row(item["at"], item["service"], item["name"], detail)
    console = Console(file=out.open("w", encoding="utf-8") if out else None)
    console.print(table)
