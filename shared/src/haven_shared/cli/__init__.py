"""`haven`: the command line of Haven for people running it (console script of haven-shared).

It talks to the running services over REST with a token from Keycloak; see
`haven_shared.cli.config` for the settings it reads and `haven --help` for the commands.
"""

from haven_shared.cli.commands import app

__all__ = ["app"]
