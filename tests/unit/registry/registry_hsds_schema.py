"""The official Open Referral HSDS 3.0 JSON schemas, loaded from ../shared (never copied here).

`HAVEN_SHARED_DATA` names the folder holding `hsds-3.0/` (default: `<repo root>/../shared/data`).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

REPO_ROOT = Path(__file__).resolve().parents[3]
BASE_URI = "https://openreferral.org/hsds/3.0/"


def hsds_dir() -> Path:
    """The folder of the HSDS 3.0 schema files."""
    data = Path(os.environ.get("HAVEN_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
    return data / "hsds-3.0"


def require_hsds_schemas() -> Path:
    """The schema folder, or skip the test saying ../shared is absent."""
    folder = hsds_dir()
    if not (folder / "service.json").is_file():
        pytest.skip(f"../shared is absent: no HSDS 3.0 schemas at {folder} "
                    "(set HAVEN_SHARED_DATA to the folder holding hsds-3.0/)")
    return folder


@cache
def _validator(folder: Path, root: str) -> Draft202012Validator:
    # The files carry neither $schema nor $id and refer to each other by file name ("$ref":
    # "organization.json"), so each is registered under a URI ending in its own file name.
    resources = []
    for path in folder.glob("*.json"):
        contents = json.loads(path.read_text("utf-8"))
        resources.append((BASE_URI + path.name, DRAFT202012.create_resource(contents)))
    registry: Registry = Registry().with_resources(resources)
    return Draft202012Validator({"$ref": BASE_URI + root}, registry=registry,
                                format_checker=FormatChecker())


def schema_errors(instance: Any, root: str = "service.json") -> list[str]:
    """Every violation of the official `root` schema, as "path: message" lines."""
    folder = require_hsds_schemas()
    validator = _validator(folder, root)
    return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in validator.iter_errors(instance)]


def page_errors(page: dict[str, Any]) -> list[str]:
    """Violations in an HSDS page: its paging fields and each service against service.json."""
    folder = require_hsds_schemas()
    spec = json.loads((folder / "openapi.json").read_text("utf-8"))
    page_schema = spec["components"]["schemas"]["Page"]
    errors = [f"page: {e.message}" for e in Draft202012Validator(page_schema).iter_errors(page)]
    for i, service in enumerate(page.get("contents", [])):
        errors += [f"contents/{i}/{e}" for e in schema_errors(service)]
    return errors
