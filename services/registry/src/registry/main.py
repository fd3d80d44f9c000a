"""ASGI entry point: `uvicorn --factory registry.main:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from haven_shared.app import make_tracing_global
from registry.bootstrap import bootstrap


def create_app() -> FastAPI:
    return make_tracing_global(bootstrap())
