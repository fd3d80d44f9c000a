"""Batch linkage of two record sets, deduplication of one, and clustering of the links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from .batch import Columns, compare_pairs
from .blocking import record_keys
from .clustering import DEFAULT_CLIP_BITS, average_linkage, pairs_within
from .comparison import Frequencies, field_specs
from .features import Features
from .model import MatchExplanation, MatchModel
from .records import PersonRecord
from .training import train

_ROWS_PER_PRODUCT = 100_000
RELATIVE = 0.1  # candidates must share at least this share of the best candidate's key score
DEFAULT_THRESHOLD = 0.5


@dataclass
class LinkageResult:
    """Scored candidate pairs (indices into the inputs), links above threshold, clusters.

    ``probabilities`` are the pairs' posteriors (in ``link``, exclusive ones: ``one_to_one``).
    """

    model: MatchModel
    pairs: np.ndarray  # (n, 2) int64: left index, right index
    levels: np.ndarray  # (n, fields) int64 agreement levels, -1 absent
    tfs: np.ndarray  # (n, fields) term-frequency shares
    weights: np.ndarray
    probabilities: np.ndarray
    threshold: float
    clusters: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    @property
    def links(self) -> np.ndarray:
        """Pairs whose probability reaches the threshold."""
        return self.pairs[self.probabilities >= self.threshold]

    def explain(self, i: int) -> MatchExplanation:
        """Per-field explanation of candidate pair ``i``."""
        return self.model.explain(self.levels[i].tolist(), self.tfs[i].tolist())


def _keys_arrays(feats: Sequence[Features], query: bool) -> tuple[np.ndarray, np.ndarray]:
    keys: list[int] = []
    ids: list[int] = []
    for i, f in enumerate(feats):
        ks = record_keys(f, query)
        keys.extend(ks)
        ids.extend([i] * len(ks))
    return np.asarray(keys, dtype=np.int64), np.asarray(ids, dtype=np.int64)


def candidate_pairs(
    left: Sequence[Features],
    right: Sequence[Features] | None,
    max_block_pairs: int = 20_000,
    per_record: int = 30,
    relative: float = RELATIVE,
) -> np.ndarray:
    """Pairs sharing search keys; per left record the ``per_record`` sharing the most.

    With ``right`` None, pairs within ``left`` (i < j) for deduplication. Each shared key
    adds its specificity ``1 / log2(2 + block pairs)`` to a pair's score; the scores of all
    pairs come from one sparse product of record-by-key matrices (weights: square roots).
    """
    ka, ia = _keys_arrays(left, query=right is not None)
    kb, ib = (ka, ia) if right is None else _keys_arrays(right, query=False)
    keys, inverse = np.unique(np.concatenate([ka, kb]), return_inverse=True)
    inv_a, inv_b = inverse[: len(ka)], inverse[len(ka) :]
    count_a = np.bincount(inv_a, minlength=len(keys))
    count_b = count_a if right is None else np.bincount(inv_b, minlength=len(keys))
    size = count_a.astype(np.int64) * count_b
    usable = (size <= max_block_pairs) & (size > (0 if right is not None else 1))
    root = np.sqrt(1.0 / np.log2(2.0 + size))  # a shared small block says more
    n_left = len(left)
    n_right = len(right) if right is not None else n_left

    def matrix(rows: np.ndarray, cols: np.ndarray, n: int) -> sparse.csr_matrix:
        ok = usable[cols]
        return sparse.csr_matrix((root[cols[ok]], (rows[ok], cols[ok])), shape=(n, len(keys)))

    mat_a = matrix(ia, inv_a, n_left)
    mat_b = mat_a if right is None else matrix(ib, inv_b, n_right)
    mat_bt = mat_b.T.tocsr()
    parts_a, parts_b = [], []
    for start in range(0, n_left, _ROWS_PER_PRODUCT):  # bounded memory at a million records
        scores = (mat_a[start : start + _ROWS_PER_PRODUCT] @ mat_bt).tocoo()
        pa = scores.row.astype(np.int64) + start
        pb, score = scores.col.astype(np.int64), scores.data
        if len(pa) > 1 and (pa[1:] < pa[:-1]).any():  # rows of a CSR product come in order
            order = np.argsort(pa, kind="stable")
            pa, pb, score = pa[order], pb[order], score[order]
        if right is None:
            off = pa != pb
            pa, pb, score = pa[off], pb[off], score[off]
        sel = _best_per_record(pa, score, per_record, relative)
        parts_a.append(pa[sel])
        parts_b.append(pb[sel])
        del scores, pa, pb, score, sel
    pa = np.concatenate(parts_a) if parts_a else np.empty(0, dtype=np.int64)
    pb = np.concatenate(parts_b) if parts_b else np.empty(0, dtype=np.int64)
    if right is None:  # a pair may be among the best of either of its records
        lo, hi = np.minimum(pa, pb), np.maximum(pa, pb)
        codes = np.unique(lo * n_left + hi)
        pa, pb = codes // n_left, codes % n_left
    return np.stack([pa, pb], axis=1)


def _best_per_record(
    owner: np.ndarray, score: np.ndarray, per_record: int, relative: float
) -> np.ndarray:
    """Mask of pairs among their owner's ``per_record`` best, scoring >= relative × best.

    ``owner`` must be sorted (as the rows of a sparse product are); only owners with more
    than ``per_record`` pairs left after the relative cut need a sort.
    """
    mask = np.zeros(len(owner), dtype=bool)
    if not len(owner):
        return mask
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    best = np.maximum.reduceat(score, starts)
    run = np.diff(np.r_[starts, len(owner)])
    mask = score >= relative * np.repeat(best, run)
    kept = np.flatnonzero(mask)
    counts = np.bincount(owner[kept])
    crowded = kept[counts[owner[kept]] > per_record]
    if len(crowded):
        order = np.lexsort((-score[crowded], owner[crowded]))
        o = owner[crowded][order]
        first = np.searchsorted(o, o, side="left")
        rank = np.arange(len(o)) - first
        mask[crowded[order[rank >= per_record]]] = False
    return mask


@dataclass
class _Context:
    left: Sequence[Features]
    right: Sequence[Features]
    lc: Columns
    rc: Columns
    freq: Frequencies


def _score(
    left: Sequence[Features],
    right: Sequence[Features],
    pairs: np.ndarray,
    attribute_names: Sequence[str],
    threshold: float,
    random_pairs: int,
    seed: int,
    model: MatchModel | None,
) -> tuple[LinkageResult, _Context]:
    freq = Frequencies(len(attribute_names))
    for f in left:
        freq.add(f)
    if right is not left:
        for f in right:
            freq.add(f)
    model = model or MatchModel(field_specs(attribute_names))
    codes: dict[str, int] = {}
    lc = Columns(left, codes)
    rc = lc if right is left else Columns(right, codes)
    levels, tfs = compare_pairs(left, right, lc, rc, pairs, freq)
    if random_pairs and len(pairs):
        rng = np.random.default_rng(seed)
        rnd = np.stack(
            [rng.integers(0, len(left), random_pairs), rng.integers(0, len(right), random_pairs)],
            axis=1,
        )
        rnd = rnd[rnd[:, 0] != rnd[:, 1]] if right is left else rnd
        rand_levels, _ = compare_pairs(left, right, lc, rc, rnd, freq)
        n = len(left)
        total = n * (n - 1) // 2 if right is left else n * len(right)
        train(model, rand_levels, levels, tfs, total_pairs=total)
    weights = model.weights_matrix(levels, tfs)
    probs = np.asarray(model.probability(weights), dtype=np.float64)
    result = LinkageResult(model, pairs, levels, tfs, weights, probs, threshold)
    return result, _Context(left, right, lc, rc, freq)


def _add_pairs(result: LinkageResult, ctx: _Context, pairs: np.ndarray) -> None:
    """Score further pairs with the trained model and append them to the result."""
    if not len(pairs):
        return
    levels, tfs = compare_pairs(ctx.left, ctx.right, ctx.lc, ctx.rc, pairs, ctx.freq)
    weights = result.model.weights_matrix(levels, tfs)
    probs = np.asarray(result.model.probability(weights), dtype=np.float64)
    result.pairs = np.concatenate([result.pairs, pairs])
    result.levels = np.concatenate([result.levels, levels])
    result.tfs = np.concatenate([result.tfs, tfs])
    result.weights = np.concatenate([result.weights, weights])
    result.probabilities = np.concatenate([result.probabilities, probs])


def _unscored(n: int, scored: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Rows of ``wanted`` (i < j) not among ``scored`` (either orientation)."""
    if not len(wanted):
        return wanted
    lo, hi = np.minimum(scored[:, 0], scored[:, 1]), np.maximum(scored[:, 0], scored[:, 1])
    known = np.unique(lo.astype(np.int64) * n + hi)
    codes = wanted[:, 0] * n + wanted[:, 1]
    return wanted[~np.isin(codes, known, assume_unique=False)]


