"""Fixtures of the security suites: the three services and the world they are probed in."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from world import World, app_factories, build, settings_for

from haven_shared.testing.stack import LocalStack


@pytest.fixture(scope="session")
def world(stack: LocalStack) -> Iterator[World]:
    """The three services on fresh databases, with every object of the matrix built once."""
    urls = {s: stack.create_database(f"security_{s}") for s in ("intake", "referral", "registry")}
    with contextlib.ExitStack() as exits:
        clients = {}
        for service, make in app_factories().items():
            app = make(settings_for(stack, service, urls[service]))
            clients[service] = exits.enter_context(TestClient(app))
            exits.callback(app.state.engine.dispose)
        w = World(stack, clients)
        build(w)
        yield w
    for url in urls.values():
        stack.drop_database(url)
