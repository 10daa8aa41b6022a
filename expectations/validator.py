"""Validate a feed's landed rows: contract types in SQL, then the feed's GX suite on a pandas batch.

Row-level failures are written to `quarantine.<feed>` (file, row, rule, column, offending value, whole record)
with their outcome: by default the row is quarantined; a rule whose meta says `"on_failure": "null_attribute"`
(an optional attribute out of range, say a CSAT of 7) lets the row pass with that attribute nulled, so that
operational counts stay complete, and records the fault.
Batch-level results (on the batch) and daily results (on a per-day profile: row count against recent
days, freshness) are returned for the Dagster asset checks. GX's SQL datasource does not work on DuckDB,
so each batch is read out of DuckDB into pandas: the run's landing days, cut into windows of at most
MAX_BATCH_ROWS rows for the row rules.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

import duckdb
import great_expectations as gx
import pandas as pd

from expectations.row_sql import DUCKDB, FAILURE_COLUMNS, failing_rows, outcome_of, type_rules, typed_select
from expectations.suites import expectations_at, load_suite, resolve_kwargs
from ingestion.audit import MALFORMED_RULES
from ingestion.contracts import FeedContract
from ingestion.warehouse import ATTRIBUTE_NULLED, ROW_QUARANTINED

logging.getLogger("great_expectations").setLevel(logging.ERROR)

ROW_ID = "_row_id"
MAX_BATCH_ROWS = 1_000_000  # rows GX holds in one pandas batch: bounds memory on a long backfill


@dataclass
class BatchCheck:
    rule: str
    severity: str  # error | warn
    passed: bool | None  # None: not judged, there was too little to judge
    observed: object
    expectation: str

    @property
    def shown(self) -> str:
        """The observed value as a person reads it: a share as a percentage, a count with separators."""
        if isinstance(self.observed, float):
            return f"{self.observed:.2%}" if 0 <= self.observed <= 1 else f"{self.observed:,.2f}"
        if isinstance(self.observed, int) and not isinstance(self.observed, bool):
            return f"{self.observed:,}"
        return str(self.observed)


@dataclass
class Validation:
    rows_checked: int
    rows_quarantined: int
    failures_by_rule: dict[str, int]
    batch_checks: list[BatchCheck]
    rows_attribute_nulled: int = 0  # rows that passed with an attribute nulled


def check_nullable_rules(contract: FeedContract, suite: dict) -> None:
    """A rule may null only an optional attribute: not a required column, not an identifier (a record without
    its identifier would join nobody, or the wrong person)."""
    required = {c.name for c in contract.columns if c.required}
    identifiers = set(suite.get("meta", {}).get("identifier_columns", []))
    for e in expectations_at(suite, "row"):
        if outcome_of(e) != ATTRIBUTE_NULLED:
            continue
        column = e["kwargs"].get("column") or e["kwargs"].get("column_A")
        if column in required or column in identifiers:
            raise ValueError(f"suite {contract.feed}, rule {e['meta'].get('rule')}: null_attribute cannot apply to "
                             f"{column}, a {'required' if column in required else 'identifier'} column")


@cache
def _gx_context() -> gx.data_context.AbstractDataContext:
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    return context


def _run_suite(name: str, expectations: list[dict], now: datetime, con, frame: pd.DataFrame,
               result_format: dict) -> gx.core.ExpectationSuiteValidationResult:
    """Run the expectations on the frame through a throwaway datasource, suite and validation definition.
    GX's execution engine keeps every batch it has validated (BatchManager's batch data cache, which lives
    as long as the datasource), so a datasource reused across a year's windows held every window's frame:
    11 GiB of a million customers' email events."""
    context = _gx_context()
    name = f"{name}-{uuid.uuid4().hex[:8]}"  # reference values and the clock differ per run
    batch = context.data_sources.add_pandas(name).add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=[
        {**e, "kwargs": resolve_kwargs(e["kwargs"], con, now)} for e in expectations
    ]))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
    try:
        return definition.run(batch_parameters={"dataframe": frame}, result_format=result_format)
    finally:
        context.validation_definitions.delete(name)
        context.suites.delete(name)
        context.data_sources.delete(name)


