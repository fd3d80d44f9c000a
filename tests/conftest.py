"""Session-wide fixtures: the real PostgreSQL, Keycloak and Kafka every integration test uses.

The stack starts once per test session on free loopback ports and stops at the end. With
HAVEN_TEST_STACK_DIR set, it is kept running in that directory and reused by later sessions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from haven_shared.testing.stack import LocalStack


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    keep = os.environ.get("HAVEN_TEST_STACK_DIR")
    if keep:
        yield LocalStack.reuse_or_start(Path(keep).resolve())
        return
    s = LocalStack.create()
    try:
        s.start()
    except Exception:
        s.stop()
        raise
    yield s
    s.stop()
