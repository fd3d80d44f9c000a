"""CloudEvents 1.0 envelope in Kafka binary content mode.

Attributes travel as `ce_*` headers (`ce_id`, `ce_source`, `ce_type`, `ce_specversion`, `ce_time`,
`ce_subject`), the body's media type as `content-type`, the body as JSON in the message value,
and the message key is the aggregate id. W3C trace context goes both as plain `traceparent` /
`tracestate` headers (what OpenTelemetry propagators read) and as the CloudEvents
distributed-tracing extension `ce_traceparent`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from opentelemetry import propagate

from haven_shared.events.model import Event

SPECVERSION = "1.0"
JSON = "application/json"
TRACE_HEADERS = ("traceparent", "tracestate")


class MalformedEvent(ValueError):
    """A Kafka message is not a readable Haven CloudEvent (missing attribute, bad JSON)."""


def _rfc3339(t: datetime) -> str:
    s = t.astimezone(UTC).isoformat()
    return s[:-6] + "Z" if s.endswith("+00:00") else s


@dataclass(frozen=True)
class Envelope:
    """One CloudEvent: attributes plus its JSON body (`data`)."""

    id: str
    type: str
    source: str
    subject: str
    time: datetime
    data: dict[str, Any]
    datacontenttype: str = JSON
    specversion: str = SPECVERSION
    trace: dict[str, str] = field(default_factory=dict)

    @classmethod
    def wrap(cls, event: Event, source: str, *, event_id: str | None = None,
             time: datetime | None = None) -> Envelope:
        """Envelope for `event`, stamped with the current trace context (if any)."""
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        return cls(
            id=event_id or str(uuid.uuid4()),
            type=event.event_type,
            source=source,
            subject=event.aggregate_id(),
            time=time or datetime.now(UTC),
            data=event.to_payload(),
            trace={k: v for k, v in carrier.items() if k in TRACE_HEADERS},
        )

    @property
    def key(self) -> str:
        """The Kafka message key: the aggregate id, so one aggregate stays on one partition."""
        return self.subject

    @property
    def traceparent(self) -> str | None:
        return self.trace.get("traceparent")

    def with_trace(self, trace: Mapping[str, str]) -> Envelope:
        """The same event carrying another trace context (the relay's producer span)."""
        return replace(self, trace={k: v for k, v in trace.items() if k in TRACE_HEADERS})

    def header_map(self) -> dict[str, str]:
        """Attributes as Kafka header names → text (stored as the outbox `headers` column)."""
        headers = {
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_specversion": self.specversion,
            "ce_time": _rfc3339(self.time),
            "ce_subject": self.subject,
            "content-type": self.datacontenttype,
        }
        headers.update(self.trace)
        if "traceparent" in self.trace:
            headers["ce_traceparent"] = self.trace["traceparent"]
        return headers

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        """Headers as kafka-python wants them."""
        return [(k, v.encode()) for k, v in self.header_map().items()]

    def body(self) -> bytes:
        """The message value: the event body as compact UTF-8 JSON."""
        return json.dumps(self.data, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], data: dict[str, Any]) -> Envelope:
        """Rebuild an envelope from a header map (outbox row or Kafka message)."""
        try:
            time = datetime.fromisoformat(headers["ce_time"].replace("Z", "+00:00"))
            return cls(
                id=headers["ce_id"],
                type=headers["ce_type"],
                source=headers["ce_source"],
                subject=headers.get("ce_subject", ""),
                time=time,
                data=data,
                datacontenttype=headers.get("content-type", JSON),
                specversion=headers["ce_specversion"],
                trace={k: headers[k] for k in TRACE_HEADERS if k in headers},
            )
        except (KeyError, ValueError) as exc:
            raise MalformedEvent(f"bad CloudEvent attributes: {type(exc).__name__}") from None

    @classmethod
    def from_kafka(cls, headers: Iterable[tuple[str, bytes | None]], value: bytes | None
                   ) -> Envelope:
        """Parse a Kafka message in binary mode; raises `MalformedEvent`."""
        text: dict[str, str] = {}
        for k, v in headers or ():
            if v is not None:
                try:
                    text[k.lower()] = v.decode()
                except UnicodeDecodeError:
                    raise MalformedEvent(f"header {k} is not UTF-8") from None
        if text.get("ce_specversion") != SPECVERSION:
            raise MalformedEvent("not a CloudEvents 1.0 binary-mode message")
        if not text.get("content-type", JSON).startswith(JSON):
            raise MalformedEvent("body is not JSON")
        try:
            data = json.loads(value or b"null")
        except ValueError:
            raise MalformedEvent("body is not valid JSON") from None
        if not isinstance(data, dict):
            raise MalformedEvent("body is not a JSON object")
        return cls.from_headers(text, data)