def _type_failures(con: duckdb.DuckDBPyConnection, contract: FeedContract, days: tuple[date, date]) -> pd.DataFrame:
    """Rows whose value is present but does not parse as the contract's type."""
    rules = type_rules(contract, DUCKDB)
    if not rules:
        return pd.DataFrame(columns=FAILURE_COLUMNS)
    rows = f"(SELECT * FROM raw.{contract.feed} WHERE _load_date BETWEEN ? AND ?)"
    return con.execute(" UNION ALL ".join(failing_rows(r, rows, DUCKDB) for r in rules),
                       [days[0], days[1]] * len(rules)).df()


def _day_windows(con, contract: FeedContract, days: tuple[date, date]) -> list[tuple[date, date]]:
    """The run's days cut into runs of consecutive days holding at most MAX_BATCH_ROWS rows (a bigger day is a
    window alone), so a year's backfill never puts the whole feed into one pandas batch."""
    counts = con.execute(f"SELECT _load_date, count(*) FROM raw.{contract.feed} WHERE _load_date BETWEEN ? AND ? "
                         f"GROUP BY 1 ORDER BY 1", [days[0], days[1]]).fetchall()
    windows: list[tuple[date, date]] = []
    rows_in_window = 0
    for day, rows in counts:
        if windows and rows_in_window + rows <= MAX_BATCH_ROWS:
            windows[-1] = (windows[-1][0], day)
            rows_in_window += rows
        else:
            windows.append((day, day))
            rows_in_window = rows
    return windows


def _batch(con, contract: FeedContract, days: tuple[date, date], exclude: pd.DataFrame, identifiers: list[str]) -> pd.DataFrame:
    con.register("_excluded_rows", exclude[["_source_file", "_row_number"]])
    present = " OR ".join(f'nullif(trim("{c}"), \'\') IS NOT NULL' for c in identifiers) or "true"
    frame = con.execute(
        f"SELECT _source_file, _row_number, {typed_select(contract, DUCKDB)}, "
        f"CASE WHEN {present} THEN true END AS _identifier_present "
        f"FROM raw.{contract.feed} r WHERE _load_date BETWEEN ? AND ? "
        f"AND NOT EXISTS (SELECT 1 FROM _excluded_rows x WHERE x._source_file = r._source_file "
        f"AND x._row_number = r._row_number) ORDER BY _source_file, _row_number",
        [days[0], days[1]],
    ).df()
    con.unregister("_excluded_rows")
    frame[ROW_ID] = range(len(frame))
    # GX compares datetime64[ns] columns vectorised but DuckDB's microseconds value by value in Python
    for column in frame.select_dtypes("datetime64").columns:
        try:
            frame[column] = frame[column].astype("datetime64[ns]")
        except pd.errors.OutOfBoundsDatetime:  # a year outside 1677-2262: the per-value path still judges it
            pass
    return frame


def _columns_for(expectations: list[dict], frame: pd.DataFrame) -> pd.DataFrame:
    """The batch cut to the columns these expectations read (and the row id): GX fingerprints every column
    of a batch it is given, so the rest would only cost time."""
    used = {e["kwargs"][key] for e in expectations for key in ("column", "column_A", "column_B") if key in e["kwargs"]}
    return frame[[c for c in frame.columns if c in used or c == ROW_ID]]


# Batch expectations that only count values or test them for equality: for these a text column reaches GX as
# 64-bit hashes, 8 bytes a row, not a Python string each (a million customers' year of email events is 25M ids,
# ~10 GiB as strings through the concatenation and GX's unique count). Two of 25M ids sharing a hash is a
# 1-in-50,000 chance and would move a unique share by one row in 25M.
HASHABLE = {"expect_column_proportion_of_unique_values_to_be_between",
            "expect_column_unique_value_count_to_be_between",
            "expect_column_values_to_not_be_null", "expect_column_values_to_be_null"}


