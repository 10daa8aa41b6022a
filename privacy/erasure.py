"""The right to erasure: find a person through the identity crosswalk and remove them from what ingestion and
identity keep, leaving their purchases and events as anonymous facts.

`forget` changes the build database and the landing files; the transform that follows rebuilds staging,
identity and the marts without the person and publishes afresh, and the compaction after it purges the bytes
(orchestration/defs/privacy.py runs the three in that order).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from ingestion.contracts import FeedContract, load_contracts
from ingestion.warehouse import anonymised_table, ensure_feed_tables
from privacy.landing import Rewrite, rewrite_without
from privacy.suppression import (IDENTIFIER_FORMS, RECORD_KEYS, ensure_table as ensure_suppression_list, hashed,
                                 identifier_columns)
from serving.pseudonym import install_pseudonym_macro

# a feed's record that is the person (a CRM contact row) goes whole; every other feed's rows stay as facts
DROPPED_FEEDS = {"crm_contacts"}
# what separates the fields of a quarantined record: CSV, JSON and the delimiters of a malformed line
RECORD_FIELD_SEPARATORS = r'[,;|\t"{}\[\]]+'
# the identifier columns of int_customer_records (feeds name the same identifiers alike)
RECORD_IDENTIFIERS = ("email", "phone", "loyalty_id", "account_id")

REQUESTS_DDL = """CREATE TABLE IF NOT EXISTS audit.erasure_requests (
    request_id VARCHAR, requested_at TIMESTAMP, reason VARCHAR, asked_by VARCHAR, identifier_hashes VARCHAR[],
    customers_erased BIGINT, rows_touched JSON, files_rewritten BIGINT, status VARCHAR)"""


@dataclass(frozen=True)
class ErasureRequest:
    reason: str
    email: str | None = None
    phone: str | None = None
    customer_id: str | None = None

    def __post_init__(self):
        given = [kind for kind in ("email", "phone", "customer_id") if getattr(self, kind)]
        if len(given) != 1:
            raise ValueError("an erasure request names exactly one of email, phone or customer id")
        if not self.reason.strip():
            raise ValueError("an erasure request needs a reason (it is kept in audit.erasure_requests)")

    @property
    def kind(self) -> str:
        return next(kind for kind in ("email", "phone", "customer_id") if getattr(self, kind))

    @property
    def value(self) -> str:
        return getattr(self, self.kind)


@dataclass
class ErasureResult:
    request_id: str
    status: str  # erased | already erased | not found
    message: str
    customers: int = 0
    rows_touched: dict[str, int] = field(default_factory=dict)
    files_rewritten: int = 0


def forget(con: duckdb.DuckDBPyConnection, key: bytes, landing_dir: Path, requests: list[ErasureRequest],
           asked_by: str = "") -> list[ErasureResult]:
    """Erase each request's person from the build database `con` and the landing files; one transaction per
    request, so a failure leaves that person as they were (and the landing files untouched)."""
    contracts = load_contracts()
    for contract in contracts.values():
        ensure_feed_tables(con, contract)
    ensure_suppression_list(con)
    con.execute(REQUESTS_DDL)
    install_pseudonym_macro(con, key)
    # every record with its customer, read once for the whole batch (int_customer_records is a view over
    # every feed's staging); each erasure removes its people from it too
    con.execute("""CREATE OR REPLACE TEMP TABLE _customer_records AS
        SELECT c.customer_id, r.source, r.source_record_id, r.email, r.phone, r.loyalty_id, r.account_id
        FROM identity.customer_crosswalk c JOIN intermediate.int_customer_records r USING (source, source_record_id)""")
    return [_forget_one(con, landing_dir, contracts, request, asked_by) for request in requests]


def _forget_one(con, landing_dir: Path, contracts: dict[str, FeedContract], request: ErasureRequest,
                asked_by: str) -> ErasureResult:
    request_id = f"erasure-{datetime.now():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"
    customers = _resolve(con, request)
    if not customers:
        earlier = _earlier_request(con, request)
        if earlier:
            return ErasureResult(request_id, "already erased",
                                 f"this {request.kind} was erased by {earlier}: nothing left to remove")
        return ErasureResult(request_id, "not found", f"no customer has this {request.kind}: nothing changed")
    _collect_identifiers(con, customers)
    touched: dict[str, int] = {}
    rewritten: list[Rewrite] = []
    con.execute("BEGIN TRANSACTION")
    try:
        for contract in contracts.values():
            _find_rows(con, contract)
        hashes = _suppress(con, contracts, request_id)
        for contract in contracts.values():
            touched |= _erase_feed_rows(con, contract, request_id)
        touched |= _erase_identity(con)
        con.execute("DELETE FROM _customer_records WHERE customer_id IN (SELECT customer_id FROM _erased_customers)")
        rewritten = _rewrite_landing(con, landing_dir, contracts)
        con.execute("INSERT INTO audit.erasure_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'erased')",
                    [request_id, datetime.now(), request.reason, asked_by, hashes, len(customers),
                     json.dumps({t: n for t, n in sorted(touched.items()) if n}), len(rewritten)])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        for rewrite in rewritten:
            rewrite.abandon()
        raise
    # After the commit: a crash before every file is moved leaves an original whose checksum the manifest no
    # longer knows, so the next load re-reads that day and the suppression list keeps the person out.
    for rewrite in rewritten:
        rewrite.commit()
    rows = {t: n for t, n in touched.items() if n}
    return ErasureResult(request_id, "erased",
                         f"erased {len(customers)} customer id(s): {sum(rows.values())} rows in {len(rows)} tables, "
                         f"{len(rewritten)} landing file(s) rewritten", len(customers), rows, len(rewritten))


def _resolve(con, request: ErasureRequest) -> list[str]:
    """The customer ids whose records carry the request's identifier (in the records' standardised form)."""
    match = {"email": f"r.email = {IDENTIFIER_FORMS['email'].format(v='?')}",
             "phone": f"{IDENTIFIER_FORMS['phone'].format(v='r.phone')} = {IDENTIFIER_FORMS['phone'].format(v='?')}",
             "customer_id": "r.customer_id = ?"}[request.kind]
    parameters = [request.value] * match.count("?")
    return [r[0] for r in con.execute(f"""
        SELECT DISTINCT customer_id FROM _customer_records AS r WHERE {match}
        ORDER BY 1""", parameters).fetchall()]


def _earlier_request(con, request: ErasureRequest) -> str | None:
    """The request that already erased this identifier, found by its keyed hash in the suppression list."""
    column = request.kind
    form = IDENTIFIER_FORMS[column].format(v="?")
    row = con.execute(f"""SELECT request_id FROM audit.suppression_list
        WHERE identifier_hash = pseudonym('{column}:' || {form}) ORDER BY added_at LIMIT 1""",
                      [request.value] * form.count("?")).fetchone()
    return row[0] if row else None


def _collect_identifiers(con, customers: list[str]) -> None:
    """Temp tables of the person: `_erased_customers`, `_erased_records` (their crosswalk rows) and
    `_erased_identifiers` (column, normal form) of every identifier their records and web sessions used."""
    con.execute("CREATE OR REPLACE TEMP TABLE _erased_customers AS SELECT unnest(?::VARCHAR[]) AS customer_id",
                [customers])
    # a merged-away id that points at them was theirs too
    con.execute("""INSERT INTO _erased_customers SELECT customer_id FROM identity.customer_registry
                   WHERE merged_into IN (SELECT customer_id FROM _erased_customers)
                   AND customer_id NOT IN (SELECT customer_id FROM _erased_customers)""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _erased_records AS SELECT source, source_record_id
                   FROM identity.customer_crosswalk WHERE customer_id IN (SELECT customer_id FROM _erased_customers)""")
    selects = [f"SELECT '{column}' AS column_name, {IDENTIFIER_FORMS[column].format(v='r.' + column)} AS normal "
               f"FROM _customer_records r SEMI JOIN _erased_records USING (source, source_record_id)"
               for column in RECORD_IDENTIFIERS]
    selects += [f"SELECT '{key}', {IDENTIFIER_FORMS[key].format(v='source_record_id')} FROM _erased_records "
                f"WHERE source = '{feed}'" for feed, key in RECORD_KEYS.items()]
    selects.append("SELECT 'customer_id', customer_id FROM _erased_customers")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _erased_identifiers AS SELECT DISTINCT * FROM ({' UNION ALL '.join(selects)}) "
                "WHERE normal IS NOT NULL")
    # the browsers they signed in with: every session of those cookies is theirs
    con.execute(f"""INSERT INTO _erased_identifiers SELECT DISTINCT 'cookie_id', {IDENTIFIER_FORMS['cookie_id'].format(v='w.cookie_id')}
        FROM staging.stg_web_events w
        WHERE {IDENTIFIER_FORMS['email'].format(v='w.email')} IN (SELECT normal FROM _erased_identifiers WHERE column_name = 'email')
           OR {IDENTIFIER_FORMS['account_id'].format(v='w.account_id')} IN
              (SELECT normal FROM _erased_identifiers WHERE column_name = 'account_id')""")


def _matches(contract: FeedContract, alias: str) -> str:
    """SQL: the row `alias` of the feed belongs to the person (an identifier of theirs, or one of their records)."""
    conditions = [f"{IDENTIFIER_FORMS[c].format(v=f'{alias}.{c}')} IN "
                  f"(SELECT normal FROM _erased_identifiers WHERE column_name = '{c}')"
                  for c in identifier_columns(contract)]
    return " OR ".join(conditions) if conditions else "false"


def _suppress(con, contracts: dict[str, FeedContract], request_id: str) -> list[str]:
    """Add the keyed hash of every identifier of theirs (as their records hold it and as each raw row typed it)
    to the suppression list; return the hashes."""
    selects = ["SELECT pseudonym(column_name || ':' || normal) AS h, column_name AS kind FROM _erased_identifiers"]
    for contract in contracts.values():
        for column in identifier_columns(contract):
            # over their rows only: hashing is HMAC, too dear for every row of a feed
            selects.append(f"SELECT {hashed(column, 'r')}, '{column}' FROM raw.{contract.feed} r "
                           f"SEMI JOIN _erased_rows_{contract.feed} USING (_source_file, _row_number) "
                           f"WHERE r.{column} IS NOT NULL")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _erased_hashes AS SELECT DISTINCT h, kind FROM ({' UNION ALL '.join(selects)}) "
                "WHERE h IS NOT NULL")
    con.execute("""INSERT INTO audit.suppression_list SELECT h, kind, ?, now() FROM _erased_hashes
                   WHERE h NOT IN (SELECT identifier_hash FROM audit.suppression_list)""", [request_id])
    return [r[0] for r in con.execute("SELECT h FROM _erased_hashes ORDER BY h").fetchall()]


def _find_rows(con, contract: FeedContract) -> None:
    """`_erased_rows_<feed>`: the (file, row) of every raw row of the feed that belongs to the person."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _erased_rows_{contract.feed} AS
        SELECT _source_file, _row_number FROM raw.{contract.feed} r WHERE {_matches(contract, 'r')}""")


def _erase_feed_rows(con, contract: FeedContract, request_id: str) -> dict[str, int]:
    """Move the person's raw rows out of raw: as anonymous facts (identifiers null, no landing file) unless the
    feed's row is the person; drop their quarantined rows, whose whole-record JSON holds the values."""
    feed = contract.feed
    # a quarantined row is theirs if it is one of their raw rows, or if a field of its record (the row as JSON,
    # or the raw line) is one of their identifiers in that identifier's normal form: whole fields, never
    # substrings, since one person's id can be the prefix of another's
    normal_of_token = "CASE i.column_name " + " ".join(
        f"WHEN '{column}' THEN {form.format(v='t.token')}" for column, form in IDENTIFIER_FORMS.items()) + " END"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _erased_quarantine_{feed} AS
        SELECT _source_file, _row_number FROM quarantine.{feed}
        WHERE (_source_file, _row_number) IN (SELECT (_source_file, _row_number) FROM _erased_rows_{feed})
        UNION
        SELECT t._source_file, t._row_number
        FROM (SELECT _source_file, _row_number, unnest(string_split_regex(record, ?)) AS token
              FROM quarantine.{feed}) AS t
        JOIN _erased_identifiers AS i ON i.normal = {normal_of_token}""", [RECORD_FIELD_SEPARATORS])
    rows = con.execute(f"SELECT count(*) FROM _erased_rows_{feed}").fetchone()[0]
    kept = 0
    if rows and feed not in DROPPED_FEEDS:
        blanked = ", ".join(f'NULL AS "{c.name}"' for c in contract.columns if c.pii)
        con.execute(f"""INSERT INTO {anonymised_table(feed)} SELECT * REPLACE (
                {blanked + ', ' if blanked else ''}NULL AS _extra_columns, 'erasure/{request_id}' AS _source_file,
                row_number() OVER (ORDER BY r._source_file, r._row_number) AS _row_number, NULL AS _file_checksum)
            FROM raw.{feed} r SEMI JOIN _erased_rows_{feed} USING (_source_file, _row_number)
            ANTI JOIN quarantine.{feed} q USING (_source_file, _row_number)""")  # only clean rows are facts
        kept = con.execute(f"SELECT count(*) FROM {anonymised_table(feed)} WHERE _source_file = 'erasure/{request_id}'").fetchone()[0]
    con.execute(f"DELETE FROM raw.{feed} WHERE (_source_file, _row_number) IN "
                f"(SELECT (_source_file, _row_number) FROM _erased_rows_{feed})")
    quarantined = con.execute(f"SELECT count(*) FROM _erased_quarantine_{feed}").fetchone()[0]
    con.execute(f"DELETE FROM quarantine.{feed} WHERE (_source_file, _row_number) IN "
                f"(SELECT (_source_file, _row_number) FROM _erased_quarantine_{feed})")
    return {f"raw.{feed}": rows, f"quarantine.{feed}": quarantined,
            anonymised_table(feed): kept}


def _erase_identity(con) -> dict[str, int]:
    """Their records, edges and ids in the identity tables (the next resolution no longer sees their records)."""
    erased = "(SELECT customer_id FROM _erased_customers)"
    statements = {
        "identity.customer_crosswalk": f"DELETE FROM identity.customer_crosswalk WHERE customer_id IN {erased}",
        "identity.match_edges": f"DELETE FROM identity.match_edges WHERE customer_id IN {erased}",
        "identity.customer_registry": f"DELETE FROM identity.customer_registry WHERE customer_id IN {erased} "
                                      f"OR merged_into IN {erased}",
        "identity.customer_id_changes": f"DELETE FROM identity.customer_id_changes WHERE customer_id IN {erased} "
                                        f"OR related_customer_id IN {erased}",
    }
    return {table: con.execute(sql).fetchone()[0] for table, sql in statements.items()}


def _rewrite_landing(con, landing_dir: Path, contracts: dict[str, FeedContract]) -> list[Rewrite]:
    """Rewrite every landing file that held an erased row without it (as a draft, moved in after the commit),
    renumber the rows after it, and record the new checksum and counts, so the rewritten file is not taken for
    a new delivery and its day still balances."""
    rewrites: list[Rewrite] = []
    for feed, contract in contracts.items():
        removed = con.execute(f"""
            SELECT _source_file, list(_row_number ORDER BY _row_number), count(*) FILTER (in_raw) FROM (
                SELECT _source_file, _row_number, bool_or(in_raw) AS in_raw FROM (
                    SELECT *, true AS in_raw FROM _erased_rows_{feed}
                    UNION ALL SELECT *, false FROM _erased_quarantine_{feed})
                GROUP BY ALL)
            WHERE _source_file NOT LIKE 'erasure/%'
            GROUP BY 1 ORDER BY 1""").fetchall()
        for relative, numbers, in_raw in removed:
            if not (landing_dir / relative).is_file():
                continue  # the landing file is gone (retention): nothing to rewrite
            rewrite = rewrite_without(landing_dir / relative, contract.format, set(numbers))
            rewrites.append(rewrite)
            _renumber(con, feed, relative, numbers, rewrite.landed.checksum)
            con.execute("""UPDATE audit.load_manifest SET checksum = ?, size_bytes = ?, rows_read = rows_read - ?,
                    rows_loaded = rows_loaded - ?, rows_rejected = rows_rejected - ?
                WHERE feed = ? AND file_path = ? AND status = 'loaded'""",
                        [rewrite.landed.checksum, rewrite.landed.size_bytes, len(numbers), in_raw,
                         len(numbers) - in_raw, feed, relative])
    return rewrites


def _renumber(con, feed: str, relative: str, removed: list[int], checksum: str) -> None:
    """Rows after a removed record move up in the rewritten file: their `_row_number` follows."""
    for table in (f"raw.{feed}", f"quarantine.{feed}"):
        checksum_update = ", _file_checksum = ?" if table.startswith("raw.") else ""
        con.execute(f"""UPDATE {table} SET _row_number = _row_number - len(list_filter(?::BIGINT[], gone -> gone < _row_number))
            {checksum_update} WHERE _source_file = ?""", [removed, *([checksum] if checksum_update else []), relative])
