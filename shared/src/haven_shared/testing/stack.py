"""The real servers a test session or benchmark runs against: PostgreSQL, Keycloak and Kafka.

`LocalStack.start()` drives the repo's own `deploy/*` scripts on free loopback ports in a run
directory of its own, so a test session never collides with `make up`. Setting
`HAVEN_TEST_STACK_DIR` to a directory keeps the stack there running between sessions (fast local
iteration: the first session starts it, later ones reuse it; `make stack-down` stops it).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[4]
DEPLOY = REPO_ROOT / "deploy"
SERVICES = ("intake", "referral", "registry")


class StackError(RuntimeError):
    """A server of the stack failed to start; the message names it and its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_block(size: int, tries: int = 50) -> int:
    """The first of `size` consecutive free ports (Kafka nodes take consecutive ports)."""
    for _ in range(tries):
        base = free_port()
        if base + size >= 65535:
            continue
        ok = True
        for p in range(base, base + size):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise StackError(f"no block of {size} free ports found")


@dataclass
class LocalStack:
    run_dir: Path
    postgres_port: int
    keycloak_port: int
    kafka_port: int
    kafka_brokers: int = 1
    secrets: dict[str, str] = field(default_factory=dict)
    _mgmt_port: int = 0
    _controller_port: int = 0
    # A stack in a directory of its own making removes that directory when it stops.
    _ephemeral: bool = False

    # ---- where things are -------------------------------------------------------------
    @property
    def kafka_bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{self.kafka_port + i}" for i in range(self.kafka_brokers))

    @property
    def keycloak_url(self) -> str:
        return f"http://127.0.0.1:{self.keycloak_port}"

    @property
    def issuer(self) -> str:
        return f"{self.keycloak_url}/realms/haven"

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/token"

    def database_url(self, db: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.postgres_port}/{db}"

    def create_database(self, prefix: str) -> str:
        """A new, empty database named `<prefix>_<random>`; its URL."""
        import sqlalchemy as sa

        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(self.database_url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return self.database_url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by `create_database`, closing any connection left to it."""
        import sqlalchemy as sa

        name = sa.make_url(url).database
        admin = sa.create_engine(self.database_url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()

    def env(self) -> dict[str, str]:
        """Environment for the deploy scripts of this stack."""
        return {
            **os.environ,
            "HAVEN_RUN_DIR": str(self.run_dir),
            "POSTGRES_PORT": str(self.postgres_port),
            "KEYCLOAK_PORT": str(self.keycloak_port),
            "KEYCLOAK_MGMT_PORT": str(self._mgmt_port),
            "KAFKA_PORT": str(self.kafka_port),
            "KAFKA_CONTROLLER_PORT": str(self._controller_port),
        }

    # ---- tokens -----------------------------------------------------------------------
    def password_token(self, username: str, client_id: str = "haven-cli") -> str:
        """An access token for a demo user, from the real token endpoint (password grant)."""
        r = httpx.post(
            self.token_url,
            data={
                "grant_type": "password",
                "client_id": client_id,
                "username": username,
                "password": self.secrets["HAVEN_DEMO_PASSWORD"],
            },
            timeout=30,
        )
        r.raise_for_status()
        return str(r.json()["access_token"])

    def client_token(self, client_id: str, secret_var: str) -> str:
        """An access token for a confidential client (client-credentials grant)."""
        r = httpx.post(
            self.token_url,
            data={"grant_type": "client_credentials"},
            auth=(client_id, self.secrets[secret_var]),
            timeout=30,
        )
        r.raise_for_status()
        return str(r.json()["access_token"])

    # ---- life cycle -------------------------------------------------------------------
    def _script(self, *args: str, timeout: float = 600) -> None:
        proc = subprocess.run(  # noqa: S603 - our own scripts, fixed arguments
            [str(DEPLOY / args[0]), *args[1:]],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise StackError(f"{' '.join(args)} failed:\n{proc.stderr[-4000:]}")

    def start_postgres(self) -> None:
        self._script("postgres/postgres.sh", "start")

    def start_keycloak(self) -> None:
        self._script("keycloak/keycloak.sh", "start")

    def start_kafka(self) -> None:
        self._script("kafka/kafka.sh", "start", "--brokers", str(self.kafka_brokers))

    def stop_postgres(self) -> None:
        self._script("postgres/postgres.sh", "stop")

    def stop_keycloak(self) -> None:
        self._script("keycloak/keycloak.sh", "stop")

    def stop_kafka(self) -> None:
        self._script("kafka/kafka.sh", "stop")

    def kill_kafka_node(self, node: int) -> None:
        self._script("kafka/kafka.sh", "kill", str(node))

    def start_kafka_node(self, node: int) -> None:
        self._script("kafka/kafka.sh", "start-node", str(node))

    def start(self) -> LocalStack:
        """Start every server (in parallel) and wait until each is ready."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._script("secrets.sh")
        self.secrets = _read_env_file(self.run_dir / "secrets.env")
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = [
                pool.submit(self.start_postgres),
                pool.submit(self.start_keycloak),
                pool.submit(self.start_kafka),
            ]
            errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise StackError("\n".join(str(e) for e in errors))
        (self.run_dir / "stack.json").write_text(json.dumps(self.describe()))
        return self

    def stop(self) -> None:
        for stop in (self.stop_kafka, self.stop_keycloak, self.stop_postgres):
            try:
                stop()
            except (StackError, subprocess.TimeoutExpired):
                pass
        if self._ephemeral:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def describe(self) -> dict[str, object]:
        d = asdict(self)
        d.pop("secrets")
        d.pop("_ephemeral")
        d["run_dir"] = str(self.run_dir)
        return d

    def alive(self) -> bool:
        """True when Keycloak answers and Kafka and PostgreSQL accept connections."""
        try:
            well_known = f"{self.issuer}/.well-known/openid-configuration"
            httpx.get(well_known, timeout=2).raise_for_status()
            for port in (self.postgres_port, self.kafka_port):
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except (httpx.HTTPError, OSError):
            return False
        return True

    @classmethod
    def create(cls, run_dir: Path | None = None, kafka_brokers: int = 1) -> LocalStack:
        """A stack on free ports in `run_dir` (a new temporary directory by default)."""
        ephemeral = run_dir is None
        if run_dir is None:
            base = REPO_ROOT / ".run"
            base.mkdir(exist_ok=True)
            run_dir = Path(tempfile.mkdtemp(prefix="test-", dir=base))
        stack = cls(
            run_dir=run_dir,
            postgres_port=free_port(),
            keycloak_port=free_port(),
            kafka_port=free_port_block(kafka_brokers),
            kafka_brokers=kafka_brokers,
        )
        stack._mgmt_port = free_port()
        stack._controller_port = free_port_block(kafka_brokers)
        stack._ephemeral = ephemeral
        return stack

    @classmethod
    def reuse_or_start(cls, run_dir: Path) -> LocalStack:
        """The stack already running in `run_dir`, or a new one started there."""
        stack = cls.described_in(run_dir)
        if stack is None:
            return cls.create(run_dir).start()
        return stack if stack.alive() else stack.start()

    @classmethod
    def described_in(cls, run_dir: Path) -> LocalStack | None:
        """The stack `run_dir`'s `stack.json` describes (running or not), if there is one."""
        described = run_dir / "stack.json"
        if not described.exists():
            return None
        d = json.loads(described.read_text())
        stack = cls(
            run_dir=run_dir,
            postgres_port=d["postgres_port"],
            keycloak_port=d["keycloak_port"],
            kafka_port=d["kafka_port"],
            kafka_brokers=d["kafka_brokers"],
        )
        stack._mgmt_port = d["_mgmt_port"]
        stack._controller_port = d["_controller_port"]
        stack.secrets = _read_env_file(run_dir / "secrets.env")
        return stack


def main(argv: list[str] | None = None) -> int:
    """`python -m haven_shared.testing.stack stop DIR`: stop the stack kept in DIR."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "stop":
        print("usage: python -m haven_shared.testing.stack stop DIR", file=sys.stderr)
        return 2
    stack = LocalStack.described_in(Path(args[1]).resolve())
    if stack is None:
        print(f"no stack described in {args[1]}")
        return 0
    stack.stop()
    (stack.run_dir / "stack.json").unlink(missing_ok=True)
    print(f"stopped the stack in {args[1]}")
    return 0


def _read_env_file(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll `predicate` until it returns a truthy value or `timeout` passes; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(interval)


if __name__ == "__main__":
    raise SystemExit(main())
