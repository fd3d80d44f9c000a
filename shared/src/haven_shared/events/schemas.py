"""JSON Schema and golden-example export of the event catalogue into `shared/schemas/`.

Each event type gets `<type>.schema.json` (JSON Schema 2020-12 of the body) and
`<type>.example.json` (the golden example body). Both are checked in; a test fails when they
differ from what the catalogue generates. Regenerate after changing an event:

    uv run python -m haven_shared.events.schemas          # write
    uv run python -m haven_shared.events.schemas --check  # exit 1 when stale
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from haven_shared.events.catalogue import CATALOGUE, Catalogue

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_for(model: Any) -> dict[str, Any]:
    """The JSON Schema of one event model's body, with Haven's metadata."""
    schema = model.model_json_schema(mode="serialization")
    schema = {
        "$schema": DIALECT,
        "$id": f"https://haven.example.org/schemas/{model.event_type}.schema.json",
        **schema,
        "x-haven-event-type": model.event_type,
        "x-haven-topic": model.topic,
        "x-haven-aggregate-type": model.aggregate_type,
        "x-haven-key": model.aggregate_id_field,
    }
    if model.summary:
        schema["description"] = model.summary
    return schema


def render(catalogue: Catalogue = CATALOGUE) -> dict[str, str]:
    """File name → exact file text for every registered event type."""
    files: dict[str, str] = {}
    for model in catalogue:
        files[f"{model.event_type}.schema.json"] = _dump(schema_for(model))
        files[f"{model.event_type}.example.json"] = _dump(model.example().to_payload())
    return files


def write(directory: Path = SCHEMA_DIR, catalogue: Catalogue = CATALOGUE) -> list[str]:
    """Write every schema and example; remove generated files no longer in the catalogue."""
    directory.mkdir(parents=True, exist_ok=True)
    files = render(catalogue)
    for old in directory.glob("*.json"):
        if old.name not in files:
            old.unlink()
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return sorted(files)


def stale(directory: Path = SCHEMA_DIR, catalogue: Catalogue = CATALOGUE) -> list[str]:
    """Names of files that are missing, different or no longer generated."""
    files = render(catalogue)
    out = [n for n, t in files.items()
           if not (directory / n).exists() or (directory / n).read_text("utf-8") != t]
    out += [p.name for p in directory.glob("*.json") if p.name not in files]
    return sorted(out)


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line: write the files, or with --check report stale ones."""
    import haven_shared.events  # noqa: F401  (registers the event types)

    args = sys.argv[1:] if argv is None else argv
    if "--check" in args:
        bad = stale()
        for name in bad:
            print(f"stale: {name}")
        return 1 if bad else 0
    for name in write():
        print(f"wrote {SCHEMA_DIR / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
