"""Average-linkage clustering: one strong wrong link does not merge two people's records."""

import numpy as np

from registry.matching import BirthDate, PersonRecord, connected_components, deduplicate
from registry.matching.clustering import average_linkage, pairs_within


def _clique(members: list[int], log_odds: float) -> list[tuple[int, int, float]]:
    return [(a, b, log_odds) for i, a in enumerate(members) for b in members[i + 1 :]]


def test_one_strong_bridge_does_not_merge_two_clusters() -> None:
    edges = _clique([0, 1, 2, 3], 14.0) + _clique([4, 5, 6, 7], 14.0) + [(3, 4, 12.0)]
    pairs = np.array([[a, b] for a, b, _ in edges])
    log_odds = np.array([w for _, _, w in edges])
    chained = connected_components(8, pairs[log_odds > 0])
    assert len(set(chained.tolist())) == 1
    labels = average_linkage(8, pairs, log_odds).tolist()
    assert labels == [0, 0, 0, 0, 4, 4, 4, 4]


def test_a_bridge_stronger_than_the_clusters_still_joins_no_two_groups() -> None:
    edges = _clique([0, 1, 2, 3], 12.0) + _clique([4, 5, 6, 7], 12.0) + [(3, 4, 20.0)]
    pairs = np.array([[a, b] for a, b, _ in edges])
    labels = average_linkage(8, pairs, np.array([w for _, _, w in edges])).tolist()
    assert set(labels[:3]) == {0} and set(labels[5:]) == {5}
    assert max(labels.count(x) for x in set(labels)) <= 4


def test_two_groups_with_mostly_agreeing_cross_pairs_merge() -> None:
    edges = _clique([0, 1, 2], 12.0) + _clique([3, 4, 5], 12.0)
    edges += [(a, b, 6.0) for a in (0, 1, 2) for b in (3, 4, 5) if (a, b) != (2, 5)]
    edges += [(2, 5, -4.0)]
    pairs = np.array([[a, b] for a, b, _ in edges])
    labels = average_linkage(6, pairs, np.array([w for _, _, w in edges])).tolist()
    assert labels == [0] * 6


def test_pairs_agreeing_below_even_odds_stay_apart_and_singletons_stay_alone() -> None:
    labels = average_linkage(4, np.array([[0, 1], [2, 3]]), np.array([-0.5, 0.5])).tolist()
    assert labels == [0, 1, 2, 2]


def test_lenient_pass_averages_only_over_scored_pairs() -> None:
    edges = _clique([0, 1, 2], 14.0) + [(2, 3, 12.0)]
    pairs = np.array([[a, b] for a, b, _ in edges])
    log_odds = np.array([w for _, _, w in edges])
    assert average_linkage(4, pairs, log_odds, unscored_as_different=False).tolist() == [0] * 4
    assert average_linkage(4, pairs, log_odds).tolist() == [0, 0, 0, 3]


def test_pairs_within_lists_every_pair_of_small_clusters_only() -> None:
    labels = np.array([0, 0, 2, 0, 4, 4, 6, 6, 6, 6])
    got = {tuple(p) for p in pairs_within(labels, max_size=3).tolist()}
    assert got == {(0, 1), (0, 3), (1, 3), (4, 5)}


def test_deduplication_keeps_namesakes_born_years_apart_in_separate_clusters() -> None:
    def rec(rid: str, given: str, family: str, year: int, place: str) -> PersonRecord:
        return PersonRecord(
            rid,
            given_names=(given,),
            family_names=(family,),
            sex="m",
            birth_date=BirthDate(year, 3, 4),
            attributes={"place": place},
        )

    people = [rec(f"a{i}", "Yonas", "Tesfay", 1990, "asmara") for i in range(4)]
    people += [rec(f"b{i}", "Yonas", "Tesfay", 1961, "keren") for i in range(4)]
    people += [rec("typo", "Yonas", "Tesfai", 1990, "asmara")]
    filler = [
        rec(f"f{i}", g, f, 1950 + i % 40, p)
        for i, (g, f, p) in enumerate(
            (g, f, p)
            for g in ("Amina", "Selam", "Omar", "Farid", "Hawa", "Idris")
            for f in ("Ali", "Gebre", "Nur", "Haile", "Musa")
            for p in ("kassala", "mekele")
        )
    ]
    result = deduplicate(people + filler, attribute_names=("place",), random_pairs=2000)
    labels = result.clusters.tolist()
    assert len(set(labels[:4] + [labels[8]])) == 1
    assert len(set(labels[4:8])) == 1
    assert labels[0] != labels[4]
