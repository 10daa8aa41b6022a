"""The suppression list: keyed hashes of every identifier an erasure removed, never the values.

A delivered row that carries one of them is not written to raw; the load manifest and the reconciliation count
it. Identifiers are compared in a normal form that does not depend on how a feed typed them (case and spaces
of an email, the formatting of a phone number), so a re-delivery in another layout is still recognised.
"""

from __future__ import annotations

import duckdb

from ingestion.contracts import FeedContract

# column -> SQL normal form of its raw value `{v}` (null when nothing identifying is left)
IDENTIFIER_FORMS = {
    "email": "nullif(lower(trim({v})), '')",
    # the last nine digits: the national significant number, whatever the prefix (+44 7700..., 07700...)
    "phone": "CASE WHEN length(regexp_replace({v}, '[^0-9]', '', 'g')) >= 9 "
             "THEN right(regexp_replace({v}, '[^0-9]', '', 'g'), 9) END",
    "loyalty_id": "nullif(upper(trim({v})), '')",
    "account_id": "nullif(upper(trim({v})), '')",
    "cookie_id": "nullif(trim({v}), '')",
    # the keys of the feeds whose row is a record of the person (identity's record key)
    "contact_id": "nullif(trim({v}), '')",
    "order_id": "nullif(trim({v}), '')",
    "case_id": "nullif(trim({v}), '')",
    "lead_id": "nullif(trim({v}), '')",
    "customer_id": "nullif(trim({v}), '')",
}
RECORD_KEYS = {"crm_contacts": "contact_id", "ecommerce_orders": "order_id", "service_cases": "case_id",
               "sales_leads": "lead_id"}

DDL = """CREATE TABLE IF NOT EXISTS audit.suppression_list (
    identifier_hash VARCHAR, identifier_kind VARCHAR, request_id VARCHAR, added_at TIMESTAMP)"""


def identifier_columns(contract: FeedContract) -> list[str]:
    """The feed's columns that identify a person on their own (names and addresses do not), and the key of a
    feed whose row is a record of the person."""
    record_key = [RECORD_KEYS[contract.feed]] if contract.feed in RECORD_KEYS else []
    return [c.name for c in contract.columns if c.pii and c.name in IDENTIFIER_FORMS] + record_key


def hashed(column: str, relation: str = "") -> str:
    """SQL for the keyed hash of a row's identifier in `column` (needs the connection's `pseudonym` macro)."""
    value = f'{relation + "." if relation else ""}"{column}"::VARCHAR'  # a Parquet delivery may type it
    return f"pseudonym('{column}:' || {IDENTIFIER_FORMS[column].format(v=value)})"


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    con.execute(DDL)


def is_empty(con: duckdb.DuckDBPyConnection) -> bool:
    ensure_table(con)
    return con.execute("SELECT count(*) = 0 FROM audit.suppression_list").fetchone()[0]


def suppressed_rows_sql(contract: FeedContract, relation: str, present: list[str]) -> str | None:
    """A query of the `_file` and `_record` of the rows of staged `relation` (with the columns `present`) that
    carry a suppressed identifier; None when they hold no identifying column."""
    columns = [c for c in identifier_columns(contract) if c in present]
    if not columns:
        return None
    hashes = " UNION ALL ".join(f"SELECT _file, _record, {hashed(c)} AS h FROM {relation} WHERE \"{c}\" IS NOT NULL"
                                for c in columns)
    return (f"SELECT DISTINCT _file, _record FROM ({hashes}) AS carried "
            "SEMI JOIN audit.suppression_list AS s ON s.identifier_hash = carried.h")
