"""Options several `haven` commands share."""

from __future__ import annotations

from typing import Annotated

import typer

#: The acting user's password; by default the demo users' password from `make up`'s secrets.
Password = Annotated[str | None, typer.Option(
    "--password", envvar="HAVEN_PASSWORD", show_envvar=True, show_default=False,
    help="Password (default: HAVEN_DEMO_PASSWORD from .run/dev/secrets.env)")]
