"""Entry point of `python -m haven_shared.audit`."""

from haven_shared.audit.cli import app

app(prog_name="python -m haven_shared.audit")