def _batch_columns(expectations: list[dict], frame: pd.DataFrame) -> pd.DataFrame:
    """The columns the batch expectations read, text columns as nullable 64-bit hashes where they allow it."""
    readers: dict[str, set[str]] = {}
    for e in expectations:
        for key in ("column", "column_A", "column_B"):
            if key in e["kwargs"]:
                readers.setdefault(e["kwargs"][key], set()).add(e["type"])
    columns = _columns_for(expectations, frame)
    hashed = {column: pd.Series(pd.util.hash_pandas_object(columns[column], index=False).to_numpy(),
                                index=columns.index, dtype="UInt64").mask(columns[column].isna())
              for column, types in readers.items()
              if column in columns and columns[column].dtype == object and types <= HASHABLE}
    return columns.assign(**hashed)


def _row_failures(outcomes: list, frame: pd.DataFrame) -> pd.DataFrame:
    failures = []
    for outcome in outcomes:
        config = outcome.expectation_config
        if outcome.success:
            continue
        rule = config.meta.get("rule", config.type)
        result = outcome_of({"meta": dict(config.meta or {})})
        column = config.kwargs.get("column") or config.kwargs.get("column_A")
        if outcome.exception_info and outcome.exception_info.get("raised_exception"):
            raise RuntimeError(f"expectation {rule} could not run: {outcome.exception_info.get('exception_message')}")
        ids = [item[ROW_ID] for item in outcome.result.get("unexpected_index_list") or []]
        if not ids:  # failed without naming rows: GX could not evaluate it (e.g. a bound of the wrong type)
            raise RuntimeError(f"expectation {rule} failed without naming rows: {outcome.result or outcome.exception_info}")
        rows = frame.loc[frame[ROW_ID].isin(ids), ["_source_file", "_row_number"]]
        failures.append(rows.assign(rule=rule, column_name=column, outcome=result))
    return pd.concat(failures, ignore_index=True) if failures else pd.DataFrame(columns=FAILURE_COLUMNS)



def _settle_outcomes(failures: pd.DataFrame) -> pd.DataFrame:
    """A row with any fault that quarantines it is quarantined for all its faults: nothing of it is nulled."""
    if failures.empty:
        return failures
    quarantined = failures.loc[failures["outcome"] == ROW_QUARANTINED, ["_source_file", "_row_number"]]
    keys = pd.MultiIndex.from_frame(failures[["_source_file", "_row_number"]])
    in_quarantine = keys.isin(pd.MultiIndex.from_frame(quarantined))
    return failures.assign(outcome=[ROW_QUARANTINED if q else o for q, o in zip(in_quarantine, failures["outcome"])])


# Share-of-rows checks say nothing on a handful of rows (a quiet day): below this many they are not judged.
MIN_ROWS_FOR_SHARES = 50
RECENT_DAYS = 7  # the row-count check compares a day with the median of the loaded days in this window


