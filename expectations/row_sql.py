"""The row rules of a feed's suite, and its contract's types, as one SQL query: the failing rows with their rule.

On DuckDB the suite's row rules run in GX (expectations/validator.py); on Spark, GX 1.x declares support only
below Spark 4.2, so the same suite file is compiled here to SQL and run by the engine. One rule stays in one
place, and tests/test_row_rules_sql.py proves that both give the same quarantine on the same landing days.

GX's semantics are kept: a map rule (set, range, pattern) judges present values only; a row whose value does not
parse as its contract type fails that type rule and is not judged by the row rules (GX never sees it); a row
failing any quarantining rule is quarantined for all its faults, nothing of it nulled.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from expectations.suites import NOW, REF_PREFIX, expectations_at
from ingestion.contracts import FeedContract
from ingestion.warehouse import ATTRIBUTE_NULLED, ROW_QUARANTINED

SQL_TYPES = {"integer": "BIGINT", "decimal": "DOUBLE", "date": "DATE", "timestamp": "TIMESTAMP", "boolean": "BOOLEAN"}
FAILURE_COLUMNS = ["_source_file", "_row_number", "rule", "column_name", "outcome"]


@dataclass(frozen=True)
class Dialect:
    """What differs between the engines in the SQL written here, and nothing else."""
    name: str
    quote_char: str
    regex_function: str  # (text, pattern) -> true when the pattern matches anywhere in the text, as GX's search
    escapes_backslash: bool  # Spark's literals unescape backslashes, DuckDB's do not

    def column(self, name: str) -> str:
        return f"{self.quote_char}{name}{self.quote_char}"

    def string(self, value: str) -> str:
        text = value.replace("\\", "\\\\") if self.escapes_backslash else value
        return "'" + text.replace("'", "''") + "'"

    def literal(self, value: object) -> str:
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            return repr(value)
        if isinstance(value, datetime):
            return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
        if isinstance(value, date):
            return f"TIMESTAMP '{value.isoformat()} 00:00:00'"
        if isinstance(value, str):
            return self.string(value)
        raise TypeError(f"no SQL literal for {value!r}")

    def matches(self, column_sql: str, pattern: str) -> str:
        return f"{self.regex_function}({column_sql}, {self.string(pattern)})"


DUCKDB = Dialect("duckdb", '"', "regexp_matches", escapes_backslash=False)
SPARK = Dialect("spark", "`", "regexp", escapes_backslash=True)


@dataclass(frozen=True)
class RowRule:
    rule: str
    column: str
    outcome: str  # ROW_QUARANTINED | ATTRIBUTE_NULLED
    failing: str  # SQL predicate over the typed columns: true when the row breaks the rule


def outcome_of(expectation: dict) -> str:
    """What a failing row rule does: quarantine the row (the default) or null the attribute it judged."""
    action = expectation.get("meta", {}).get("on_failure", "quarantine_row")
    if action not in ("quarantine_row", "null_attribute"):
        raise ValueError(f"rule {expectation['meta'].get('rule')}: on_failure must be quarantine_row or "
                         f"null_attribute, not {action!r}")
    return ATTRIBUTE_NULLED if action == "null_attribute" else ROW_QUARANTINED


def typed_select(contract: FeedContract, dialect: Dialect) -> str:
    """The contract's columns as their types; a blank value is null, an unparseable one null as well."""
    columns = []
    for column in contract.columns:
        name = dialect.column(column.name)
        text = f"nullif(trim({name}), '')"
        columns.append(f"try_cast({text} AS {SQL_TYPES[column.type]}) AS {name}" if column.type in SQL_TYPES
                       else f"{text} AS {name}")
    return ", ".join(columns)


def type_rules(contract: FeedContract, dialect: Dialect) -> list[RowRule]:
    """One rule per typed column: a present value that does not parse as the contract's type (on the raw text)."""
    rules = []
    for column in (c for c in contract.columns if c.type in SQL_TYPES):
        name = dialect.column(column.name)
        rules.append(RowRule(f"{column.name}_is_{column.type}", column.name, ROW_QUARANTINED,
                             f"nullif(trim({name}), '') IS NOT NULL AND "
                             f"try_cast(trim({name}) AS {SQL_TYPES[column.type]}) IS NULL"))
    return rules


def suite_rules(suite: dict, dialect: Dialect, now: datetime, raw_feeds: Collection[str]) -> list[RowRule]:
    """The suite's row-level expectations as SQL predicates, with `$now` the run's clock and `$ref:feed.column`
    the values raw holds for that column (as GX is given them on DuckDB); `raw_feeds` are the feeds whose raw
    table exists (a reference to a feed never loaded is an empty set)."""
    return [RowRule(e["meta"]["rule"], e["kwargs"].get("column") or e["kwargs"]["column_A"], outcome_of(e),
                    _failing(e, dialect, now, raw_feeds))
            for e in expectations_at(suite, "row")]


