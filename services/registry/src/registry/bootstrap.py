"""The one place the registry service's dependencies are wired."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from fastapi import FastAPI

from haven_shared.app import build_service_app
from haven_shared.outbox import Outbox
from haven_shared.uow import UnitOfWork
from registry import __doc__ as description
from registry.adapters.tables import create_directory_tables
from registry.api.directory import router as directory_router
from registry.api.errors import install_registry_errors
from registry.api.match_review import router as match_review_router
from registry.config import Settings
from registry.matching import MatchIndex
from registry.service_layer.events import translate
from registry.worker import OutboxRelayThread

log = logging.getLogger(__name__)
SOURCE = "/haven/registry"


def unit_of_work_factory(engine: sa.Engine) -> Callable[[], UnitOfWork]:
    """Fresh units of work on `engine`, translating directory events into provider events."""
    outbox = Outbox(SOURCE)
    return lambda: UnitOfWork(engine, outbox, translate=translate)


def bootstrap(settings: Settings | None = None,
              clock: Callable[[], datetime] | None = None) -> FastAPI:
    """The registry application, built from `settings` (read from the environment by default)."""
    settings = settings or Settings()
    app = build_service_app(settings, routers=[directory_router, match_review_router],
                            description=description or "")
    install_registry_errors(app)
    engine: sa.Engine = app.state.engine
    app.state.unit_of_work = unit_of_work_factory(engine)
    app.state.clock = clock or (lambda: datetime.now(UTC))
    # One incremental index per process; the person-index consumer fills it (issue 6, item 1).
    app.state.match_index = MatchIndex()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            create_directory_tables(engine)
        except sa.exc.OperationalError as exc:
            # Readiness reports the database; the service still starts to say so.
            log.warning("registry tables not created (%s)", type(exc).__name__)
        relay = OutboxRelayThread(settings, engine) if settings.relay_enabled else None
        if relay:
            relay.start()
        try:
            yield
        finally:
            if relay:
                relay.stop()

    app.router.lifespan_context = lifespan
    return app
