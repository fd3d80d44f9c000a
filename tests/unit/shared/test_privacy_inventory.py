"""The personal-data inventory covers every table and event, and partners get only their purpose.

Walks every table of the three services (SQLModel/SQLAlchemy) and every event model of the
catalogue (pydantic, nested models included): a field whose name looks like personal data must
be tagged in `haven_shared.privacy.inventory` (or listed there as not personal, with a reason).
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator

import pytest
from pydantic import BaseModel

from haven_shared.events import CATALOGUE
from haven_shared.privacy import inventory as inv

#: Name parts that suggest personal data (matched against `_`-separated parts of the name).
HINTS = frozenset(
    """
    name names birth dob sex gender age minor contact phone email address nationality
    nationalities language languages description notes note reason reasons place dna enquirer
    person subject actor caseworker assignees indicators need needs shared consent evidence
    reviews decisions sealed value key payload headers effects scope override by username
    roles ref locations location setting due explanation pseudonym
""".split()
)


def looks_personal(name: str) -> bool:
    return any(part in HINTS for part in re.split(r"[_.]", name.lower()))


def all_tables() -> dict[str, list[str]]:
    from intake.adapters.schema import intake_tables
    from referral.adapters.schema import referral_tables
    from registry.adapters.schema import registry_tables

    tables: dict[str, list[str]] = {}
    for table in [*intake_tables(), *referral_tables(), *registry_tables()]:
        tables[table.name] = [c.name for c in table.columns]
    return tables


def _models_in(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def field_paths(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every field path of the model, nested models' fields included (`shared.sex`)."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        yield path
        for nested in _models_in(info.annotation):
            yield from field_paths(nested, f"{path}.")


def events() -> dict[str, type[BaseModel]]:
    return {m.event_type: m for m in CATALOGUE if not m.event_type.startswith("haven.test.")}


def _covered(tags: dict[str, inv.Tag], path: str) -> bool:
    parts = path.split(".")
    return any(".".join(parts[:i]) in tags for i in range(1, len(parts) + 1))


def test_every_personal_looking_column_is_tagged() -> None:
    untagged = [
        f"{t}.{c}"
        for t, cols in all_tables().items()
        for c in cols
        if looks_personal(c)
        and c not in inv.TABLES.get(t, {})
        and f"{t}.{c}" not in inv.NOT_PERSONAL
    ]
    assert not untagged, f"tag in haven_shared/privacy/inventory.py: {untagged}"


def test_every_personal_looking_event_field_is_tagged() -> None:
    untagged = []
    for event_type, model in events().items():
        tags = inv.EVENTS.get(event_type, {})
        for path in field_paths(model):
            if not looks_personal(path.split(".")[-1]) or _covered(tags, path):
                continue
            if any(
                f"{event_type}.{p}" in inv.NOT_PERSONAL
                for p in (path, *(path.rsplit(".", k)[0] for k in range(1, path.count(".") + 1)))
            ):
                continue
            untagged.append(f"{event_type}: {path}")
    assert not untagged, f"tag in haven_shared/privacy/inventory.py: {untagged}"


def test_every_entry_names_a_field_that_exists_and_uses_known_terms() -> None:
    tables = all_tables()
    # (A table or event type that is not there at all is skipped: the inventory may describe a
    # store before or after its code is in this tree; a renamed field is caught.)
    stale = [
        f"{t}.{c}"
        for t, cols in inv.TABLES.items()
        if t in tables
        for c in cols
        if c not in tables[t]
    ]
    known = events()
    stale += [
        f"{e}: {p}"
        for e, paths in inv.EVENTS.items()
        if e in known
        for p in paths
        if p not in set(field_paths(known[e]))
    ]
    for key in inv.NOT_PERSONAL:
        table, _, column = key.partition(".")
        if table in tables:
            stale += [] if column in tables[table] else [key]
        elif key.startswith("haven."):
            event_type, field = key.rsplit(".", 1)
            if event_type in known and field not in set(field_paths(known[event_type])):
                stale.append(key)
    assert not stale, f"the inventory names fields that do not exist: {stale}"
    tags = [
        *(t for c in inv.TABLES.values() for t in c.values()),
        *(t for c in inv.EVENTS.values() for t in c.values()),
    ]
    assert {t.category for t in tags} <= set(inv.CATEGORIES)
    assert {t.purpose for t in tags} <= set(inv.PURPOSES)
    assert {t.retention for t in tags} <= set(inv.RETENTION)
    # Each category is used: the inventory is not a single bucket.
    assert {t.category for t in tags} == set(inv.CATEGORIES)


def test_partner_events_carry_only_what_their_purpose_needs() -> None:
    partner = {t: m for t, m in events().items() if str(m.topic).startswith("partner.")}
    assert set(partner) == set(inv.PARTNER_PURPOSES), "every partner event has a purpose"
    for event_type, model in partner.items():
        purpose, allowed = inv.PARTNER_PURPOSES[event_type]
        assert purpose in inv.PURPOSES
        leaves = {
            p
            for p in field_paths(model)
            if not any(q.startswith(p + ".") for q in field_paths(model))
        }
        assert leaves - allowed == set(), f"{event_type} carries fields outside {purpose}"


@pytest.mark.parametrize(
    "name,expected",
    [
        ("date_of_birth", True),
        ("enquirer_sealed", True),
        ("recorded_by", True),
        ("organisation_id", False),
        ("created_at", False),
        ("version", False),
    ],
)
def test_the_hint_list_recognises_personal_names(name: str, expected: bool) -> None:
    assert looks_personal(name) is expected


def test_a_new_untagged_personal_field_would_fail_the_walk() -> None:
    class Probe(BaseModel):
        case_id: str
        mother_name: str

    assert [p for p in field_paths(Probe) if looks_personal(p) and not _covered({}, p)] == [
        "mother_name"
    ]
