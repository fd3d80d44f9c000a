"""Liveness and readiness: `/healthz` says the process runs, `/readyz` that its dependencies
answer."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from haven_shared.auth import TokenVerifier
from haven_shared.db import ping
from haven_shared.errors import ServiceUnavailable


def kafka_reachable(bootstrap_servers: list[str], timeout: float = 2.0) -> None:
    """Raise ConnectionError unless at least one bootstrap broker accepts a connection."""
    for server in bootstrap_servers:
        host, _, port = server.rpartition(":")
        try:
            socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout).close()
            return
        except OSError:
            continue
    raise ConnectionError("no Kafka bootstrap server accepts connections")


@dataclass
class ReadinessProbe:
    """The checks `/readyz` runs; each is a name and a callable that raises when not ready."""

    checks: dict[str, Callable[[], None]] = field(default_factory=dict)

    def run(self) -> dict[str, str]:
        results: dict[str, str] = {}
        for name, check in self.checks.items():
            try:
                check()
                results[name] = "ok"
            except (OSError, ConnectionError, ServiceUnavailable, Exception) as e:  # noqa: BLE001
                # The class name is enough to act on and carries no data.
                results[name] = f"unavailable ({type(e).__name__})"
        return results

    @classmethod
    def standard(
        cls, engine: Engine, bootstrap_servers: list[str], verifier: TokenVerifier
    ) -> ReadinessProbe:
        return cls(
            {
                "database": lambda: ping(engine),
                "kafka": lambda: kafka_reachable(bootstrap_servers),
                "keycloak": verifier.check_reachable,
            }
        )
