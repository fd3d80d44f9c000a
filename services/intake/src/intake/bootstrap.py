"""The one place the intake service's dependencies are wired."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from fastapi import FastAPI

from haven_shared.app import build_service_app
from haven_shared.audit import CheckpointJob
from haven_shared.crypto import SubjectKeyring
from intake import __doc__ as description
from intake.adapters.matching_seal import MatchingOutbox
from intake.adapters.schema import create_schema
from intake.api import cases, erasure, matching_keys, records, support
from intake.api.problems import install_domain_errors
from intake.config import Settings
from intake.service_layer.unit_of_work import IntakeUnitOfWork
from intake.worker import IntakeWorker


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """The intake application, built from `settings` (read from the environment by default)."""
    settings = settings or Settings()
    app = build_service_app(settings, routers=[cases.router, records.router, support.router,
                                     erasure.router],
                            description=description or "", audit=True)
    engine = app.state.engine
    keyring = SubjectKeyring(settings.master_key.get_secret_value())
    # Tracing events also carry their matching-only part, sealed with the subject's matching
    # key, which the registry fetches with a signature under the secret the two share.
    outbox = MatchingOutbox("/haven/intake", keyring)
    app.state.matching_secret = settings.matching_key.get_secret_value().encode()
    app.include_router(matching_keys.router)
    # Every use case appends its audit entries in its own transaction (auditor API: /audit).
    app.state.uow_factory = partial(IntakeUnitOfWork, engine, keyring, outbox,
                                    audit=app.state.audit)
    install_domain_errors(app)
    # Tracing is set up by build_service_app (spans pass the shared attribute allow-list).

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        create_schema(engine)
        worker = (IntakeWorker(settings, engine, tracer_provider=app.state.tracer_provider)
                  if settings.embedded_worker else None)
        if worker:
            worker.start()
        # The audit chain's head is signed periodically, not only every 100 entries.
        every = settings.audit_checkpoint_interval_seconds
        file = settings.audit_checkpoints_file
        checkpoints = CheckpointJob(engine, app.state.audit, every,
                                    export_to=Path(file) if file else None).start() \
            if every > 0 else None
        try:
            yield
        finally:
            if checkpoints:
                checkpoints.stop()
            if worker:
                worker.stop()

    app.router.lifespan_context = lifespan
    return app
