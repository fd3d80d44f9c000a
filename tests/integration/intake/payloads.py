"""Valid request bodies for intake's API, to be varied by each test."""

from __future__ import annotations

from typing import Any


def missing_person(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "names": [{"text": "Amani Tesfaye", "script": "Latn", "romanised": True},
                  {"text": "ኣማኒ ተስፋየ", "script": "Ethi"}],
        "sex": "female",
        "date_of_birth": "1996-03-14",
        "nationalities": ["ER"],
        "languages": ["ti", "ar"],
        "physical_description": "Scar on the left forearm.",
        "last_seen": {"place": "Zuwara, Libya", "date": "2025-06-02",
                      "circumstances": "shipwreck", "route": "Central Mediterranean"},
        "enquirer": {"name": "Selam Tesfaye", "relationship": "sibling",
                     "contact": "+31 6 0000 0000"},
        "sharing_scope": ["tracing-service", "forensic-service"],
    }
    body.update(overrides)
    return body


def found_person(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "names": [{"text": "Youssef Benali"}],
        "sex": "male",
        "estimated_age": 30,
        "nationalities": ["MA"],
        "languages": ["ar"],
        "found_setting": "hospital",
        "found_place": "Almería general hospital",
        "found_date": "2025-09-10",
    }
    body.update(overrides)
    return body


def remains(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "found_place": "Beach near Lampedusa",
        "found_date": "2025-07-01",
        "estimated_sex": "male",
        "estimated_age_min": 25,
        "estimated_age_max": 35,
        "date_of_death": "2025-06-20",
        "post_mortem_interval_days": 11,
        "description": "Wearing a red jacket with the label Kassala Tailors.",
        "personal_effects": ["Silver ring engraved Yonas"],
        "dna_sample_reference": "LAB-PA-2025-0042",
    }
    body.update(overrides)
    return body


# The purpose of use every read of a case states (`X-Purpose-Of-Use`); without it reads are 400.
READ = {"X-Purpose-Of-Use": "family-tracing"}
