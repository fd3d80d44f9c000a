"""Unsupervised training: u from random pairs, the prior over all pairs, exclusive links."""

import numpy as np

from registry.matching import BirthDate, PersonRecord, link
from registry.matching.comparison import field_specs
from registry.matching.linkage import one_to_one
from registry.matching.model import MatchModel
from registry.matching.synthetic import generate
from registry.matching.training import estimate_u, prior_over_all_pairs, train

_FIELDS = {f.name: i for i, f in enumerate(field_specs(()))}


def _pairs(rng: np.random.Generator, n: int, **levels: int) -> np.ndarray:
    """Level rows: random levels, then the given field levels fixed."""
    specs = field_specs(())
    out = np.stack([rng.integers(0, len(s.levels), n) for s in specs], axis=1)
    for name, level in levels.items():
        out[:, _FIELDS[name]] = level
    return out


def _training_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    random = _pairs(rng, 5000, given_name=0, other_names=0, birth=0)
    matches = _pairs(
        rng, 300, given_name=3, other_names=4, birth=5, sex=1, place_and_time=3, nationality=1
    )
    namesakes = _pairs(rng, 1500, given_name=3, other_names=4, birth=0, place_and_time=0)
    weak = _pairs(rng, 20_000, given_name=0, other_names=1, birth=1, sex=0)
    return random, np.concatenate([matches, namesakes]), weak


def test_prior_over_all_pairs_counts_the_strong_candidates_among_all_pairs() -> None:
    model = MatchModel(field_specs(()))
    weights = np.concatenate([np.full(200, 40.0), np.full(50_000, -20.0)])
    prior = prior_over_all_pairs(model, weights, 10**9)
    assert abs(prior * 10**9 - 200) < 5


def test_prior_over_all_pairs_is_tiny_when_no_candidate_stands_out() -> None:
    model = MatchModel(field_specs(()))
    prior = prior_over_all_pairs(model, np.full(10_000, -5.0), 10**8)
    assert prior * 10**8 < 1


def test_weak_candidates_do_not_change_the_expected_number_of_matches() -> None:
    # At a million records each record has many more weak candidates; the matches found
    # among all pairs must not grow with them (EM among candidates took 0.108 of 12M pairs).
    random, strong, weak = _training_data()
    total = 10**9
    expected = []
    for candidates in (strong, np.concatenate([strong, weak])):
        model = MatchModel(field_specs(()))
        train(model, random, candidates, total_pairs=total)
        expected.append(model.prior * total)
    assert 150 < expected[0] < 600
    assert abs(expected[1] - expected[0]) < 0.1 * expected[0]


def test_u_with_total_pairs_is_that_of_random_pairs() -> None:
    random, strong, _ = _training_data()
    model = MatchModel(field_specs(()))
    train(model, random, strong, total_pairs=10**9)
    u_random = estimate_u(MatchModel(field_specs(())), random)
    given = _FIELDS["given_name"]
    assert np.allclose(model.u[given], u_random[given] / u_random[given].sum(), atol=1e-6)
    # Candidates all share names; random pairs never do, so the agreement is strong evidence.
    assert model.weights[given][3] > 5


def test_one_to_one_shares_a_record_between_equally_good_candidates() -> None:
    pairs = np.array([[0, 0], [1, 0], [2, 1], [2, 2]])
    weights = np.array([30.0, 30.0, 30.0, -10.0])
    p = one_to_one(pairs, weights, -10.0, 3, 3)
    assert 0.45 < p[0] < 0.5 and 0.45 < p[1] < 0.5  # right record 0 cannot be both
    assert p[2] > 0.99  # the only good candidate of both its records
    assert p[3] < 0.01


def test_link_does_not_link_a_found_person_to_two_indistinguishable_reports() -> None:
    def person(rid: str, given: str, family: str, year: int) -> PersonRecord:
        return PersonRecord(
            rid, given_names=(given,), family_names=(family,), birth_date=BirthDate(year, 3, 9)
        )

    background = generate(2000, seed=8)
    twins = [person("t1", "Yonas", "Haile", 1990), person("t2", "Yonas", "Haile", 1990)]
    found = person("f1", "Yonas", "Haile", 1990)
    single = person("s1", "Aster", "Gebremedhin", 1985)
    found_single = person("f2", "Aster", "Gebremedhin", 1985)
    left = twins + [single] + background.reports
    right = [found, found_single] + background.found
    for exclusive, twins_linked in ((True, 0), (False, 2)):
        result = link(left, right, exclusive=exclusive)
        links = {(left[a].record_id, right[b].record_id) for a, b in result.links.tolist()}
        assert len(links & {("t1", "f1"), ("t2", "f1")}) == twins_linked
        assert ("s1", "f2") in links
