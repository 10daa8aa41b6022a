"""Probabilistic edges with Splink on DuckDB: settings as data, a trained model kept as JSON, pairs above the
match threshold returned as edges.

Only records that carry a name (first or last) take part: a bare email or loyalty card can only be joined deterministically.
"""

from __future__ import annotations

import csv
import json
import logging
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import splink.comparison_level_library as cll
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.normalize import normalize
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.internals.exceptions import EMTrainingException

from ingestion.warehouse import connection_config

MODEL_PATH = Path(__file__).parent / "model" / "splink_model.json"
NICKNAMES_PATH = Path(__file__).parent / "nicknames.csv"
logger = logging.getLogger(__name__)
# Each EM session estimates the m values of the comparisons its blocking leaves free.
# No session blocks on the address: its pairs are mostly households, which EM would learn as matches.
EM_BLOCKING_RULES = (block_on("email"), block_on("first_name_canonical", "last_name", "birth_date"),
                     block_on("birth_date"))
MIN_EM_PAIRS = 100
NO_PAIRS = pd.DataFrame(columns=["unique_id_l", "unique_id_r", "match_weight", "match_probability"])
SPLINK_COLUMNS = ["unique_id", "first_name", "first_name_canonical", "last_name", "birth_date", "street",
                  "postcode", "city", "email", "phone"]


@cache
def nicknames() -> dict[str, str]:
    with open(NICKNAMES_PATH, newline="") as handle:
        return {row["nickname"]: row["canonical"] for row in csv.DictReader(handle)}


def _clean(values: pd.Series) -> pd.Series:
    cleaned = values.astype("string").str.lower().str.replace(r"[^\w@.+ ]", "", regex=True).str.strip()
    return cleaned.mask(cleaned == "")


# how each column is put in Splink's layout; first_name_canonical is derived from the cleaned first name
CLEANERS = {
    "first_name": _clean, "last_name": _clean, "street": _clean, "city": _clean, "email": _clean, "phone": _clean,
    "postcode": lambda values: _clean(values).str.replace(" ", "", regex=False),
    "birth_date": lambda values: _clean(values).str.replace(r"\D", "", regex=True),
}


def _per_distinct(values: pd.Series, clean) -> pd.Series:
    """`clean(values)`, run once per distinct value and spread back: records share most of their names, cities,
    postcodes and birth dates (at 100k customers the layout takes 0.6 s instead of 1.6 s)."""
    codes, distinct = pd.factorize(values.reset_index(drop=True))
    cleaned = np.asarray(clean(pd.Series(distinct)).astype(object).where(lambda c: c.notna(), None), dtype=object)
    spread = cleaned.take(codes, mode="clip") if len(cleaned) else np.full(len(codes), None, dtype=object)
    spread[codes < 0] = None
    return pd.Series(spread, dtype=object)


def _canonical_first_name(first_names: pd.Series) -> pd.Series:
    return first_names.map(lambda name: nicknames().get(name, name) if isinstance(name, str) else name)


def splink_input(records: pd.DataFrame) -> pd.DataFrame:
    """The named records in Splink's layout: lower-case, punctuation-free text, a nickname-free first name."""
    frame = pd.DataFrame({"unique_id": records.index.to_numpy()})
    for column, clean in CLEANERS.items():
        frame[column] = _per_distinct(records[column], clean) if column in records else None
    frame["first_name_canonical"] = _per_distinct(frame["first_name"], _canonical_first_name)
    named = frame["first_name"].notna() | frame["last_name"].notna()
    return frame.loc[named, SPLINK_COLUMNS].astype(object)


def _comparison(name: str, null_level, levels: list[tuple]) -> cl.CustomComparison:
    """A comparison from (level, m prior) pairs, ending with the else level's prior. The priors say how often a
    true match lands in each level; training replaces them where the data holds enough evidence."""
    built = [null_level] + [level.configure(m_probability=m) for level, m in levels]
    return cl.CustomComparison(output_column_name=name, comparison_levels=built)