def _daily_profile(con, contract: FeedContract, days: tuple[date, date]) -> pd.DataFrame:
    """One row per landing day of the run: its row count against the median of the loaded days before it
    (judged only once it has RECENT_DAYS of them, so a feed's first week is not measured against itself), and how
    many days its newest event lags the landing day (freshness)."""
    event_time = f'try_cast(trim("{contract.event_time}") AS TIMESTAMP)'
    return con.execute(
        f"""WITH per_day AS (
            SELECT _load_date AS load_date, count(*) AS row_count, max({event_time})::DATE AS newest_event
            FROM raw.{contract.feed} WHERE _load_date BETWEEN ? - INTERVAL {RECENT_DAYS} DAY AND ? GROUP BY 1
        ), with_history AS (
            SELECT *, median(row_count) OVER recent AS recent_median, count(*) OVER recent AS days_before
            FROM per_day
            WINDOW recent AS (ORDER BY load_date ROWS BETWEEN {RECENT_DAYS} PRECEDING AND 1 PRECEDING)
        )
        SELECT load_date, row_count, recent_median,
               CASE WHEN days_before = {RECENT_DAYS} AND recent_median >= {MIN_ROWS_FOR_SHARES}
                    THEN row_count / recent_median END AS rows_vs_recent_median,
               date_diff('day', newest_event, load_date) AS freshness_lag_days
        FROM with_history WHERE load_date BETWEEN ? AND ? ORDER BY load_date""",
        [days[0], days[1], days[0], days[1]],
    ).df()


DAILY_NEEDS = {
    "rows_vs_recent_median": f"has {RECENT_DAYS} loaded days before it with a median of {MIN_ROWS_FOR_SHARES}+ rows",
    "freshness_lag_days": "has a readable event time",
}


def _daily_checks(con, contract: FeedContract, expectations: list[dict], days: tuple[date, date],
                  now: datetime) -> list[BatchCheck]:
    """Day-over-day rules (row count against recent days, freshness), run by GX on the run's daily profile."""
    profile = _daily_profile(con, contract, days)
    if not expectations or profile.empty:
        return []
    profile["load_date"] = profile["load_date"].astype(str)
    result = _run_suite(f"{contract.feed}-daily", expectations, now, con, profile,
                        {"result_format": "COMPLETE", "unexpected_index_column_names": ["load_date"]})
    checks = []
    for outcome in result.results:
        config = outcome.expectation_config
        failing = [item["load_date"] for item in outcome.result.get("unexpected_index_list") or []]
        column = config.kwargs["column"]
        judged = int(profile[column].notna().sum())
        passed = bool(outcome.success) if judged else None
        observed = (f"{len(failing)} of {len(profile)} days outside: " + ", ".join(
            f"{d} ({profile.loc[profile.load_date == d, column].iloc[0]:.2f})" for d in failing[:10])
            if failing else f"all {judged} judged days of {len(profile)} within" if judged
            else f"not judged: none of the {len(profile)} days {DAILY_NEEDS.get(column, 'could be measured')}")
        checks.append(BatchCheck(config.meta["rule"], config.meta.get("severity", "warn"), passed, observed,
                                 config.type))
    return checks


def _batch_checks(outcomes: list, rows: int) -> list[BatchCheck]:
    checks = []
    for outcome in outcomes:
        config = outcome.expectation_config
        observed = outcome.result.get("observed_value")
        if observed is None:  # a mostly-check: report the failing share, not GX's bare percentage
            observed = f"{outcome.result.get('unexpected_percent', 0):.1f}% of rows null or unexpected"
        passed = bool(outcome.success)
        is_share = "mostly" in config.kwargs or "proportion" in config.type
        if is_share and rows < MIN_ROWS_FOR_SHARES:
            passed, observed = None, f"not judged: {rows} rows < {MIN_ROWS_FOR_SHARES} (observed {observed})"
        checks.append(BatchCheck(config.meta["rule"], config.meta.get("severity", "warn"), passed, observed, config.type))
    return checks


