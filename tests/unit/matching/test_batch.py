"""Column-wise batch comparison agrees with the pair-by-pair comparison."""

import numpy as np

from registry.matching.batch import Columns, compare_pairs
from registry.matching.comparison import Frequencies, compare
from registry.matching.features import Features
from registry.matching.records import BirthDate, PersonRecord
from registry.matching.synthetic import generate


def test_batch_levels_and_tf_shares_equal_pairwise_ones_on_synthetic_records() -> None:
    data = generate(1500, seed=9)
    left = [Features(r, ()) for r in data.reports]
    right = [Features(r, ()) for r in data.found + data.reports[:50]]
    freq = Frequencies(0)
    for f in left + right:
        freq.add(f)
    rng = np.random.default_rng(1)
    pairs = np.stack([rng.integers(0, len(left), 3000), rng.integers(0, len(right), 3000)], 1)
    codes: dict[str, int] = {}
    levels, tfs = compare_pairs(
        left, right, Columns(left, codes), Columns(right, codes), pairs, freq
    )
    for k, (a, b) in enumerate(pairs.tolist()):
        lv, tf = compare(left[a], right[b], freq)
        assert levels[k].tolist() == lv
        assert np.allclose(tfs[k], tf)


def test_batch_attribute_comparison_equals_pairwise_one() -> None:
    names = ("postcode", "soc_sec_id")
    recs = [
        PersonRecord(
            f"r{i}",
            given_names=("Ann",),
            birth_date=BirthDate(1990, 1, 1 + i % 9),
            attributes={"postcode": f"40{i % 7}0", "soc_sec_id": f"{i * 7919:07d}"}
            if i % 4
            else {},
        )
        for i in range(40)
    ]
    feats = [Features(r, names) for r in recs]
    freq = Frequencies(len(names))
    for f in feats:
        freq.add(f)
    pairs = np.array([[a, b] for a in range(40) for b in range(0, 40, 3)])
    cols = Columns(feats, {})
    levels, tfs = compare_pairs(feats, feats, cols, cols, pairs, freq)
    for k, (a, b) in enumerate(pairs.tolist()):
        lv, tf = compare(feats[a], feats[b], freq)
        assert levels[k].tolist() == lv and np.allclose(tfs[k], tf)
