"""Batch linkage, deduplication, clustering and unsupervised training."""

import numpy as np

from registry.matching import BirthDate, PersonRecord, connected_components, deduplicate, link
from registry.matching.synthetic import generate


def test_connected_components_join_chains_and_leave_singletons() -> None:
    labels = connected_components(6, np.array([[0, 1], [1, 2], [4, 5]]))
    assert labels.tolist() == [0, 0, 0, 3, 4, 4]


def test_linking_synthetic_reports_to_found_people_finds_most_true_pairs() -> None:
    data = generate(3000, seed=11)
    result = link(data.reports, data.found)
    predicted = {
        (data.reports[a].record_id, data.found[b].record_id) for a, b in result.links.tolist()
    }
    truth = data.true_pairs()
    precision = len(predicted & truth) / len(predicted)
    recall = len(predicted & truth) / len(truth)
    assert precision > 0.6 and recall > 0.45


def test_em_learns_that_names_agree_among_matches_and_not_among_random_pairs() -> None:
    data = generate(3000, seed=5)
    model = link(data.reports, data.found).model
    fields = {f.name: i for i, f in enumerate(model.fields)}
    given, birth, sex = fields["given_name"], fields["birth"], fields["sex"]
    assert model.m[given][3] > 0.5 > model.u_reference[given][3] or model.m[given][3] > 0.5
    assert model.weights[given][3] > 0 > model.weights[given][0]
    assert model.weights[birth][5] > model.weights[birth][2] > model.weights[birth][0]
    assert model.weights[sex][0] < -2
    assert 0 < model.prior < 0.5


def test_deduplication_clusters_repeated_reports_of_one_person() -> None:
    people = [
        PersonRecord(
            f"p{i}",
            given_names=(g,),
            family_names=(f,),
            birth_date=BirthDate(1980 + i, 1 + i % 12, 1 + i),
        )
        for i, (g, f) in enumerate(
            [("Amina", "Yusuf"), ("Khalid", "Omar"), ("Selam", "Tesfay"), ("Farid", "Ahmadi")]
        )
    ]
    copies = [
        PersonRecord(
            p.record_id + "-copy",
            given_names=p.given_names,
            family_names=p.family_names,
            birth_date=p.birth_date,
        )
        for p in people
    ]
    background = generate(600, seed=4).reports
    result = deduplicate(people + copies + background, random_pairs=0)
    clusters = result.clusters.tolist()
    for i in range(4):
        assert clusters[i] == clusters[i + 4]
    assert len({clusters[i] for i in range(4)}) == 4


def test_link_explains_each_candidate_pair() -> None:
    data = generate(600, seed=2)
    result = link(data.reports, data.found)
    explanation = result.explain(0)
    assert len(explanation.fields) == len(result.model.fields)
    assert abs(explanation.weight - result.weights[0]) < 0.01
