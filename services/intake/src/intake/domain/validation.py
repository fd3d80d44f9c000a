"""Rules for free text and dates that hold for every record kind."""

from __future__ import annotations

import unicodedata
from datetime import date

from intake.domain.errors import InvalidField

# Bidirectional formatting characters: they can make a name display as something else
# (Trojan-source style), so names refuse them outright.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
ADULT_AGE = 18
MAX_AGE = 120


def clean_name(field: str, value: str) -> str:
    """The name in NFC; `InvalidField` for empty names, control or bidi characters."""
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise InvalidField(field, "must not be empty", "empty")
    for ch in text:
        if ch in BIDI_CONTROLS:
            raise InvalidField(field, "must not contain bidirectional control characters",
                               "bidi-control")
        category = unicodedata.category(ch)
        # Cc: C0/C1 controls (incl. newlines); Cs/Co/Cn: surrogates, private use, unassigned.
        # Cf is allowed otherwise: ZWNJ/ZWJ are needed to write Persian, Indic and other names.
        if category in ("Cc", "Cs", "Co", "Cn"):
            raise InvalidField(field, "must not contain control or unassigned characters",
                               "control-character")
    return text


def clean_text(field: str, value: str | None) -> str | None:
    """Free text in NFC; control characters other than line breaks and tabs refused."""
    if value is None:
        return None
    text = unicodedata.normalize("NFC", value).strip()
    for ch in text:
        if ch in BIDI_CONTROLS or (unicodedata.category(ch) == "Cc" and ch not in "\n\r\t"):
            raise InvalidField(field, "must not contain control characters",
                               "control-character")
    return text or None


def not_in_future(field: str, value: date | None, today: date) -> None:
    """`InvalidField` when `value` lies after `today`."""
    if value is not None and value > today:
        raise InvalidField(field, "must not be in the future", "future-date")


def not_before(field: str, value: date | None, other_field: str, other: date | None) -> None:
    """`InvalidField` on `field` when it lies before `other` (both known)."""
    if value is not None and other is not None and value < other:
        raise InvalidField(field, f"must not be before {other_field}", "date-order")


def plausible_age(field: str, age: int | None) -> None:
    """`InvalidField` for ages outside 0..120 years."""
    if age is not None and not 0 <= age <= MAX_AGE:
        raise InvalidField(field, f"must be between 0 and {MAX_AGE}", "impossible-age")


def age_on(born: date, on: date) -> int:
    """Completed years between `born` and `on`."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def is_minor(date_of_birth: date | None, estimated_age: int | None, today: date) -> bool:
    """Whether the date of birth or the estimated age says the person is under 18."""
    if date_of_birth is not None and age_on(date_of_birth, today) < ADULT_AGE:
        return True
    return estimated_age is not None and estimated_age < ADULT_AGE
