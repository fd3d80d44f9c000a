"""One trace across services: a service's spans and audit entries of a trace id, and the
stitched timeline of several services, exportable as JSON lines or CSV.

Each service answers `GET /audit/traces/{trace_id}` (auditor only) with its own part: the spans
its tracer wrote to the local JSON-lines span file (when no OTLP collector is configured, see
`haven_shared.telemetry`) and its audit entries carrying that trace id. `stitch` merges the parts
of every service into one list ordered by time; `collect` asks each service for its part with
the auditor's token (the `haven audit-trace` command and the tests use it).

Timeline items are flat dicts: `at` (UTC ISO time), `service`, `source` ("span" or "audit"),
`name` (span name or audit action), and the fields of their kind. Spans hold only attribute
names on the telemetry allow-list; entries hold ids, never personal data.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from haven_shared.audit.model import AuditEntry, format_time

TIMELINE_COLUMNS = ["at", "service", "source", "name", "span_kind", "span_id",
                    "parent_span_id", "duration_ms", "actor", "roles", "organisation",
                    "purpose", "object_type", "object_id", "outcome", "seq", "attributes"]


def span_item(raw: Mapping[str, Any], service: str) -> dict[str, Any]:
    """A timeline item of one span as `JsonLinesSpanExporter` wrote it."""
    start = _parse_time(raw["start_time"])
    end = _parse_time(raw["end_time"]) if raw.get("end_time") else start
    kind = str(raw.get("kind", "")).removeprefix("SpanKind.").lower()
    return {
        "at": format_time(start), "service": service, "source": "span", "name": raw["name"],
        "span_kind": kind, "span_id": _hex(raw["context"]["span_id"]),
        "parent_span_id": _hex(raw.get("parent_id")),
        "duration_ms": round((end - start).total_seconds() * 1000, 3),
        "attributes": dict(raw.get("attributes") or {}),
    }


def entry_item(entry: AuditEntry) -> dict[str, Any]:
    """A timeline item of one audit entry."""
    return {
        "at": format_time(entry.occurred_at), "service": entry.service, "source": "audit",
        "name": entry.action, "actor": entry.actor, "roles": list(entry.roles),
        "organisation": entry.organisation, "purpose": entry.purpose,
        "object_type": entry.object_type, "object_id": entry.object_id,
        "outcome": entry.outcome, "seq": entry.seq,
    }


def read_spans(path: Path, trace_id: str, service: str) -> list[dict[str, Any]]:
    """The spans of `trace_id` in a JSON-lines span file (none if the file is missing)."""
    if not path.is_file():
        return []
    wanted = int(trace_id, 16)
    found = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if trace_id not in line and f"{wanted:#x}" not in line:
                continue  # cheap pre-filter before parsing
            try:
                raw = json.loads(line)
                if int(str(raw["context"]["trace_id"]), 16) == wanted:
                    found.append(span_item(raw, service))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a crash is not a span
    return found


def stitch(parts: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The items of every service's part (`{"spans": [...], "entries": [...]}`) in time order;
    at the same instant a span comes before an entry, entries in chain order."""
    items = [item for part in parts for key in ("spans", "entries") for item in part[key]]
    return sorted(items, key=lambda i: (i["at"], i["source"] != "span", i.get("seq") or 0))


def collect(clients: Mapping[str, Any], trace_id: str
            ) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Ask each service (`name → httpx.Client` carrying the auditor's token) for its part of
    the trace; returns the stitched timeline and, per service, "ok" or why it is missing."""
    parts, status = [], {}
    for name, client in clients.items():
        try:
            response = client.get(f"/audit/traces/{trace_id}")
        except Exception as exc:  # noqa: BLE001 - one service down leaves the others' parts
            status[name] = f"unreachable ({type(exc).__name__})"
            continue
        if response.status_code != 200:
            status[name] = f"HTTP {response.status_code}"
            continue
        parts.append(response.json())
        status[name] = "ok"
    return stitch(parts), status


def to_json_lines(items: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    for item in items:
        yield json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n"


def to_csv(items: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """A header, then a row per item (roles joined by ';', attributes as JSON)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=TIMELINE_COLUMNS, lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    for item in items:
        row = dict(item)
        row["roles"] = ";".join(item.get("roles") or [])
        row["attributes"] = json.dumps(item["attributes"], sort_keys=True) \
            if item.get("attributes") else ""
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in TIMELINE_COLUMNS})
    yield buffer.getvalue()


def _hex(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return format(int(str(value), 16), "016x")


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
