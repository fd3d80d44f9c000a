"""Incremental person index: add records one at a time, match a record against all of them."""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .blocking import KeyStore, record_keys
from .comparison import Frequencies, compare, field_specs
from .features import Features
from .model import MatchExplanation, MatchModel
from .records import PersonRecord, RecordKind
from .training import train

_KIND_CODE = {k: i for i, k in enumerate(RecordKind)}


@dataclass(frozen=True, slots=True)
class Candidate:
    """An indexed record proposed as the same person, with the evidence for it."""

    record_id: str
    kind: RecordKind
    weight: float
    probability: float
    explanation: MatchExplanation


_REMOVED = 255  # kind code of a removed record


class MatchIndex:
    """In-memory index of prepared records with a probabilistic scorer.

    Candidate search reads the query's search keys rarest first, at most ``max_block``
    record numbers in all (common keys give their newest records rather than being
    skipped); ``max_candidates`` bounds how many records sharing the most keys are scored
    per query, and only records whose shared-key score reaches ``relative`` × the best
    one's are scored.
    """

    def __init__(
        self,
        model: MatchModel | None = None,
        attribute_names: Sequence[str] = (),
        max_block: int = 5_000,
        max_candidates: int = 150,
        relative: float = 0.3,
    ) -> None:
        self.attribute_names = tuple(attribute_names)
        self.model = model or MatchModel(field_specs(self.attribute_names))
        self.freq = Frequencies(len(self.attribute_names))
        self.max_block = max_block
        self.max_candidates = max_candidates
        self.relative = relative
        self._features: list[Features | None] = []
        self._kinds = bytearray()
        self._keys = KeyStore()
        self._number: dict[str, int] = {}  # record id -> record number of its live version

    def __len__(self) -> int:
        return len(self._number)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._number

    def prepare(self, record: PersonRecord) -> Features:
        """The comparison-ready form of a record under this index's attribute list."""
        return Features(record, self.attribute_names)

    def _append(self, f: Features) -> int:
        old = self._number.get(f.record_id)
        if old is not None:  # a record id added again replaces its earlier version
            self._forget(old)
        rid = len(self._features)
        self._features.append(f)
        self._kinds.append(f.kind)
        self._number[f.record_id] = rid
        self.freq.add(f)
        return rid

    def add(self, record: PersonRecord) -> None:
        """Index one record; it is returned by the very next query.

        Adding a record id that is already indexed replaces the earlier version.
        """
        f = self.prepare(record)
        self._keys.add(self._append(f), record_keys(f))

    def add_many(self, records: Iterable[PersonRecord]) -> None:
        """Index many records at once (faster than repeated ``add``)."""
        keys: list[int] = []
        ids: list[int] = []
        for record in records:
            f = self.prepare(record)
            rid = self._append(f)
            ks = record_keys(f)
            keys.extend(ks)
            ids.extend([rid] * len(ks))
        self._keys.add_bulk(np.asarray(keys, dtype=np.int64), np.asarray(ids, dtype=np.int32))

    def remove(self, record_id: str) -> bool:
        """Take a record out (amended or withdrawn); True if it was indexed.

        It is never returned again; its search-key entries stay behind as dead weight until
        the index is rebuilt.
        """
        rid = self._number.pop(record_id, None)
        if rid is None:
            return False
        self._forget(rid)
        return True

    def _forget(self, rid: int) -> None:
        f = self._features[rid]
        if f is not None:
            self.freq.remove(f)
            self._features[rid] = None
            self._kinds[rid] = _REMOVED

    def _candidate_ids(
        self, f: Features, kinds: Collection[RecordKind] | None, limit: int
    ) -> np.ndarray:
        found = self._keys.lookup(record_keys(f, query=True), self.max_block)
        if not found:
            return np.empty(0, dtype=np.int32)
        # A shared small block says more than a shared big one: rank by summed specificity.
        weights = np.concatenate([np.full(len(b), 1.0 / np.log2(2 + n)) for b, n in found])
        ids, inverse = np.unique(np.concatenate([b for b, _ in found]), return_inverse=True)
        counts = np.bincount(inverse, weights=weights)
        codes = np.frombuffer(self._kinds, dtype=np.uint8)[ids]
        wanted = [_KIND_CODE[k] for k in kinds] if kinds is not None else list(_KIND_CODE.values())
        keep = np.isin(codes, wanted)
        ids, counts = ids[keep], counts[keep]
        if len(ids) and counts.max() > 0:  # as in batch: near the best shared-key score only
            keep = counts >= self.relative * counts.max()
            ids, counts = ids[keep], counts[keep]
        if len(ids) > limit:
            top = np.argpartition(-counts, limit - 1)[:limit]
            ids = ids[top]
        return ids

    def query(
        self,
        record: PersonRecord,
        limit: int = 10,
        min_probability: float = 0.0,
        kinds: Collection[RecordKind] | None = None,
    ) -> list[Candidate]:
        """Ranked candidates for a record (not itself), each with a per-field explanation."""
        f = self.prepare(record)
        scored = []
        for rid in self._candidate_ids(f, kinds, self.max_candidates).tolist():
            other = self._features[rid]
            if other.record_id == f.record_id:
                continue
            levels, tfs = compare(f, other, self.freq)
            scored.append((self.model.weight(levels, tfs), rid, levels, tfs))
        scored.sort(key=lambda s: -s[0])
        out = []
        for w, rid, levels, tfs in scored[:limit]:
            explanation = self.model.explain(levels, tfs)
            if explanation.probability < min_probability:
                break
            other = self._features[rid]
            out.append(
                Candidate(
                    other.record_id,
                    list(RecordKind)[other.kind],
                    w,
                    explanation.probability,
                    explanation,
                )
            )
        return out

    def match_and_add(
        self, record: PersonRecord, limit: int = 10, min_probability: float = 0.0
    ) -> list[Candidate]:
        """Match a new record against everything indexed, then index it."""
        found = self.query(record, limit, min_probability)
        self.add(record)
        return found

    def train(self, sample: int = 5000, random_pairs: int = 20000, seed: int = 0) -> None:
        """Re-learn u (random pairs) and m and the prior (EM on candidate pairs) from the index."""
        live = sorted(self._number.values())
        n = len(live)
        if n < 2:
            return
        rng = random.Random(seed)  # noqa: S311 - sampling, not security
        feats = self._features
        rand_levels = []
        for _ in range(random_pairs):
            a, b = live[rng.randrange(n)], live[rng.randrange(n)]
            if a != b:
                rand_levels.append(compare(feats[a], feats[b], self.freq)[0])
        cand_levels = []
        for a in rng.sample(live, min(sample, n)):
            for b in self._candidate_ids(feats[a], None, 20).tolist():
                if b != a:
                    cand_levels.append(compare(feats[a], feats[b], self.freq)[0])
        if not rand_levels or not cand_levels:
            return
        train(
            self.model,
            np.asarray(rand_levels, dtype=np.int64),
            np.asarray(cand_levels, dtype=np.int64),
        )

    def memory_bytes(self) -> int:
        """Bytes held by the key arrays (features are Python objects, measured by the bench)."""
        return self._keys.nbytes()
