"""The checked-in OpenAPI documents (docs/openapi/) are what the three apps serve."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_exporter() -> ModuleType:
    spec = importlib.util.spec_from_file_location("export_openapi",
                                                  ROOT / "tools" / "export_openapi.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


exporter = _load_exporter()


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return exporter.render()


def test_the_checked_in_openapi_documents_match_the_apps(generated: dict[str, str]) -> None:
    # Fix with: uv run python tools/export_openapi.py
    assert exporter.stale(files=generated) == []


def test_each_service_exports_its_own_routes(generated: dict[str, str]) -> None:
    docs = {name: json.loads(text) for name, text in generated.items()}
    assert set(docs) == {"intake.json", "referral.json", "registry.json"}
    for doc in docs.values():
        assert doc["openapi"].startswith("3.")
        assert doc["paths"]
    assert any(p.startswith("/directory") for p in docs["registry.json"]["paths"])
    assert docs["intake.json"]["paths"] != docs["referral.json"]["paths"]


def test_an_edited_or_missing_document_is_reported_stale(
        generated: dict[str, str], tmp_path: Path) -> None:
    for name, text in generated.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert exporter.stale(tmp_path, generated) == []
    (tmp_path / "intake.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "registry.json").unlink()
    assert exporter.stale(tmp_path, generated) == ["intake.json", "registry.json"]
