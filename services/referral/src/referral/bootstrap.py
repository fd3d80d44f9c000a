"""The one place the referral service's dependencies are wired."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from fastapi import FastAPI

from haven_shared.app import build_service_app
from haven_shared.audit import AuditLog
from referral import __doc__ as description
from referral.adapters.schema import create_schema
from referral.api import deadlines, partners, referrals
from referral.api.problems import install_domain_errors
from referral.config import Settings
from referral.domain.routing import Urgency
from referral.service_layer.events import EventTranslator
from referral.service_layer.referrals import Deps
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from referral.worker import ReferralWorker

log = logging.getLogger(__name__)


def make_deps(settings: Settings, engine: sa.Engine, audit: AuditLog | None = None) -> Deps:
    """The use cases' dependencies: units of work (with the audit log), event translation with
    the partner keys, SLAs."""
    audit = audit or AuditLog.from_settings(settings)
    return Deps(
        uows=lambda: ReferralUnitOfWork(engine, audit=audit),
        translate=EventTranslator(settings.master_key.get_secret_value().encode()),
        sla={Urgency(k): v for k, v in settings.sla().items()},
        audit=audit,
    )


def bootstrap(settings: Settings | None = None,
              clock: Callable[[], datetime] | None = None) -> FastAPI:
    """The referral application, built from `settings` (read from the environment by default)."""
    settings = settings or Settings()
    app = build_service_app(settings, routers=[referrals.router, referrals.cases, partners.router,
                                     deadlines.router],
                            description=description or "", audit=True)
    install_domain_errors(app)
    engine: sa.Engine = app.state.engine
    # Every use case appends its audit entries in its own transaction (auditor API: /audit).
    app.state.referral_deps = make_deps(settings, engine, app.state.audit)
    now = clock or (lambda: datetime.now(UTC))
    app.state.clock = now

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            create_schema(engine)
        except sa.exc.OperationalError as exc:
            # Readiness reports the database; the service still starts to say so.
            log.warning("referral tables not created (%s)", type(exc).__name__)
        worker = ReferralWorker(settings, engine, app.state.referral_deps, now,
                                tracer_provider=app.state.tracer_provider)
        worker.start()
        try:
            yield
        finally:
            worker.stop()

    app.router.lifespan_context = lifespan
    return app
