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
from dataclasses import dataclass
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


#: Kafka binding version of the AsyncAPI Kafka bindings used below.
_KAFKA_BINDING = "0.5.0"
#: Topics are created by the services at start-up (auto-creation is off) with
#: `topic_partitions` (default 3) partitions; retention is the broker default (7 days, delete).
_PARTITIONS = 3
_RETENTION_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicUse:
    """Who writes a topic and which consumer groups read it (documented, not enforced here)."""

    producer: str
    consumers: tuple[tuple[str, str], ...] = ()  # (service, consumer group)


#: The topology, as configured in each service's settings (`*_consumer_group`) and workers.
TOPOLOGY: dict[str, TopicUse] = {
    "intake.case": TopicUse("intake", (("referral", "referral-intake"),
                                       ("registry", "registry-person-index"))),
    "referral.referral": TopicUse("referral", (("intake", "intake-outcomes"),)),
    "registry.match": TopicUse("registry", (("intake", "intake-outcomes"),)),
    "registry.provider": TopicUse("registry", (("referral", "referral"),)),
    "partner.{org}.referrals": TopicUse("referral", (("partner", "partner-{org}"),)),
    "partner.{org}.responses": TopicUse("partner", (("referral",
                                                     "referral-partner-responses"),)),
    "haven.test.probe": TopicUse("tests"),
}


def _channel(topic: str, message_types: list[str]) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "address": topic,
        "messages": {t: {"$ref": f"#/components/messages/{t}"} for t in message_types},
        "bindings": {"kafka": {
            "partitions": _PARTITIONS,
            "topicConfiguration": {"cleanup.policy": ["delete"],
                                   "retention.ms": _RETENTION_MS},
            "bindingVersion": _KAFKA_BINDING,
        }},
    }
    if "{org}" in topic:
        channel["parameters"] = {"org": {
            "description": "Code of the partner organisation (e.g. shelter-a); each partner's "
                           "Kafka ACLs allow only its own topics."}}
    return channel


def _operations(topic: str, message_types: list[str]) -> dict[str, Any]:
    # A topic missing from TOPOLOGY is published as by "unknown"; a contract test refuses that.
    use = TOPOLOGY.get(topic, TopicUse("unknown"))
    ref = {"$ref": f"#/channels/{topic}"}
    messages = [{"$ref": f"#/channels/{topic}/messages/{t}"}
                for t in message_types]
    ops: dict[str, Any] = {
        _op_id(use.producer, "send", topic): {
            "action": "send", "channel": ref, "messages": messages,
            "summary": f"{use.producer} publishes to {topic} (keyed by aggregate id).",
        }}
    for service, group in use.consumers:
        ops[_op_id(service, "receive", topic)] = {
            "action": "receive", "channel": ref, "messages": messages,
            "summary": f"{service} consumes {topic} in consumer group {group}.",
            "bindings": {"kafka": {"groupId": {"type": "string", "enum": [group]},
                                   "bindingVersion": _KAFKA_BINDING}},
        }
    return ops


def _op_id(service: str, action: str, topic: str) -> str:
    return f"{service}-{action}-" + topic.replace("{org}", "org").replace(".", "-")


def asyncapi(catalogue: Catalogue = CATALOGUE) -> dict[str, Any]:
    """An AsyncAPI 3.0 document: one channel per topic with its Kafka bindings, one message per
    event type, one operation per producer and per consumer group."""
    messages: dict[str, Any] = {}
    by_topic: dict[str, list[str]] = {}
    for model in catalogue:
        messages[model.event_type] = {
            "name": model.event_type,
            "title": model.__name__,
            "summary": model.summary,
            "contentType": "application/json",
            "headers": _CE_HEADERS,
            "payload": {"$ref": f"./{model.event_type}.schema.json"},
            "bindings": {"kafka": {
                "key": {"type": "string",
                        "description": f"{model.aggregate_type} id ({model.aggregate_id_field})"},
                "bindingVersion": _KAFKA_BINDING}},
        }
        by_topic.setdefault(model.topic, []).append(model.event_type)
    channels = {t: _channel(t, types) for t, types in sorted(by_topic.items())}
    operations: dict[str, Any] = {}
    for topic, types in sorted(by_topic.items()):
        operations.update(_operations(topic, types))
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Haven integration events", "version": "1.0.0",
                 "description": "CloudEvents 1.0 in Kafka binary mode; generated from the "
                                "catalogue in haven_shared.events."},
        "defaultContentType": "application/json",
        "servers": {"local": {
            "host": "127.0.0.1:9092", "protocol": "kafka",
            "description": "The broker `make up` starts (deploy/kafka/kafka.sh)."}},
        "channels": channels,
        "operations": operations,
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
