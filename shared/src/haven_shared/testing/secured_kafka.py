"""A broker of its own in secured mode (SASL/OAUTHBEARER against the stack's Keycloak, ACLs on).

Tests of the broker's access control start one per module: it trusts the realm of a running
`LocalStack`, and its internal PLAIN listener carries the admin (topics, ACLs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from haven_shared.testing.stack import DEPLOY, REPO_ROOT, LocalStack, free_port, free_port_block


@dataclass
class SecuredKafka:
    client_bootstrap: str
    internal_bootstrap: str
    env: dict[str, str]
    log: Path

    def admin_options(self) -> dict[str, Any]:
        """kafka-python options of the broker's admin on the internal listener."""
        return {
            "bootstrap_servers": self.internal_bootstrap,
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "PLAIN",
            "sasl_plain_username": "admin",
            "sasl_plain_password": self.env["HAVEN_KAFKA_ADMIN_PASSWORD"],
        }

    def denials(self, principal: str, resource: str) -> list[str]:
        """Lines of the broker log where its authorizer denied `principal` on `resource`."""
        return [line for line in self.log.read_text().splitlines()
                if f"{principal} is Denied" in line and resource in line]


@contextmanager
def secured_kafka(stack: LocalStack) -> Iterator[SecuredKafka]:
    run_dir = Path(tempfile.mkdtemp(prefix="kafka-sasl-", dir=REPO_ROOT / ".run"))
    shutil.copy(stack.run_dir / "secrets.env", run_dir / "secrets.env")  # the realm's secrets
    port, internal = free_port_block(1), free_port_block(1)
    env = {
        **os.environ,
        "HAVEN_RUN_DIR": str(run_dir),
        "KAFKA_PORT": str(port),
        "KAFKA_CONTROLLER_PORT": str(free_port()),
        "KAFKA_INTERNAL_PORT": str(internal),
        "KAFKA_OAUTH_ISSUER": stack.issuer,
    }
    script = str(DEPLOY / "kafka" / "kafka.sh")
    started = subprocess.run([script, "start"], env=env, capture_output=True, text=True,  # noqa: S603
                             timeout=300, check=False)
    try:
        if started.returncode != 0:
            raise RuntimeError(f"secured Kafka did not start: {started.stderr[-2000:]}")
        secrets = dict(line.split("=", 1) for line in
                       (run_dir / "secrets.env").read_text().split())
        yield SecuredKafka(f"127.0.0.1:{port}", f"127.0.0.1:{internal}", {**env, **secrets},
                           run_dir / "kafka" / "node1" / "kafka.log")
    finally:
        subprocess.run([script, "stop"], env=env, capture_output=True,  # noqa: S603
                       timeout=120, check=False)
        shutil.rmtree(run_dir, ignore_errors=True)
