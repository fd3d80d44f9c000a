"""ASGI entry point: `uvicorn --factory referral.main:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from referral.bootstrap import bootstrap


def create_app() -> FastAPI:
    return bootstrap()
