"""The checked-in AsyncAPI document: current with the event catalogue, and valid for the
official AsyncAPI parser (`@asyncapi/parser`, run through node from tools/asyncapi/)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from haven_shared.events import CATALOGUE
from haven_shared.events import schemas as event_schemas

ASYNCAPI = event_schemas.SCHEMA_DIR / "asyncapi.json"


def _validate(command: list[str], path: Path) -> tuple[int, dict[str, Any]]:
    done = subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=300)
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_the_checked_in_asyncapi_document_is_what_the_catalogue_generates() -> None:
    # Fix with: uv run python -m haven_shared.events.schemas
    assert ASYNCAPI.read_text("utf-8") == event_schemas.render()["asyncapi.json"]


def test_an_edited_asyncapi_document_is_reported_stale(tmp_path: Path) -> None:
    event_schemas.write(tmp_path)
    doc = json.loads((tmp_path / "asyncapi.json").read_text("utf-8"))
    doc["info"]["version"] = "0.0.1"
    (tmp_path / "asyncapi.json").write_text(json.dumps(doc), encoding="utf-8")
    assert event_schemas.stale(tmp_path) == ["asyncapi.json"]


def test_the_official_parser_accepts_the_checked_in_document(
        asyncapi_validator: list[str]) -> None:
    code, report = _validate(asyncapi_validator, ASYNCAPI)
    assert (code, report["errors"]) == (0, [])
    assert report["valid"] is True
    assert set(report["channels"]) == {m.topic for m in CATALOGUE}
    assert set(report["messages"]) == {m.event_type for m in CATALOGUE}


def test_every_topic_has_kafka_bindings_and_its_consumer_groups() -> None:
    doc = json.loads(ASYNCAPI.read_text("utf-8"))
    for channel in doc["channels"].values():
        assert channel["bindings"]["kafka"]["partitions"] >= 1
        assert channel["bindings"]["kafka"]["topicConfiguration"]["retention.ms"] > 0
        for ref in channel["messages"].values():
            message = doc["components"]["messages"][ref["$ref"].rsplit("/", 1)[1]]
            assert message["bindings"]["kafka"]["key"]["type"] == "string"
    groups = {op["bindings"]["kafka"]["groupId"]["enum"][0]
              for op in doc["operations"].values() if op["action"] == "receive"}
    assert {"intake-outcomes", "registry-person-index", "referral",
            "referral-partner-responses"} <= groups


def test_the_official_parser_rejects_a_broken_document(
        asyncapi_validator: list[str], tmp_path: Path) -> None:
    for schema in event_schemas.SCHEMA_DIR.glob("*.schema.json"):
        shutil.copy(schema, tmp_path / schema.name)
    doc = json.loads(ASYNCAPI.read_text("utf-8"))
    first = next(iter(doc["channels"].values()))
    first["messages"]["bogus"] = {"$ref": "#/components/messages/no-such-message"}
    del doc["info"]["title"]
    (tmp_path / "asyncapi.json").write_text(json.dumps(doc), encoding="utf-8")
    code, report = _validate(asyncapi_validator, tmp_path / "asyncapi.json")
    assert code == 1
    assert report["valid"] is False
    assert report["errors"]


def test_every_topic_in_the_catalogue_has_a_known_producer() -> None:
    # Add a TopicUse to haven_shared.events.schemas.TOPOLOGY for a new topic.
    assert {m.topic for m in CATALOGUE} <= set(event_schemas.TOPOLOGY)
    doc = json.loads(ASYNCAPI.read_text("utf-8"))
    senders = {op["channel"]["$ref"].rsplit("/", 1)[1]
               for op_id, op in doc["operations"].items()
               if op["action"] == "send" and not op_id.startswith("unknown-")}
    assert senders == set(doc["channels"])
