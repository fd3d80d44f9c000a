"""ASGI entry point: `uvicorn --factory intake.main:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from intake.bootstrap import bootstrap


def create_app() -> FastAPI:
    return bootstrap()
