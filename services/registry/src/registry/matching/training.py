"""Learning m and u without labels.

``u`` comes from random record pairs (almost all non-matches); ``m`` comes from
expectation–maximisation over subsets of candidate pairs; the prior share of matches is
taken over all record pairs in batch linkage (see ``train``). Structural impossibilities stay
impossible: EM may not learn that true matches are often found before they went missing, or
born decades apart.
"""

from __future__ import annotations

import numpy as np

from .comparison import MISSING
from .model import MatchModel

# Levels that contradict a true match, and the most of true matches they may hold (data
# errors). Without the cap EM cannot tell namesakes (same names, same origin and route, other
# birth year) from matches, since only the contradicting field separates them.
_CONTRADICTIONS = {"place_and_time": (0, 0.005), "birth": (0, 0.03), "sex": (0, 0.02)}


def _level_counts(
    levels: np.ndarray, n_levels: int, weights: np.ndarray | None = None
) -> np.ndarray:
    present = levels != MISSING
    return np.bincount(
        levels[present], weights=None if weights is None else weights[present], minlength=n_levels
    ).astype(np.float64)


def estimate_u(model: MatchModel, levels: np.ndarray) -> list[np.ndarray]:
    """u per field from the levels of random pairs (one row per pair)."""
    u = []
    for f, spec in enumerate(model.fields):
        n = len(spec.levels)
        counts = _level_counts(levels[:, f], n) + 0.5  # smoothing keeps rare levels finite
        prior_u = model.u[f]
        # Blend with the prior when the sample says little about the field.
        total = counts.sum()
        u.append((counts + 20 * prior_u) / (total + 20))
    return u


