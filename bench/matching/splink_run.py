"""Splink (peer, benchmark only) on the same tasks.

FEBRL4 and historical_50k use the configurations of Splink's own documented examples (the
"detailed" FEBRL4 model; the historical_50k deduplication example). The migrant set uses a
configuration written for it here: names as given / father / grandfather, transliterated and
lower-cased, date of birth, birth year (exact or mid-point of an age estimate), sex,
nationality and distance between last-seen and found places; DuckDB is held to 6 GB (it
spills to disk) so that the million-record run stays under the bench's memory guard.
"""

from __future__ import annotations

import logging
import tempfile
import time

import duckdb
import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from datasets import LinkTask, splink_frame
from metrics import clustered, ordered, pairwise
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

logging.getLogger("splink").setLevel(logging.ERROR)
DUCKDB_MEMORY = "6GB"


def _febrl_prepare(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for c in ("date_of_birth", "soc_sec_id", "postcode"):
        df[c] = df[c].astype("string").str.strip()
    return df


def febrl4(task: LinkTask, a: pd.DataFrame, b: pd.DataFrame) -> dict:
    """Splink's documented detailed FEBRL4 model; links at match probability >= 0.5."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    rules = [
        block_on("given_name", "surname"),
        "l.given_name = r.surname and l.surname = r.given_name",
        block_on("date_of_birth"),
        block_on("soc_sec_id"),
        block_on("state", "address_1"),
        block_on("street_number", "address_1"),
        block_on("postcode"),
    ]
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="link_only",
        blocking_rules_to_generate_predictions=rules,
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth",
                input_is_string=True,
                datetime_format="%Y%m%d",
                invalid_dates_as_null=True,
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
                term_frequency_adjustments=True
            ),
        ],
    )
    db = DuckDBAPI()
    linker = Linker([db.register(_febrl_prepare(a)), db.register(_febrl_prepare(b))], settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    for rule in (block_on("date_of_birth"), block_on("postcode")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
    pred = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    got = {(str(x), str(y)) for x, y in zip(pred.rec_id_l, pred.rec_id_r, strict=True)}
    return {
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "pairwise": pairwise(_oriented(got, task), task.true_pairs),
    }


def _oriented(pairs: set[tuple[str, str]], task: LinkTask) -> set[tuple[str, str]]:
    """(left id, right id) whichever table Splink put on the left."""
    left = {r.record_id for r in task.left}
    return {(a, b) if a in left else (b, a) for a, b in pairs}


def historical_50k(task: LinkTask, df: pd.DataFrame) -> dict:
    """Splink's documented historical_50k example: pairs at p >= 0.5, clusters at 0.95."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    rules = [
        block_on("substr(first_name,1,3)", "substr(surname,1,4)"),
        block_on("surname", "dob"),
        block_on("first_name", "dob"),
        block_on("postcode_fake", "first_name"),
        block_on("postcode_fake", "surname"),
        block_on("dob", "birth_place"),
        block_on("substr(postcode_fake,1,3)", "dob"),
        block_on("substr(postcode_fake,1,3)", "first_name"),
        block_on("substr(postcode_fake,1,3)", "surname"),
        block_on("substr(first_name,1,2)", "substr(surname,1,2)", "substr(dob,1,4)"),
    ]
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=rules,
        comparisons=[
            cl.ForenameSurnameComparison(
                "first_name",
                "surname",
                forename_surname_concat_col_name="first_name_surname_concat",
            ),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.PostcodeComparison("postcode_fake"),
            cl.ExactMatch("birth_place").configure(term_frequency_adjustments=True),
            cl.ExactMatch("occupation").configure(term_frequency_adjustments=True),
        ],
    )
    df = df.copy()
    df["first_name_surname_concat"] = df.first_name + " " + df.surname
    db = DuckDBAPI()
    linker = Linker(db.register(df), settings)
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("first_name", "surname", "dob"),
            block_on("substr(first_name,1,2)", "surname", "substr(postcode_fake,1,2)"),
            block_on("dob", "postcode_fake"),
        ],
        recall=0.6,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7)
    for rule in (block_on("first_name", "surname"), block_on("dob")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
    predict = linker.inference.predict()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predict, threshold_match_probability=0.95
    ).as_pandas_dataframe()
    pred = predict.as_pandas_dataframe()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    hits = pred[pred.match_probability >= 0.5]
    got = ordered(zip(hits.unique_id_l.astype(str), hits.unique_id_r.astype(str), strict=True))
    labels = dict(zip(clusters.unique_id.astype(str), clusters.cluster_id, strict=True))
    return {
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "pairwise": pairwise(got, task.true_pairs),
        "clustered": clustered(labels, task.true_cluster),
    }


def migrants(task: LinkTask) -> dict:
    """A fair Splink model for the synthetic migrant records; links at p >= 0.5."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    left, right = splink_frame(task.left), splink_frame(task.right or [])
    rules = [
        block_on("given_name", "father_name"),
        "l.given_name = r.father_name and l.father_name = r.given_name",
        block_on("given_name", "birth_year"),
        block_on("father_name", "birth_year"),
        block_on("dob"),
    ]
    name = cl.NameComparison
    settings = SettingsCreator(
        link_type="link_only",
        blocking_rules_to_generate_predictions=rules,
        comparisons=[
            name("given_name").configure(term_frequency_adjustments=True),
            name("father_name").configure(term_frequency_adjustments=True),
            name("grandfather_name").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True, invalid_dates_as_null=True),
            cl.CustomComparison(
                output_column_name="birth_year",
                comparison_levels=[
                    cll.NullLevel("birth_year"),
                    cll.ExactMatchLevel("birth_year"),
                    cll.AbsoluteDifferenceLevel("birth_year", 2),
                    cll.AbsoluteDifferenceLevel("birth_year", 6),
                    cll.ElseLevel(),
                ],
            ),
            cl.ExactMatch("sex"),
            cl.ExactMatch("nationality"),
            cl.DistanceInKMAtThresholds("lat", "lon", [50, 500, 2000]),
        ],
    )
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")  # spill to disk below the bench's guard
    con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/splink_duckdb'")
    db = DuckDBAPI(connection=con)
    linker = Linker([db.register(left), db.register(right)], settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "father_name", "birth_year")], recall=0.5
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    # Training blocks: same names teach the other fields, the same date of birth teaches the
    # names (birth year and nationality alone make some 700 million pairs at 1M records).
    for rule in (block_on("given_name", "father_name"), block_on("dob")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
    pred = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    got = {(str(x), str(y)) for x, y in zip(pred.unique_id_l, pred.unique_id_r, strict=True)}
    return {
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "pairwise": pairwise(_oriented(got, task), task.true_pairs),
    }
