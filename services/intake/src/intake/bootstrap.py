"""The one place the intake service's dependencies are wired."""

from __future__ import annotations

from fastapi import FastAPI

from haven_shared.app import build_service_app
from intake import __doc__ as description
from intake.config import Settings


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """The intake application, built from `settings` (read from the environment by default)."""
    return build_service_app(settings or Settings(), description=description or "")
