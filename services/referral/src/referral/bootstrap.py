"""The one place the referral service's dependencies are wired."""

from __future__ import annotations

from fastapi import FastAPI

from haven_shared.app import build_service_app
from referral import __doc__ as description
from referral.config import Settings


def bootstrap(settings: Settings | None = None) -> FastAPI:
    """The referral application, built from `settings` (read from the environment by default)."""
    return build_service_app(settings or Settings(), description=description or "")