def one_to_one(
    pairs: np.ndarray, weights: np.ndarray, prior_weight: float, n_left: int, n_right: int
) -> np.ndarray:
    """Posterior of each pair when a record matches at most one record of the other set.

    For a record with candidates ``k`` of prior odds ``o_k = 2^(weight_k + prior_weight)``,
    the hypotheses are "none of them" (odds 1) and "candidate k" (odds ``o_k``), so
    candidate i has ``o_i / (1 + sum_k o_k)``. A pair gets the smaller of this posterior
    from its left record and from its right record: several candidates that explain a
    record equally well (namesakes, siblings) share its probability instead of each
    claiming it, which the independent pair posterior cannot see.
    """
    if not len(pairs):
        return np.zeros(0)
    odds = np.exp2(np.clip(np.asarray(weights, dtype=np.float64) + prior_weight, -500, 500))
    out = np.ones(len(pairs))
    for side, n in ((0, n_left), (1, n_right)):
        owner = pairs[:, side]
        out = np.minimum(out, odds / (1.0 + np.bincount(owner, weights=odds, minlength=n)[owner]))
    return out


def link(
    left: Sequence[PersonRecord],
    right: Sequence[PersonRecord],
    attribute_names: Sequence[str] = (),
    threshold: float = DEFAULT_THRESHOLD,
    random_pairs: int = 10_000,
    seed: int = 0,
    model: MatchModel | None = None,
    max_block_pairs: int = 20_000,
    per_record: int = 30,
    exclusive: bool = True,
) -> LinkageResult:
    """Link two sets: candidate search, unsupervised training, scoring, clustering.

    With ``exclusive`` (each set describes a person about once, as a family's report and a
    found person do), probabilities are those of ``one_to_one``; otherwise each pair's
    own posterior. Explanations give the pair's own weight and posterior either way.
    """
    lf = [Features(r, attribute_names) for r in left]
    rf = [Features(r, attribute_names) for r in right]
    pairs = candidate_pairs(lf, rf, max_block_pairs, per_record)
    result, _ = _score(lf, rf, pairs, attribute_names, threshold, random_pairs, seed, model)
    if exclusive:
        result.probabilities = one_to_one(
            result.pairs, result.weights, result.model.prior_weight, len(lf), len(rf)
        )
    links = result.links
    result.clusters = connected_components(
        len(lf) + len(rf), np.stack([links[:, 0], links[:, 1] + len(lf)], 1)
    )
    return result


