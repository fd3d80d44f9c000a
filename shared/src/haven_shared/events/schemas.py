"""JSON Schema and golden-example export of the event catalogue into `shared/schemas/`.

Each event type gets `<type>.schema.json` (JSON Schema 2020-12 of the body) and
`<type>.example.json` (the golden example body); `asyncapi.json` (AsyncAPI 3.0) lists every
topic with its messages, CloudEvents headers and key. All are checked in; a test fails when they
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
    files["asyncapi.json"] = _dump(asyncapi(catalogue))
    return files


_CE_HEADERS = {
    "type": "object",
    "required": ["ce_id", "ce_source", "ce_type", "ce_specversion", "ce_time", "content-type"],
    "properties": {
        "ce_id": {"type": "string", "description": "Event id; consumers deduplicate by it."},
        "ce_source": {"type": "string", "description": "Producing service, e.g. /haven/intake."},
        "ce_type": {"type": "string"},
        "ce_specversion": {"const": "1.0"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string", "description": "Aggregate id (also the key)."},
        "content-type": {"const": "application/json"},
        "traceparent": {"type": "string", "description": "W3C trace context."},
        "tracestate": {"type": "string"},
        "ce_traceparent": {"type": "string", "description": "CloudEvents tracing extension."},
    },
}


def asyncapi(catalogue: Catalogue = CATALOGUE) -> dict[str, Any]:
    """An AsyncAPI 3.0 document: one channel per topic, one message per event type."""
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for model in catalogue:
        messages[model.event_type] = {
            "name": model.event_type,
            "title": model.__name__,
            "summary": model.summary,
            "contentType": "application/json",
            "headers": _CE_HEADERS,
            "payload": {"$ref": f"./{model.event_type}.schema.json"},
            "bindings": {"kafka": {"key": {
                "type": "string",
                "description": f"{model.aggregate_type} id ({model.aggregate_id_field})"}}},
        }
        channel = channels.setdefault(model.topic, {"address": model.topic, "messages": {}})
        channel["messages"][model.event_type] = {
            "$ref": f"#/components/messages/{model.event_type}"}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Haven integration events", "version": "1.0.0",
                 "description": "CloudEvents 1.0 in Kafka binary mode; generated from the "
                                "catalogue in haven_shared.events."},
        "defaultContentType": "application/json",
        "channels": channels,
        "components": {"messages": messages},
    }


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
