"""The one place the registry service's dependencies are wired."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import Session

from haven_shared.app import build_service_app
from haven_shared.audit import AuditLog, CheckpointJob
from haven_shared.crypto import SubjectKeyring
from haven_shared.outbox import Outbox
from haven_shared.uow import UnitOfWork
from registry import __doc__ as description
from registry.adapters.intake_matching import IntakeMatchingKeys, MatchingOpener
from registry.adapters.person_repository import PersonIndexRepository
from registry.adapters.schema import create_schema
from registry.api.directory import router as directory_router
from registry.api.errors import install_registry_errors
from registry.api.family_notification import router as family_notification_router
from registry.api.match_review import router as match_review_router
from registry.config import Settings
from registry.service_layer.events import translate
from registry.service_layer.person_index import PersonIndex, PersonIndexer
from registry.service_layer.unit_of_work import RegistryUnitOfWork
from registry.worker import OutboxRelayThread, PersonIndexConsumerThread

log = logging.getLogger(__name__)
SOURCE = "/haven/registry"


def unit_of_work_factory(engine: sa.Engine, audit: AuditLog | None = None
                         ) -> Callable[[], UnitOfWork]:
    """Fresh units of work on `engine`, translating domain events into catalogue events and
    appending the action's audit entries to `audit` in the same commit."""
    outbox = Outbox(SOURCE)
    return lambda: RegistryUnitOfWork(engine, outbox, translate=translate, audit=audit)


def load_person_index(engine: sa.Engine, keyring: SubjectKeyring, index: PersonIndex) -> None:
    """Rebuild the in-memory index from the committed person index entries."""
    with Session(engine) as session:
        index.rebuild(PersonIndexRepository(session, keyring).indexed())


def bootstrap(settings: Settings | None = None,
              clock: Callable[[], datetime] | None = None,
              intake_client: httpx.Client | None = None) -> FastAPI:
    """The registry application, built from `settings` (read from the environment by default).

    `intake_client` reaches intake for matching keys (default: `settings.intake_url`)."""
    settings = settings or Settings()
    # audit=True: the auditor API under /audit and the service's AuditLog as app.state.audit.
    app = build_service_app(settings, routers=[directory_router, match_review_router,
                                               family_notification_router],
                            description=description or "", audit=True)
    install_registry_errors(app)
    engine: sa.Engine = app.state.engine
    app.state.unit_of_work = unit_of_work_factory(engine, app.state.audit)
    app.state.clock = clock or (lambda: datetime.now(UTC))
    # One incremental index per process, rebuilt from the person index table at start-up and
    # fed by the consumer of intake's tracing events.
    keyring = SubjectKeyring(settings.master_key.get_secret_value())
    person_index = app.state.person_index = PersonIndex()
    secret = settings.matching_key.get_secret_value()
    indexer = PersonIndexer(person_index, keyring,
                            MatchingOpener(secret, IntakeMatchingKeys(
                                settings.intake_url, secret, client=intake_client)),
                            lambda: app.state.clock(), threshold=settings.review_threshold,
                            audit_log=app.state.audit)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            create_schema(engine)
            load_person_index(engine, keyring, person_index)
        except sa.exc.OperationalError as exc:
            # Readiness reports the database; the service still starts to say so.
            log.warning("registry schema not migrated (%s)", type(exc).__name__)
        spans = app.state.tracer_provider
        relay = (OutboxRelayThread(settings, engine, tracer_provider=spans)
                 if settings.relay_enabled else None)
        consumer = (PersonIndexConsumerThread(settings, engine, indexer.handlers(), SOURCE,
                                              tracer_provider=spans)
                    if settings.index_consumer_enabled else None)
        for thread in (relay, consumer):
            if thread:
                thread.start()
        # The audit chain's head is signed periodically, not only every 100 entries.
        every, file = settings.audit_checkpoint_interval_seconds, settings.audit_checkpoints_file
        checkpoints = CheckpointJob(engine, app.state.audit, every,
                                    export_to=Path(file) if file else None).start() \
            if every > 0 else None
        try:
            yield
        finally:
            if checkpoints:
                checkpoints.stop()
            for thread in (consumer, relay):
                if thread:
                    thread.stop()

    app.router.lifespan_context = lifespan
    return app
