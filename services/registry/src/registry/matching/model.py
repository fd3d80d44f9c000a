"""Fellegi–Sunter scoring with term-frequency adjustment and per-field explanations.

For every field level ``l`` the model holds ``m[l]`` (share of true matches at that level) and
``u[l]`` (share of non-matches). A pair's match weight is the sum over present fields of
``log2(m/u)``, where ``u`` describes the non-matches among candidate pairs. When names or
attribute values agree exactly, the weight is adjusted by ``log2(ref/tf)``: ``tf`` is the share
of records carrying that value and ``ref`` the typical share of agreeing values among candidate
non-matches, so a common name counts for less than a typical one and a rare name for more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .comparison import MISSING, FieldSpec

TF_FLOOR = 1e-6
TF_ADJUST_RANGE = (-6.0, 8.0)

# Priors used until the model is trained on data (and as EM's starting point).
_DEFAULT_M = {
    "given_name": [0.05, 0.05, 0.15, 0.75],
    "other_names": [0.05, 0.05, 0.15, 0.25, 0.5],
    "sex": [0.03, 0.97],
    "birth": [0.05, 0.2, 0.2, 0.1, 0.15, 0.3],
    "nationality": [0.1, 0.9],
    "languages": [0.1, 0.9],
    "place_and_time": [0.005, 0.1, 0.5, 0.395],
    "height": [0.05, 0.45, 0.5],
    "distinguishing_marks": [0.3, 0.7],
}
_DEFAULT_U = {
    "given_name": [0.93, 0.05, 0.015, 0.005],
    "other_names": [0.9, 0.07, 0.025, 0.004, 0.001],
    "sex": [0.5, 0.5],
    "birth": [0.8, 0.15, 0.03, 0.005, 0.004, 0.0003],
    "nationality": [0.7, 0.3],
    "languages": [0.6, 0.4],
    "place_and_time": [0.2, 0.3, 0.45, 0.05],
    "height": [0.5, 0.35, 0.15],
    "distinguishing_marks": [0.95, 0.05],
}
_DEFAULT_ATTR_M = [0.05, 0.05, 0.1, 0.8]
_DEFAULT_ATTR_U = [0.9, 0.07, 0.02, 0.01]


@dataclass(frozen=True, slots=True)
class FieldEvidence:
    """How one field contributed to a score."""

    field: str
    level: int  # -1 when absent
    label: str  # e.g. "same name", "absent"
    weight: float  # log2 Bayes factor, TF adjustment included
    tf_adjustment: float = 0.0


@dataclass(frozen=True, slots=True)
class MatchExplanation:
    """A scored pair: total weight, probability and the evidence of every field."""

    weight: float
    probability: float
    fields: tuple[FieldEvidence, ...]

    @property
    def agreeing(self) -> list[str]:
        """Fields that added weight."""
        return [f.field for f in self.fields if f.level != MISSING and f.weight > 0]

    @property
    def disagreeing(self) -> list[str]:
        """Fields that took weight away."""
        return [f.field for f in self.fields if f.level != MISSING and f.weight < 0]

    @property
    def absent(self) -> list[str]:
        """Fields missing on one side or both."""
        return [f.field for f in self.fields if f.level == MISSING]


def _norm(x: Sequence[float]) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64) + 1e-9
    return a / a.sum()


class MatchModel:
    """m and u per field level, and the prior share of matches among candidate pairs."""

    def __init__(
        self,
        fields: Sequence[FieldSpec],
        m: Sequence[Sequence[float]] | None = None,
        u: Sequence[Sequence[float]] | None = None,
        prior: float = 0.01,
    ) -> None:
        self.fields = tuple(fields)
        if m is None:
            m = [_DEFAULT_M.get(f.name, _DEFAULT_ATTR_M) for f in self.fields]
        if u is None:
            u = [_DEFAULT_U.get(f.name, _DEFAULT_ATTR_U) for f in self.fields]
        self.m = [_norm(x) for x in m]
        self.u = [_norm(x) for x in u]
        self.u_reference = [x.copy() for x in self.u]
        self.prior = float(prior)
        self._refresh()

    def _refresh(self) -> None:
        # weights[f][l]; index len(levels) holds 0 for an absent field (level -1 wraps there).
        self.weights = [np.append(np.log2(m / u), 0.0) for m, u in zip(self.m, self.u, strict=True)]
        self.prior_weight = math.log2(self.prior / (1.0 - self.prior))

    def set_parameters(
        self,
        m: Sequence[np.ndarray] | None = None,
        u: Sequence[np.ndarray] | None = None,
        prior: float | None = None,
        u_reference: Sequence[np.ndarray] | None = None,
    ) -> None:
        """Replace learned parameters (any of them) and recompute weights."""
        if u_reference is not None:
            self.u_reference = [np.asarray(x, dtype=np.float64) for x in u_reference]
        if m is not None:
            self.m = [_norm(x) for x in m]
        if u is not None:
            self.u = [_norm(x) for x in u]
        if prior is not None:
            self.prior = min(max(float(prior), 1e-9), 0.5)
        self._refresh()

    def _tf_adjust(self, f: int, level: int, tf: float) -> float:
        if tf <= 0.0 or level not in self.fields[f].tf_levels:
            return 0.0
        adj = math.log2(self.u_reference[f][level] / max(tf, TF_FLOOR))
        return min(max(adj, TF_ADJUST_RANGE[0]), TF_ADJUST_RANGE[1])

    def weight(self, levels: Sequence[int], tfs: Sequence[float]) -> float:
        """Match weight of one compared pair."""
        w = 0.0
        weights = self.weights
        for f, lv in enumerate(levels):
            if lv != MISSING:
                w += weights[f][lv]
                if tfs[f] > 0.0:
                    w += self._tf_adjust(f, lv, tfs[f])
        return w

    def weights_matrix(self, levels: np.ndarray, tfs: np.ndarray) -> np.ndarray:
        """Match weights of many pairs (rows of levels, -1 for absent) in one pass."""
        w = np.zeros(len(levels))
        for f, table in enumerate(self.weights):
            col = levels[:, f]
            w += table[col]  # -1 picks the trailing 0.0
            tf_col = tfs[:, f]
            if self.fields[f].tf_levels and tf_col.any():
                mask = (tf_col > 0) & np.isin(col, self.fields[f].tf_levels)
                if mask.any():
                    ref = self.u_reference[f][col[mask]]
                    adj = np.log2(ref / np.maximum(tf_col[mask], TF_FLOOR))
                    w[mask] += np.clip(adj, *TF_ADJUST_RANGE)
        return w

    def probability(self, weight: float | np.ndarray) -> float | np.ndarray:
        """Posterior match probability of a weight, given the prior."""
        return 1.0 / (1.0 + np.exp2(-(np.asarray(weight) + self.prior_weight)))

    def explain(self, levels: Sequence[int], tfs: Sequence[float]) -> MatchExplanation:
        """Score one pair and say what every field contributed, and which were absent."""
        evidence = []
        total = 0.0
        for f, lv in enumerate(levels):
            spec = self.fields[f]
            if lv == MISSING:
                evidence.append(FieldEvidence(spec.name, MISSING, "absent", 0.0))
                continue
            adj = self._tf_adjust(f, lv, tfs[f])
            w = float(self.weights[f][lv]) + adj
            total += w
            evidence.append(
                FieldEvidence(spec.name, lv, spec.levels[lv], round(w, 3), round(adj, 3))
            )
        return MatchExplanation(round(total, 3), float(self.probability(total)), tuple(evidence))

    def to_dict(self) -> dict:
        """Parameters as plain data (to persist or log a trained model)."""
        return {
            "prior": self.prior,
            "fields": {
                f.name: {
                    "levels": list(f.levels),
                    "m": m.round(6).tolist(),
                    "u": u.round(6).tolist(),
                    "u_reference": r.round(6).tolist(),
                }
                for f, m, u, r in zip(self.fields, self.m, self.u, self.u_reference, strict=True)
            },
        }
