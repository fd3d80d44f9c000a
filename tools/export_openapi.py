"""Export the OpenAPI documents of intake, referral and registry into `docs/openapi/`.

Each app is built with its default settings (its database pointed at SQLite in a temporary
directory, telemetry off, environment variables of the service ignored) and never started: no
database, Kafka or Keycloak is contacted. Regenerate after changing an API:

    uv run python tools/export_openapi.py          # write docs/openapi/<service>.json
    uv run python tools/export_openapi.py --check  # exit 1 and name the stale files

This lives in tools/ rather than in haven_shared because the shared library imports no service.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "docs" / "openapi"
SERVICES = ("intake", "referral", "registry")


@contextmanager
def _without_env(prefix: str) -> Iterator[None]:
    """Hide the service's own environment variables so the export is the same everywhere."""
    saved = {k: v for k, v in os.environ.items() if k.upper().startswith(prefix)}
    for key in saved:
        del os.environ[key]
    try:
        yield
    finally:
        os.environ.update(saved)


def openapi_of(service: str) -> dict[str, Any]:
    """The OpenAPI document of `service`, from its app built (not started) with defaults."""
    config = importlib.import_module(f"{service}.config")
    bootstrap = importlib.import_module(f"{service}.bootstrap")
    with tempfile.TemporaryDirectory() as tmp, _without_env(f"{service.upper()}_"):
        settings = config.Settings(database_url=f"sqlite:///{tmp}/{service}.db",
                                   telemetry_exporter="none")
        app = bootstrap.bootstrap(settings)
        document = app.openapi()
        app.state.engine.dispose()
    return document


def render() -> dict[str, str]:
    """File name → exact text of every service's OpenAPI document."""
    return {f"{s}.json": json.dumps(openapi_of(s), indent=2, sort_keys=True,
                                    ensure_ascii=False) + "\n"
            for s in SERVICES}


def stale(directory: Path = OUT_DIR, files: dict[str, str] | None = None) -> list[str]:
    """Names of checked-in documents that are missing or differ from the apps."""
    files = render() if files is None else files
    return sorted(n for n, text in files.items()
                  if not (directory / n).exists() or (directory / n).read_text("utf-8") != text)


def write(directory: Path = OUT_DIR) -> list[Path]:
    """Write every document; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in render().items():
        (directory / name).write_text(text, encoding="utf-8")
        paths.append(directory / name)
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command line: write the documents, or with --check report the stale ones."""
    args = sys.argv[1:] if argv is None else argv
    if "--check" in args:
        bad = stale()
        for name in bad:
            print(f"stale: docs/openapi/{name} (run: uv run python tools/export_openapi.py)")
        return 1 if bad else 0
    for path in write():
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