SUPPORTED_KWARGS = {
    "expect_column_values_to_not_be_null": {"column"},
    "expect_column_values_to_be_in_set": {"column", "value_set"},
    "expect_column_values_to_match_regex": {"column", "regex"},
    "expect_column_values_to_be_between": {"column", "min_value", "max_value", "strict_min", "strict_max"},
    "expect_column_pair_values_a_to_be_greater_than_b": {"column_A", "column_B", "or_equal", "ignore_row_if"},
}


def _failing(expectation: dict, dialect: Dialect, now: datetime, raw_feeds: Collection[str]) -> str:
    kind, kwargs, rule = expectation["type"], expectation["kwargs"], expectation["meta"].get("rule")
    unsupported = set(kwargs) - SUPPORTED_KWARGS.get(kind, set())
    if kind not in SUPPORTED_KWARGS or unsupported:
        raise ValueError(f"rule {rule}: {kind} with {sorted(unsupported) or 'this type'} has no SQL form here; "
                         f"row rules may use {sorted(SUPPORTED_KWARGS)} with their listed arguments")
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        if kwargs.get("ignore_row_if") != "either_value_is_missing":
            raise ValueError(f"rule {rule}: a pair rule needs ignore_row_if 'either_value_is_missing'")
        operator = "<" if kwargs.get("or_equal") else "<="
        return f"{dialect.column(kwargs['column_A'])} {operator} {dialect.column(kwargs['column_B'])}"
    column = dialect.column(kwargs["column"])
    if kind == "expect_column_values_to_not_be_null":
        return f"{column} IS NULL"
    if kind == "expect_column_values_to_match_regex":
        return f"NOT {dialect.matches(column, kwargs['regex'])}"
    if kind == "expect_column_values_to_be_in_set":
        values = kwargs["value_set"]
        if isinstance(values, str) and values.startswith(REF_PREFIX):
            feed, ref_column = values[len(REF_PREFIX):].split(".")
            if feed not in raw_feeds:
                return f"{column} IS NOT NULL"
            ref = dialect.column(ref_column)
            return f"{column} NOT IN (SELECT {ref} FROM raw.{feed} WHERE {ref} IS NOT NULL)"
        return f"{column} NOT IN ({', '.join(dialect.literal(v) for v in values)})"
    bounds = []
    for key, strict, operator in (("min_value", "strict_min", "<"), ("max_value", "strict_max", ">")):
        value = kwargs.get(key)
        if value is None:
            continue
        value = now if value == NOW else datetime.fromisoformat(value) if isinstance(value, str) else value
        # a strict bound fails the value equal to it too
        bounds.append(f"{column} {operator}{'=' if kwargs.get(strict) else ''} {dialect.literal(value)}")
    return "(" + " OR ".join(bounds) + ")"


def failing_rows(rule: RowRule, relation: str, dialect: Dialect) -> str:
    """The rows of `relation` that break `rule`, with FAILURE_COLUMNS."""
    return (f"SELECT _source_file, _row_number, {dialect.string(rule.rule)} AS rule, "
            f"{dialect.string(rule.column)} AS column_name, {dialect.string(rule.outcome)} AS outcome "
            f"FROM {relation} WHERE {rule.failing}")


def failures_sql(contract: FeedContract, suite: dict, dialect: Dialect, now: datetime, rows: str,
                 raw_feeds: Collection[str]) -> str:
    """The failing rows of relation `rows` (raw rows as text, with `_source_file` and `_row_number`): one row per
    (row, rule) with FAILURE_COLUMNS, outcomes settled."""
    types = type_rules(contract, dialect)
    rules = suite_rules(suite, dialect, now, raw_feeds)

    type_failures = " UNION ALL ".join(failing_rows(r, rows, dialect) for r in types) or \
        f"SELECT _source_file, _row_number, '' AS rule, '' AS column_name, '' AS outcome FROM {rows} WHERE false"
    rule_failures = " UNION ALL ".join(failing_rows(r, "typed", dialect) for r in rules) or \
        "SELECT _source_file, _row_number, '' AS rule, '' AS column_name, '' AS outcome FROM typed WHERE false"
    return f"""
        WITH type_failures AS ({type_failures}),
        typed AS (
            SELECT _source_file, _row_number, {typed_select(contract, dialect)} FROM {rows} r
            WHERE NOT EXISTS (SELECT 1 FROM type_failures t
                              WHERE t._source_file = r._source_file AND t._row_number = r._row_number)
        ),
        failures AS (SELECT * FROM type_failures UNION ALL {rule_failures})
        SELECT _source_file, _row_number, rule, column_name,
               CASE WHEN max(CASE WHEN outcome = '{ROW_QUARANTINED}' THEN 1 ELSE 0 END)
                         OVER (PARTITION BY _source_file, _row_number) = 1
                    THEN '{ROW_QUARANTINED}' ELSE outcome END AS outcome
        FROM failures"""
