"""ASGI entry point: `uvicorn --factory registry.main:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from registry.bootstrap import bootstrap


def create_app() -> FastAPI:
    return bootstrap()
