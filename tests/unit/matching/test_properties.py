"""Properties over arbitrary records: the matcher never crashes, scores are symmetric."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from registry.matching import AgeEstimate, BirthDate, MatchIndex, PersonRecord, RecordKind, Sighting
from registry.matching.comparison import Frequencies, compare, field_specs
from registry.matching.features import Features
from registry.matching.model import MatchModel

names = st.lists(st.text(min_size=0, max_size=12), max_size=3).map(tuple)
dates = st.dates(dt.date(1950, 1, 1), dt.date(2030, 1, 1))
sightings = st.none() | st.builds(
    Sighting, st.none() | dates, st.none() | st.floats(-90, 90), st.none() | st.floats(-180, 180)
)
records = st.builds(
    PersonRecord,
    st.uuids().map(str),
    st.sampled_from(list(RecordKind)),
    names,
    names,
    names,
    st.sampled_from([None, "m", "f", "x"]),
    st.none()
    | st.builds(
        BirthDate,
        st.integers(1900, 2030),
        st.none() | st.integers(1, 12),
        st.none() | st.integers(1, 28),
    ),
    st.none() | st.builds(AgeEstimate, st.integers(0, 90), st.integers(0, 90), dates),
    st.none() | st.sampled_from(["so", "er", "sy"]),
    names,
    sightings,
    sightings,
    st.none() | st.tuples(st.integers(100, 200), st.integers(100, 200)),
    names,
    st.none() | st.tuples(st.integers(0, 500), st.integers(0, 500)),
)


@settings(max_examples=150, deadline=None)
@given(records, records)
def test_the_index_never_crashes_on_arbitrary_records(a: PersonRecord, b: PersonRecord) -> None:
    index = MatchIndex()
    index.add(a)
    for candidate in index.query(b):
        assert 0.0 <= candidate.probability <= 1.0
        assert len(candidate.explanation.fields) == len(index.model.fields)


@settings(max_examples=150, deadline=None)
@given(records, records)
def test_the_score_of_a_pair_does_not_depend_on_its_order(a: PersonRecord, b: PersonRecord) -> None:
    fa, fb = Features(a, ()), Features(b, ())
    freq = Frequencies(0)
    freq.add(fa)
    freq.add(fb)
    model = MatchModel(field_specs(()))
    la, ta = compare(fa, fb, freq)
    lb, tb = compare(fb, fa, freq)
    assert abs(model.weight(la, ta) - model.weight(lb, tb)) < 1e-9
