"""Fixtures of the fuzz suite: the three services in-process on fresh PostgreSQL databases."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from haven_shared.testing.stack import LocalStack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "security"))

from world import World, app_factories, settings_for  # noqa: E402


@pytest.fixture(scope="session")
def fuzz_world(stack: LocalStack) -> Iterator[World]:
    """The three services (background workers off) on databases of their own, with tokens."""
    urls = {s: stack.create_database(f"fuzz_{s}") for s in ("intake", "referral", "registry")}
    with contextlib.ExitStack() as exits:
        clients = {}
        for service, make in app_factories().items():
            app = make(settings_for(stack, service, urls[service]))
            clients[service] = exits.enter_context(TestClient(app))
            exits.callback(app.state.engine.dispose)
        yield World(stack, clients)
    for url in urls.values():
        stack.drop_database(url)