def deduplicate(
    records: Sequence[PersonRecord],
    attribute_names: Sequence[str] = (),
    threshold: float = DEFAULT_THRESHOLD,
    random_pairs: int = 10_000,
    seed: int = 0,
    model: MatchModel | None = None,
    max_block_pairs: int = 20_000,
    per_record: int = 30,
    cluster_clip_bits: float = DEFAULT_CLIP_BITS,
    max_cluster_size: int = 200,
) -> LinkageResult:
    """Find records of the same person within one set and cluster them.

    Clusters grow by average linkage over all pairs between them (``clustering``): one
    strong wrong link cannot merge two people's records, as it would in connected
    components. Pairs inside a tentative cluster (up to ``max_cluster_size`` records) that
    candidate search did not propose are scored too, and join the result's pairs.
    """
    feats = [Features(r, attribute_names) for r in records]
    pairs = candidate_pairs(feats, None, max_block_pairs, per_record)
    result, ctx = _score(feats, feats, pairs, attribute_names, threshold, random_pairs, seed, model)
    n = len(feats)
    tentative = average_linkage(
        n,
        result.pairs,
        result.weights + result.model.prior_weight,
        clip=cluster_clip_bits,
        unscored_as_different=False,
    )
    _add_pairs(result, ctx, _unscored(n, result.pairs, pairs_within(tentative, max_cluster_size)))
    result.clusters = average_linkage(
        n, result.pairs, result.weights + result.model.prior_weight, clip=cluster_clip_bits
    )
    return result


def connected_components(n: int, edges: np.ndarray) -> np.ndarray:
    """Cluster label (smallest member index) of each of ``n`` nodes joined by ``edges``."""
    labels = np.arange(n, dtype=np.int64)
    if len(edges) == 0:
        return labels
    a, b = edges[:, 0].astype(np.int64), edges[:, 1].astype(np.int64)
    while True:
        la, lb = labels[a], labels[b]
        low = np.minimum(la, lb)
        before = labels.copy()
        np.minimum.at(labels, la, low)
        np.minimum.at(labels, lb, low)
        labels = labels[labels]
        while True:  # pointer jumping to the root
            nxt = labels[labels]
            if np.array_equal(nxt, labels):
                break
            labels = nxt
        if np.array_equal(labels, before):
            return labels
