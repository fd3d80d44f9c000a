"""Where the `haven` CLI finds Keycloak and the services: environment, then `secrets.env`.

Variables (all optional): HAVEN_KEYCLOAK_ISSUER (default the local realm), HAVEN_INTAKE_URL,
HAVEN_REFERRAL_URL, HAVEN_REGISTRY_URL (default ports 8001-8003 on 127.0.0.1), HAVEN_CLI_CLIENT
(default `haven-cli`), HAVEN_PASSWORD or HAVEN_DEMO_PASSWORD (the demo users' password),
HAVEN_MASTER_KEY, HAVEN_RUN_DIR (default `.run/dev`, where `secrets.env` and the SQLite files of
`make up` live).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SERVICE_PORTS = {"intake": 8001, "referral": 8002, "registry": 8003}


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a shell env file (comments, `export` and quotes allowed)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text("utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


@dataclass(frozen=True)
class CliSettings:
    """Everything the CLI needs to reach the running services."""

    issuer: str
    service_urls: Mapping[str, str]
    client_id: str
    password: str
    master_key: str
    run_dir: Path

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None) -> CliSettings:
        """Settings from `env` (default the process environment) over `<run dir>/secrets.env`."""
        env = dict(os.environ if env is None else env)
        run_dir = Path(env.get("HAVEN_RUN_DIR", ".run/dev"))
        merged = {**read_env_file(run_dir / "secrets.env"), **env}
        return cls(
            issuer=merged.get("HAVEN_KEYCLOAK_ISSUER", "http://127.0.0.1:8080/realms/haven"),
            service_urls={s: merged.get(f"HAVEN_{s.upper()}_URL", f"http://127.0.0.1:{port}")
                          for s, port in SERVICE_PORTS.items()},
            client_id=merged.get("HAVEN_CLI_CLIENT", "haven-cli"),
            password=merged.get("HAVEN_PASSWORD") or merged.get("HAVEN_DEMO_PASSWORD", ""),
            master_key=merged.get("HAVEN_MASTER_KEY", ""),
            run_dir=run_dir,
        )