def settings() -> SettingsCreator:
    """Comparisons and blocking, as data: review a change here, then retrain (`python -m identity train`)."""
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            _comparison("first_name", cll.NullLevel("first_name"), [
                (cll.ExactMatchLevel("first_name"), 0.85),
                (cll.ExactMatchLevel("first_name_canonical").configure(label_for_charts="same name after nicknames"), 0.08),
                (cll.JaroWinklerLevel("first_name", 0.9), 0.04),
                (cll.JaroWinklerLevel("first_name", 0.75), 0.02),
                (cll.ElseLevel(), 0.01),
            ]),
            _comparison("last_name", cll.NullLevel("last_name"), [
                (cll.ExactMatchLevel("last_name"), 0.88),
                (cll.JaroWinklerLevel("last_name", 0.9), 0.07),
                (cll.JaroWinklerLevel("last_name", 0.75), 0.03),
                (cll.ElseLevel(), 0.02),
            ]),
            _comparison("birth_date", cll.NullLevel("birth_date"), [
                (cll.ExactMatchLevel("birth_date"), 0.9),
                (cll.LevenshteinLevel("birth_date", 1), 0.06),
                (cll.LevenshteinLevel("birth_date", 2), 0.02),
                (cll.ElseLevel(), 0.02),
            ]),
            # Street, postcode and city are one piece of evidence (a household shares all three): one
            # comparison, so the model does not count the same address three times.
            _comparison("address", cll.And(cll.NullLevel("street"), cll.NullLevel("postcode")), [
                (cll.And(cll.ExactMatchLevel("street"), cll.ExactMatchLevel("postcode")), 0.6),
                (cll.And(cll.JaroWinklerLevel("street", 0.9), cll.LevenshteinLevel("postcode", 1)), 0.15),
                (cll.ExactMatchLevel("postcode"), 0.05),
                (cll.Or(cll.JaroWinklerLevel("street", 0.9),
                        cll.And(cll.ExactMatchLevel("city"), cll.JaroWinklerLevel("street", 0.75))), 0.05),
                (cll.ElseLevel(), 0.15),  # people move
            ]),
            # Exact only: user names are built from names, so a fuzzy user-name level would count the name twice.
            _comparison("email", cll.NullLevel("email"), [
                (cll.ExactMatchLevel("email"), 0.5),
                (cll.ElseLevel(), 0.5),  # people use several addresses
            ]),
            _comparison("phone", cll.NullLevel("phone"), [
                (cll.ExactMatchLevel("phone"), 0.6),
                (cll.LevenshteinLevel("phone", 1), 0.05),
                (cll.ElseLevel(), 0.35),
            ]),
        ],
        # Each rule keeps its blocks small as the data grows: a name or a street alone is shared by thousands of
        # records at a million customers (10^8 pairs each, out of memory), a name or street within a city is not.
        blocking_rules_to_generate_predictions=[
            block_on("first_name_canonical", "last_name", "city"),
            block_on("birth_date", "substr(first_name_canonical, 1, 1)"),
            block_on("birth_date", "substr(last_name, 1, 1)"),  # a married name
            # Names entered the wrong way round, either record (pairs are generated one way: l before r).
            "l.birth_date = r.birth_date AND (substr(l.first_name, 1, 1) = substr(r.last_name, 1, 1) "
            "OR substr(l.last_name, 1, 1) = substr(r.first_name, 1, 1))",
            block_on("postcode"),
            block_on("street", "city"),
            block_on("street", "substr(last_name, 1, 1)"),  # the same address with the town missing or misspelt
            "l.first_name = r.last_name AND l.last_name = r.first_name",  # names entered the wrong way round
        ],
        retain_intermediate_calculation_columns=False,
    )


def _linker(frame: pd.DataFrame, model: SettingsCreator | dict | Path, threads: int | None = None,
            new: np.ndarray | None = None) -> Linker:
    """A linker over `frame` (table `records`); with `new` (a mask over the frame), also the tables
    `existing_records` and `new_records` to score the new against the existing and among themselves."""
    con = duckdb.connect(config=connection_config())  # the pipeline's memory limit: Splink spills, not the OOM killer
    if threads:
        con.execute(f"SET threads = {threads}")
    con.register("_frame", frame)
    # Typed explicitly: a column that is null throughout (no emails in FEBRL) must still be text for Splink.
    typed = "SELECT unique_id::BIGINT AS unique_id, " + ", ".join(f"{c}::VARCHAR AS {c}" for c in SPLINK_COLUMNS[1:])
    con.execute(f"CREATE TABLE records AS {typed} FROM _frame")
    con.unregister("_frame")
    if new is not None:
        con.register("_new", pd.DataFrame({"unique_id": frame["unique_id"].to_numpy(), "new": new}))
        for table, condition in (("existing_records", "NOT n.new"), ("new_records", "n.new")):
            con.execute(f"CREATE TABLE {table} AS SELECT r.* FROM records r JOIN _new n USING (unique_id) WHERE {condition}")
        con.unregister("_new")
    db_api = DuckDBAPI(connection=con)
    return Linker(db_api.register("records"), model, log_level=logging.WARNING)


def _sql(rule) -> str:
    return rule if isinstance(rule, str) else rule.get_blocking_rule("duckdb").blocking_rule_sql


def _pair_count(frame: pd.DataFrame, rule) -> int:
    con = duckdb.connect()
    con.register("f", frame)
    return con.execute(f"SELECT count(*) FROM f l JOIN f r ON l.unique_id < r.unique_id AND {_sql(rule)}").fetchone()[0]


def pairs_per_blocking_rule(records: pd.DataFrame) -> dict[str, int]:
    """How many pairs each prediction blocking rule hands Splink to score: the cost of `probabilistic_edges`.
    A rule whose count grows faster than the records (a key shared by a crowd) is what runs out of memory."""
    frame = splink_input(records)
    return {_sql(rule): _pair_count(frame, rule) for rule in settings().blocking_rules_to_generate_predictions}