def _patterns(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a level matrix (levels -1..14) and how often each occurs."""
    if not len(levels):
        return levels.astype(np.int64), np.zeros(0)
    shifted = levels.astype(np.int64) + 1
    codes = np.zeros(len(levels), dtype=np.int64)
    if levels.shape[1] <= 15:  # 4 bits a field fit one int64
        for f in range(levels.shape[1]):
            codes = (codes << 4) | shifted[:, f]
        _, first, counts = np.unique(codes, return_index=True, return_counts=True)
        return levels[first].astype(np.int64), counts.astype(np.float64)
    rows, counts = np.unique(levels, axis=0, return_counts=True)
    return rows.astype(np.int64), counts.astype(np.float64)


def em(
    model: MatchModel,
    levels: np.ndarray,
    m: list[np.ndarray],
    u: list[np.ndarray],
    prior: float = 0.1,
    learn_m: bool = True,
    learn_u: bool = True,
    iterations: int = 30,
    tol: float = 1e-5,
) -> tuple[list[np.ndarray], list[np.ndarray], float]:
    """Expectation–maximisation over pairs' levels: m and/or u and the share of matches.

    Pairs with the same levels in every field are one pattern with a count: EM runs on the
    distinct patterns (thousands rather than millions of rows) with the same result.
    """
    levels, counts = _patterns(levels)
    total = float(counts.sum())
    columns = [
        (np.flatnonzero(levels[:, f] != MISSING), levels[levels[:, f] != MISSING, f])
        for f in range(len(m))
    ]
    for _ in range(iterations):
        log_ratio = np.full(len(levels), np.log(prior / (1 - prior)))
        for f in range(len(m)):
            log_ratio += np.append(np.log(m[f] / u[f]), 0.0)[levels[:, f]]
        p = 1.0 / (1.0 + np.exp(-np.clip(log_ratio, -50, 50)))
        new_prior = min(max(float((p * counts).sum()) / total, 1e-6), 0.99)
        pm, pu = p * counts, (1.0 - p) * counts
        new_m, new_u = [], []
        for f, spec in enumerate(model.fields):
            n = len(spec.levels)
            rows, col = columns[f]
            mf = np.bincount(col, weights=pm[rows], minlength=n) + 1e-3
            mf /= mf.sum()
            level, cap = _CONTRADICTIONS.get(spec.name, (0, 1.0))
            if mf[level] > cap:
                mf[level] = 0.0
                mf *= (1.0 - cap) / mf.sum()
                mf[level] = cap
            uf = np.bincount(col, weights=pu[rows], minlength=n) + 1e-3
            new_m.append(mf if learn_m else m[f])
            new_u.append(uf / uf.sum() if learn_u else u[f])
        delta = max(float(np.abs(a - b).max()) for a, b in zip(new_m + new_u, m + u, strict=True))
        converged = abs(new_prior - prior) < tol and delta < tol
        m, u, prior = new_m, new_u, new_prior
        if converged:
            break
    return m, u, prior


# EM runs on subsets of candidate pairs where matches are common, each subset chosen by
# fields whose m it does not learn (as one trains with several blocking rules).
_NAME_FIELDS = ("given_name", "other_names")
_NAME_RULE = {"given_name": 2, "other_names": 2}
_BIRTH_RULE = {"birth": 4}


def _subset(model: MatchModel, levels: np.ndarray, rule: dict[str, int]) -> np.ndarray:
    mask = np.ones(len(levels), dtype=bool)
    for f, spec in enumerate(model.fields):
        if spec.name in rule:
            mask &= levels[:, f] >= rule[spec.name]
    return levels[mask]


def _tf_reference(model: MatchModel, levels: np.ndarray, tfs: np.ndarray) -> list[np.ndarray]:
    """Geometric mean share of the agreeing value, per TF level, among candidate non-matches.

    The TF adjustment log2(reference / share) then averages zero over those non-matches: it
    moves weight from pairs agreeing on common names to pairs agreeing on rare ones.
    """
    weights = model.weights_matrix(levels, np.zeros_like(tfs))
    non_match = 1.0 - np.asarray(model.probability(weights))
    ref = [x.copy() for x in model.u_reference]
    for f, spec in enumerate(model.fields):
        for lv in spec.tf_levels:
            mask = (levels[:, f] == lv) & (tfs[:, f] > 0)
            w = non_match[mask]
            if w.sum() >= 5:
                ref[f][lv] = float(np.exp((w * np.log(tfs[mask, f])).sum() / w.sum()))
    return ref


def prior_over_all_pairs(
    model: MatchModel,
    weights: np.ndarray,
    total_pairs: int,
    iterations: int = 200,
    tol: float = 1e-4,
) -> float:
    """Share of matches among all ``total_pairs`` record pairs, from the candidates' weights.

    EM's update of the prior over every pair of the data, where a pair that candidate search
    did not propose is taken as a non-match: ``prior = sum of candidate posteriors / total``,
    iterated to its fixed point. Starting from one match per candidate pair (an upper bound)
    it settles on the largest stable solution. The weights are binned to 1/100 bit, so
    millions of candidates cost a few thousand terms an iteration.
    """
    if not len(weights) or total_pairs <= 0:
        return model.prior
    binned, counts = np.unique(
        np.round(np.asarray(weights, dtype=np.float64), 2), return_counts=True
    )
    prior = min(len(weights) / total_pairs, 0.5)
    for _ in range(iterations):
        prior_weight = np.log2(prior / (1.0 - prior))
        expected = float((counts / (1.0 + np.exp2(-(binned + prior_weight)))).sum())
        new = min(max(expected / total_pairs, 1e-12), 0.5)
        done = abs(new - prior) <= tol * prior
        prior = new
        if done:
            break
    return prior


def train(
    model: MatchModel,
    random_pairs: np.ndarray,
    candidate_pairs: np.ndarray,
    candidate_tfs: np.ndarray | None = None,
    iterations: int = 30,
    min_pairs: int = 30,
    total_pairs: int | None = None,
) -> None:
    """Learn the model from unlabelled pairs (in place).

    1. u of random pairs: the starting point of the EM runs.
    2. m by EM on subsets: pairs agreeing on names teach m of the other fields, pairs
       agreeing on birth year teach m of the names. u is learned inside each subset too:
       among pairs that already share names, non-matches share nationality and route far
       more often than random pairs, and a fixed random-pair u would push that into m.
    3. With ``total_pairs`` (batch linkage: the candidates are every proposed pair of the
       data, out of ``total_pairs`` pairs in all), u stays that of random pairs and the
       prior is the share of matches among all pairs (``prior_over_all_pairs``), as in
       Fellegi–Sunter: candidate search is a filter, not the population non-matches come
       from. Candidates are chosen for agreeing on names or dates, so among them agreements
       on different fields go against each other (a non-match sharing the date rarely shares
       the name too); u learned there undervalues every agreement, and the more weak
       candidates a record has (large data), the more lookalikes EM takes for matches.
       Without ``total_pairs`` (a sample of candidates, as the incremental index trains),
       u and the prior are learned among the candidates with m fixed.
    4. The term-frequency reference: with ``total_pairs``, u of the agreeing level among
       random pairs (a value's own share against the share of agreeing random pairs);
       otherwise ``_tf_reference`` over the candidates when their TF shares are given.
    """
    u_random = estimate_u(model, random_pairs)
    model.set_parameters(u=u_random)
    m = [x.copy() for x in model.m]
    names = {f for f, spec in enumerate(model.fields) if spec.name in _NAME_FIELDS}
    for rule, learns in (
        (_NAME_RULE, lambda f: f not in names),
        (_BIRTH_RULE, lambda f: f in names),
    ):
        sub = _subset(model, candidate_pairs, rule)
        if len(sub) < min_pairs:
            continue
        learned, _, _ = em(model, sub, model.m, u_random, iterations=iterations)
        for f in range(len(m)):
            if learns(f) and model.fields[f].name not in rule:
                m[f] = learned[f]
    if total_pairs is not None:
        model.set_parameters(m=m, u_reference=[x.copy() for x in model.u])
        if len(candidate_pairs):
            tfs = np.zeros(candidate_pairs.shape) if candidate_tfs is None else candidate_tfs
            weights = model.weights_matrix(candidate_pairs, tfs)
            model.set_parameters(prior=prior_over_all_pairs(model, weights, total_pairs))
    elif len(candidate_pairs) >= min_pairs:
        _, u, prior = em(model, candidate_pairs, m, u_random, learn_m=False, iterations=iterations)
        model.set_parameters(m=m, u=u, prior=prior)
        if candidate_tfs is not None:
            model.set_parameters(u_reference=_tf_reference(model, candidate_pairs, candidate_tfs))
    else:
        model.set_parameters(m=m)
