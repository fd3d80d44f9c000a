"""Constrained field types of the API: every string has a maximum length; names are checked
for control and bidi characters and stored in NFC."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, StringConstraints

from intake.domain.errors import InvalidField
from intake.domain.validation import clean_name, clean_text


def _name(value: str) -> str:
    try:
        return clean_name("name", value)
    except InvalidField as e:
        # The message names the rule only; pydantic attaches the field's location.
        raise ValueError(e.message) from None


def _text(value: str) -> str:
    try:
        return clean_text("text", value) or ""
    except InvalidField as e:
        raise ValueError(e.message) from None


Name = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_name)]
ShortText = Annotated[str, StringConstraints(max_length=300), AfterValidator(_text)]
LongText = Annotated[str, StringConstraints(max_length=4000), AfterValidator(_text)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,3}$")]
LanguageTag = Annotated[str, StringConstraints(max_length=35,
                                               pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")]
ScriptCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][a-z]{3}$")]
Username = Annotated[str, StringConstraints(min_length=1, max_length=100,
                                            pattern=r"^[A-Za-z0-9._@-]+$")]
# A laboratory's sample reference, never sequence data: short, and not a run of bases.
_BASES = frozenset("ACGTN")


def _not_sequence(value: str) -> str:
    if len(value) >= 16 and set(value.upper()) <= _BASES:
        raise ValueError("must be a sample reference, not sequence data")
    return value


SampleReference = Annotated[
    str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$"),
    AfterValidator(_not_sequence),
]

Sex = Literal["female", "male", "other", "unknown"]
PartnerKind = Literal[
    "tracing-service", "forensic-service", "authority", "shelter", "clinic",
    "legal-aid", "counselling", "ngo",
]
Circumstances = Literal[
    "shipwreck", "desert-crossing", "detention", "border-crossing", "transit",
    "deportation", "trafficking", "other", "unknown",
]
Relationship = Literal[
    "parent", "child", "sibling", "spouse", "grandparent", "other-relative", "friend",
    "guardian", "other",
]
FoundSetting = Literal["seeking-family", "hospital", "detention", "shelter", "other"]
