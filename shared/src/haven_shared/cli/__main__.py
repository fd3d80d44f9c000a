"""Entry point of `python -m haven_shared.cli` (the same as the `haven` script)."""

from haven_shared.cli.commands import app

app(prog_name="haven")