def train(records: pd.DataFrame, path: Path | None = MODEL_PATH, em: bool = False) -> dict:
    """Unsupervised training (no labels): the prior of a match and u from random pairs; with `em`, m by
    expectation maximisation where a blocking gives enough pairs (else the priors in `settings` stand)."""
    frame = splink_input(records)
    linker = _linker(frame, settings(), threads=1)  # one thread: the seeded samples, and so the model, repeat
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("first_name", "last_name", "birth_date")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    sample = min(1.0, 300_000 / max(len(frame), 1))
    for rule in EM_BLOCKING_RULES if em else ():
        pairs = _pair_count(frame, rule)
        if pairs < MIN_EM_PAIRS:  # EM on a handful of pairs learns noise, not what a match looks like
            logger.warning("EM session blocked on %s skipped: %d pairs < %d", _sql(rule), pairs, MIN_EM_PAIRS)
            continue
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule, record_sample_proportion=sample)
        except (ValueError, EMTrainingException) as error:  # no pairs, or a level never seen in a small sample
            logger.warning("EM session blocked on %s skipped: %s", _sql(rule), str(error).splitlines()[0])
    model = linker.misc.save_model_to_json(str(path) if path else None, overwrite=True)
    return model


def probabilistic_edges(records: pd.DataFrame, threshold: float, model: dict | Path = MODEL_PATH,
                        layout: pd.DataFrame | None = None) -> pd.DataFrame:
    """Pairs of record indices scored at or above `threshold` (match probability) by the trained model.
    `layout`: `splink_input(records)` when the caller made it already."""
    frame = splink_input(records) if layout is None else layout
    if len(frame) < 2:
        return _edges(NO_PAIRS)
    linker = _linker(frame, model)
    return _edges(linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
                  .as_pandas_dataframe())


def new_record_edges(layout: pd.DataFrame, is_new: np.ndarray, threshold: float,
                     model: dict | Path = MODEL_PATH) -> pd.DataFrame:
    """The pairs `probabilistic_edges` would return that involve a new record: `layout` holds records in
    Splink's layout (`splink_input`, any unique ids), `is_new` marks the new ones; they are scored against the
    others and among themselves, never the others' pairs. Edges name the records by their unique ids."""
    if not is_new.any():
        return _edges(NO_PAIRS)
    linker = _linker(layout, model, new=is_new)
    db_api = linker._db_api
    existing_records, new_records = db_api.register("existing_records"), db_api.register("new_records")
    scored = []
    if (~is_new).any():
        scored.append(linker.inference.predict_between(existing_records, new_records, threshold_match_probability=threshold,
                                                       warning_mode="never").as_pandas_dataframe())
    if is_new.sum() >= 2:
        scored.append(linker.inference.predict_within(new_records, threshold_match_probability=threshold,
                                                      warning_mode="never").as_pandas_dataframe())
    return _edges(pd.concat(scored, ignore_index=True) if scored else NO_PAIRS)


def prediction_rules(model: dict | Path) -> list[str]:
    """The blocking rules a saved model predicts with (those of its file, which `settings` may since differ from)."""
    body = model if isinstance(model, dict) else json.loads(Path(model).read_text())
    return [rule["blocking_rule"] for rule in body["blocking_rules_to_generate_predictions"]]


def could_pair(existing: str, new: str, model: dict | Path) -> str:
    """SQL for the rows of table `existing` that one of `model`'s prediction blocking rules pairs with a row of
    table `new`, either way round (both in Splink's layout): the only existing records a new one can get an edge
    to. Each rule is split into the conjunctions of its disjunctive normal form, so that every semi-join keeps
    its equalities as a hash join (an OR across them made DuckDB compare every pair: 8.5 s at 1M customers)."""
    def oriented(clause: exp.Expression, left: str, right: str) -> str:
        def rename(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column) and node.table in ("l", "r"):
                return exp.column(node.name, table=left if node.table == "l" else right, quoted=True)
            return node
        return clause.transform(rename).sql("duckdb")

    conditions = []
    for rule in prediction_rules(model):
        normal = normalize(sqlglot.parse_one(rule, read="duckdb"), dnf=True)
        for clause in (normal.flatten() if isinstance(normal, exp.Or) else [normal]):
            for sides in (("e", "n"), ("n", "e")):
                condition = oriented(clause, *sides)
                if condition not in conditions:
                    conditions.append(condition)
    return "\nUNION\n".join(f"SELECT e.* FROM {existing} AS e SEMI JOIN {new} AS n ON {condition}"
                             for condition in conditions)


def _edges(pairs: pd.DataFrame) -> pd.DataFrame:
    """Splink's pairs as edges, the smaller record index on the left (as a dedupe's predict orders them)."""
    left, right = pairs["unique_id_l"].astype("int64").to_numpy(), pairs["unique_id_r"].astype("int64").to_numpy()
    return pd.DataFrame({
        "left_index": np.minimum(left, right), "right_index": np.maximum(left, right),
        "rule": "splink", "match_weight": pairs["match_weight"].astype(float).to_numpy(),
        "match_probability": pairs["match_probability"].astype(float).to_numpy(),
    })
