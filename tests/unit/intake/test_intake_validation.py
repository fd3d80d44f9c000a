"""Rules on names, dates and ages shared by every intake record."""

from __future__ import annotations

from datetime import date

import pytest

from intake.domain.errors import InvalidField
from intake.domain.validation import age_on, clean_name, clean_text, is_minor, not_before


def test_names_are_returned_in_nfc() -> None:
    assert clean_name("n", "Jose\u0301") == "Jos\u00e9"


@pytest.mark.parametrize("name", ["A\u202eB", "A\u2067B", "A\u200fB", "A\x07B", "A\nB",
                                  "A\ue000B"])
def test_names_with_control_bidi_or_private_characters_are_refused(name: str) -> None:
    with pytest.raises(InvalidField) as e:
        clean_name("names.0.text", name)
    assert e.value.field == "names.0.text"
    assert name not in str(e.value)


def test_zero_width_non_joiner_is_kept_for_persian_names() -> None:
    assert clean_name("n", "\u0645\u06cc\u200c\u0631\u0648\u062f") == \
        "\u0645\u06cc\u200c\u0631\u0648\u062f"


def test_blank_names_are_refused() -> None:
    with pytest.raises(InvalidField):
        clean_name("n", "   ")


def test_free_text_keeps_line_breaks_but_refuses_other_controls() -> None:
    assert clean_text("t", "line one\nline two") == "line one\nline two"
    with pytest.raises(InvalidField):
        clean_text("t", "bell\x07")


def test_age_counts_completed_years() -> None:
    assert age_on(date(2008, 6, 2), date(2026, 6, 1)) == 17
    assert age_on(date(2008, 6, 2), date(2026, 6, 2)) == 18


def test_minor_by_birth_date_or_estimated_age() -> None:
    today = date(2026, 1, 1)
    assert is_minor(date(2010, 1, 1), None, today)
    assert is_minor(None, 16, today)
    assert not is_minor(date(1990, 1, 1), None, today)
    assert not is_minor(None, None, today)


def test_a_date_before_its_lower_bound_names_the_field() -> None:
    with pytest.raises(InvalidField) as e:
        not_before("last_seen.date", date(2020, 1, 1), "date_of_birth", date(2021, 1, 1))
    assert e.value.field == "last_seen.date" and e.value.code == "date-order"
