"""Fixtures of the contract tests: the AsyncAPI parser from npm, installed on first use."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI_TOOL = ROOT / "tools" / "asyncapi"


@pytest.fixture(scope="session")
def asyncapi_validator() -> list[str]:
    """The command validating an AsyncAPI file (append its path); runs `npm ci` once if needed.

    Fails (never skips) when node or npm is missing: the contract must be checked in CI.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("node and npm are needed to validate the AsyncAPI document "
                    "(install Node.js 20+); the contract tests do not skip without them")
    if not (ASYNCAPI_TOOL / "node_modules" / "@asyncapi" / "parser").is_dir():
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                              cwd=ASYNCAPI_TOOL, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            pytest.fail(f"npm ci in {ASYNCAPI_TOOL} failed:\n{done.stdout}\n{done.stderr}")
    return [node, str(ASYNCAPI_TOOL / "validate.mjs")]
