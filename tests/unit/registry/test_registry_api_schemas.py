"""Request bodies of the directory API: clean text, and the mapping to domain objects."""

from __future__ import annotations

from uuid import uuid4

import pytest
from pydantic import ValidationError

from registry.api.schemas import OrganisationIn, ServiceIn
from registry.domain.directory import ServiceKind


def test_names_are_stored_in_nfc_and_control_characters_are_refused() -> None:
    decomposed = "Cafe\u0301 des Re\u0301fugie\u0301s"
    assert OrganisationIn(name=decomposed).name == "Café des Réfugiés"
    with pytest.raises(ValidationError) as info:
        OrganisationIn(name="Shelter\x00\x1b[31m")
    assert [e["msg"] for e in info.value.errors()] == [
        "Value error, Control characters are not allowed"]
    assert OrganisationIn(name="Shelter", description="Line one\nLine two").description


def test_a_service_body_becomes_domain_details_with_new_ids_for_new_parts() -> None:
    body = ServiceIn(organisation_id=uuid4(), name="Legal clinic", kind=ServiceKind.LEGAL_AID,
                     locations=[{"name": "Office"}], languages=["ar", "ti-ER"])
    details = body.details()
    assert details.kind is ServiceKind.LEGAL_AID and details.languages == ("ar", "ti-ER")
    assert details.locations[0].id is not None
    with pytest.raises(ValidationError):
        ServiceIn(organisation_id=uuid4(), name="x", kind="shelter", languages=["not a tag"])
