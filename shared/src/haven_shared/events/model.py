"""The base class of every Haven integration event body, and the sealed-personal-data type.

An event body is a frozen pydantic model. Its class says what it is (`event_type`, versioned),
which aggregate it belongs to (`aggregate_type`, and the field holding the aggregate id, which
becomes the Kafka message key) and which topic carries it. Personal data never appears in clear:
it travels as `SealedPersonalData`, encrypted with the data subject's own key (DESIGN.md §5).
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field


class Event(BaseModel):
    """Base of every event body registered in the catalogue.

    Subclasses set the class variables and may override `example()` (the golden example
    checked in under `shared/schemas/`).
    """

    # extra="ignore": a consumer built against an older minor shape must accept events that
    # gained fields (the compatible way to evolve an event, DESIGN.md §3).
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    aggregate_type: ClassVar[str]
    aggregate_id_field: ClassVar[str]
    topic: ClassVar[str]
    # Free-text description put into the JSON Schema's description.
    summary: ClassVar[str] = ""

    def aggregate_id(self) -> str:
        """The id of the aggregate this event is about; also the Kafka message key."""
        return str(getattr(self, self.aggregate_id_field))

    def to_payload(self) -> dict[str, Any]:
        """The JSON-ready body stored in the outbox and sent as the Kafka message value."""
        return self.model_dump(mode="json")

    @classmethod
    def example(cls) -> Self:
        """The golden example of this event; every registered type must provide one."""
        raise NotImplementedError(f"{cls.__name__} has no golden example")


class SealedPersonalData(BaseModel):
    """Personal fields encrypted with the data subject's key (crypto-shredding).

    Erasing the subject deletes `key_id`'s key, which makes this value unreadable everywhere:
    databases, topics, backups and dead letters. The crypto module fills and opens it; events
    only carry it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str = Field(description="Id of the data subject's key in the key store.")
    alg: str = Field(default="A256GCM", description="Authenticated encryption algorithm.")
    nonce: str = Field(description="Base64url nonce.")
    ciphertext: str = Field(description="Base64url ciphertext with the authentication tag.")