def _quarantine(con, contract: FeedContract, failures: pd.DataFrame, days: tuple[date, date], now: datetime) -> None:
    if failures.empty:
        return
    con.register("_failures", failures)
    feed = contract.feed
    # The message travels into the HTML quality report and Dagster's logs: a personal value is shown by its
    # length only. The value itself stays in offending_value, inside the build database.
    pii = [c.name for c in contract.columns if c.pii] or [""]
    con.execute(
        f"""INSERT INTO quarantine.{feed}
        WITH failed AS (
            SELECT f.rule, f.column_name, f.outcome, json_extract_string(to_json(r), '$.' || f.column_name) AS _value, r
            FROM _failures f JOIN raw.{feed} r USING (_source_file, _row_number)
            WHERE r._load_date BETWEEN ? AND ?
        )
        SELECT '{feed}', r._source_file, r._row_number, r._load_date, rule, column_name, _value,
               '[{feed}] ' || r._source_file || ' row ' || r._row_number || ': rule ' || rule || ' failed on '
                   || column_name || ' = ' || CASE
                       WHEN _value IS NULL THEN 'null'
                       WHEN list_contains(?, column_name) THEN '<personal data, ' || length(_value) || ' characters>'
                       ELSE '''' || _value || '''' END
                   || CASE WHEN outcome = '{ATTRIBUTE_NULLED}' THEN ' (row kept, ' || column_name || ' nulled)'
                           ELSE '' END,
               -- the row as delivered: without its load time, so re-loading a day changes nothing
               json_merge_patch(to_json(r), '{{"_loaded_at": null}}')::VARCHAR, ?, outcome
        FROM failed""",
        [days[0], days[1], pii, now],
    )
    con.unregister("_failures")


def validate_days(con: duckdb.DuckDBPyConnection, contract: FeedContract, first: date, last: date,
                  now: datetime | None = None) -> Validation:
    """Check the rows landed for days first..last; quarantine failing rows; return the batch results."""
    now = now or datetime.now()
    days = (first, last)
    suite = load_suite(contract.feed)
    check_nullable_rules(contract, suite)
    con.execute(f"DELETE FROM quarantine.{contract.feed} WHERE _load_date BETWEEN ? AND ? "
                f"AND rule NOT IN {MALFORMED_RULES}", [first, last])
    type_failures = _type_failures(con, contract, days)
    identifiers = suite.get("meta", {}).get("identifier_columns", [])
    row_expectations, batch_expectations = expectations_at(suite, "row"), expectations_at(suite, "batch")
    row_failures, batch_columns = [], []
    for window in _day_windows(con, contract, days):
        frame = _batch(con, contract, window, type_failures, identifiers)
        if frame.empty:
            continue
        # Row rules need every failing row (COMPLETE); they judge each row alone, so a window at a time.
        rows = _run_suite(contract.feed, row_expectations, now, con, _columns_for(row_expectations, frame),
                          {"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_ID]})
        row_failures.append(_row_failures(rows.results, frame))
        batch_columns.append(_batch_columns(batch_expectations, frame))
    batch_checks: list[BatchCheck] = []
    if batch_columns and batch_expectations:
        # Batch rules judge the run's rows as a whole, on the few columns they read; only their figures
        # (SUMMARY), which keeps a share check on a mostly-anonymous feed from listing millions of row ids.
        whole = pd.concat(batch_columns, ignore_index=True).assign(**{ROW_ID: lambda f: range(len(f))})
        batch = _run_suite(f"{contract.feed}-batch", batch_expectations, now, con, whole, {"result_format": "SUMMARY"})
        batch_checks = _batch_checks(batch.results, len(whole))
    batch_checks += _daily_checks(con, contract, expectations_at(suite, "daily"), days, now)
    failures = _settle_outcomes(pd.concat([type_failures, *row_failures], ignore_index=True))
    _quarantine(con, contract, failures, days, now)
    rows_checked = con.execute(f"SELECT count(*) FROM raw.{contract.feed} WHERE _load_date BETWEEN ? AND ?",
                               [first, last]).fetchone()[0]
    rows = failures.drop_duplicates(["_source_file", "_row_number"])
    return Validation(
        rows_checked=rows_checked,
        rows_quarantined=int((rows["outcome"] == ROW_QUARANTINED).sum()),
        failures_by_rule=failures.groupby("rule").size().to_dict() if len(failures) else {},
        batch_checks=batch_checks,
        rows_attribute_nulled=int((rows["outcome"] == ATTRIBUTE_NULLED).sum()),
    )
