"""Rules for free text the registry stores: NFC, and no control characters."""

from __future__ import annotations

import unicodedata


def clean_line(value: str) -> str:
    """`value` in NFC; ValueError when it holds any control character (names, addresses)."""
    value = unicodedata.normalize("NFC", value)
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("Control characters are not allowed")
    return value


def clean_text(value: str) -> str:
    """`value` in NFC; control characters other than line breaks and tabs are refused."""
    value = unicodedata.normalize("NFC", value)
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in value):
        raise ValueError("Control characters are not allowed")
    return value
