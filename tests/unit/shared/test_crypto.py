"""Per-subject envelope encryption: seal, open, erase (crypto-shredding)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from haven_shared.crypto import (
    SealBroken,
    SubjectErased,
    SubjectKey,
    SubjectKeyring,
    create_key_table,
    new_subject_key_id,
)
from haven_shared.db import make_engine


@pytest.fixture
def session(tmp_path) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    create_key_table(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def test_sealed_data_opens_to_the_original(session: Session) -> None:
    keyring = SubjectKeyring("test-master")
    key_id = new_subject_key_id()
    data = {"names": ["Amani Juma", "أماني جمعة"], "born": "2001-04-02"}
    sealed = keyring.seal(session, key_id, data)
    assert sealed.key_id == key_id
    assert keyring.open(session, sealed) == data


def test_ciphertext_does_not_contain_the_clear_name(session: Session) -> None:
    sealed = SubjectKeyring("test-master").seal(session, new_subject_key_id(), {"n": "Amani"})
    assert "Amani" not in sealed.model_dump_json()


def test_each_subject_gets_its_own_key(session: Session) -> None:
    keyring = SubjectKeyring("test-master")
    a, b = new_subject_key_id(), new_subject_key_id()
    keyring.seal(session, a, {"x": 1})
    keyring.seal(session, b, {"x": 1})
    wrapped = session.execute(sa.select(SubjectKey.wrapped_key)).scalars().all()
    assert len(wrapped) == 2 and wrapped[0] != wrapped[1]


def test_erasing_the_subject_makes_its_data_unreadable(session: Session) -> None:
    keyring = SubjectKeyring("test-master")
    key_id = new_subject_key_id()
    sealed = keyring.seal(session, key_id, {"n": "Amani"})
    other = keyring.seal(session, new_subject_key_id(), {"n": "Other"})
    assert keyring.erase_subject(session, key_id) is True
    with pytest.raises(SubjectErased):
        keyring.open(session, sealed)
    assert keyring.open(session, other) == {"n": "Other"}
    assert keyring.erase_subject(session, key_id) is False


def test_a_different_master_key_cannot_open_the_data(session: Session) -> None:
    key_id = new_subject_key_id()
    sealed = SubjectKeyring("master-one").seal(session, key_id, {"n": "Amani"})
    with pytest.raises(SealBroken):
        SubjectKeyring("master-two").open(session, sealed)


def test_a_value_moved_to_another_subject_does_not_authenticate(session: Session) -> None:
    keyring = SubjectKeyring("test-master")
    sealed = keyring.seal(session, new_subject_key_id(), {"n": "Amani"})
    other_id = new_subject_key_id()
    keyring.seal(session, other_id, {"n": "Other"})
    with pytest.raises(SealBroken):
        keyring.open(session, sealed.model_copy(update={"key_id": other_id}))


def test_a_tampered_ciphertext_is_refused(session: Session) -> None:
    keyring = SubjectKeyring("test-master")
    sealed = keyring.seal(session, new_subject_key_id(), {"n": "Amani"})
    flipped = ("A" if sealed.ciphertext[0] != "A" else "B") + sealed.ciphertext[1:]
    with pytest.raises(SealBroken):
        keyring.open(session, sealed.model_copy(update={"ciphertext": flipped}))


def test_sealing_for_a_new_subject_reads_the_key_table_once(session: Session) -> None:
    statements: list[str] = []
    sa.event.listen(session.get_bind(), "before_cursor_execute",
                    lambda *a: statements.append(a[2]))
    ring = SubjectKeyring("k")
    ring.seal(session, "sk-new", {"name": "Amani"})
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")
             and "subject_key" in s]
    assert len(reads) == 1, statements
    # An erased subject is still refused with that one read.
    ring.erase_subject(session, "sk-gone")
    with pytest.raises(SubjectErased):
        ring.seal(session, "sk-gone", {"name": "Amani"})
