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

from identity.store import ensure_tables as ensure_identity_tables
from ingestion.contracts import FeedContract, load_contracts
from ingestion.warehouse import (ATTRIBUTE_NULLED, ROW_QUARANTINED, anonymised_table, ensure_feed_tables,
                                 log_raw_changes)
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
    """Erase the requests' people from the build database `con` and the landing files. The batch is set-based:
    each table is read and each landing file rewritten once, however many requests; and it is one transaction,
    so a failure leaves everyone as they were (and the landing files untouched). Each request keeps its own
    audit row, with the identifiers and the rows that were its person's."""
    contracts = load_contracts()
    for contract in contracts.values():
        ensure_feed_tables(con, contract)
    ensure_suppression_list(con)
    ensure_identity_tables(con)
    con.execute(REQUESTS_DDL)
    install_pseudonym_macro(con, key)
    stamp = f"{datetime.now():%Y%m%d%H%M%S}"
    batch = {f"erasure-{stamp}-{uuid.uuid4().hex[:8]}": request for request in requests}
    _load_requests(con, batch)
    owners = _resolve(con)
    results = {request_id: _not_erased(con, request_id, request, owners.get(request_id, set()))
               for request_id, request in batch.items() if request_id not in owners.get(request_id, set())}
    if len(results) < len(batch):
        results |= _erase(con, landing_dir, contracts, batch, results.keys(), asked_by)
    return [results[request_id] for request_id in batch]


def _erase(con, landing_dir: Path, contracts: dict[str, FeedContract], batch: dict[str, ErasureRequest],
           not_erased, asked_by: str) -> dict[str, ErasureResult]:
    _collect_identifiers(con)
    rewritten: list[Rewrite] = []
    con.execute("BEGIN TRANSACTION")
    try:
        for contract in contracts.values():
            _find_rows(con, contract)
        hashes = _suppress(con, contracts)
        touched: dict[str, dict[str, int]] = {}
        for contract in contracts.values():
            _count(touched, _erase_feed_rows(con, contract))
        _count(touched, _erase_identity(con))
        files = _rewrite_landing(con, landing_dir, contracts, rewritten)
        customers = dict(con.execute("SELECT request_id, count(*) FROM _erased_customers GROUP BY 1").fetchall())
        results = {}
        for request_id in batch.keys() - set(not_erased):
            rows = {t: n for t, n in sorted(touched.get(request_id, {}).items()) if n}
            results[request_id] = ErasureResult(
                request_id, "erased", f"erased {customers[request_id]} customer id(s): {sum(rows.values())} rows "
                f"in {len(rows)} tables, {files.get(request_id, 0)} landing file(s) rewritten",
                customers[request_id], rows, files.get(request_id, 0))
        erased = list(results.values())
        con.execute("""INSERT INTO audit.erasure_requests SELECT unnest(?::VARCHAR[]), now()::TIMESTAMP,
                unnest(?::VARCHAR[]), ?, unnest(?::VARCHAR[][]), unnest(?::BIGINT[]), unnest(?::JSON[]),
                unnest(?::BIGINT[]), 'erased'""",
                    [[r.request_id for r in erased], [batch[r.request_id].reason for r in erased], asked_by,
                     [hashes.get(r.request_id, []) for r in erased], [r.customers for r in erased],
                     [json.dumps(r.rows_touched) for r in erased], [r.files_rewritten for r in erased]])
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
    return results


def _count(touched: dict[str, dict[str, int]], counts: list[tuple[str, str, int]]) -> None:
    for request_id, table, rows in counts:
        per_table = touched.setdefault(request_id, {})
        per_table[table] = per_table.get(table, 0) + rows


def _load_requests(con, batch: dict[str, ErasureRequest]) -> None:
    """`_requests`: each request's id, position in the batch, kind and identifier in its normal form."""
    forms = " ".join(f"WHEN '{kind}' THEN {IDENTIFIER_FORMS[kind].format(v='value')}"
                     for kind in ("email", "phone", "customer_id"))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _requests AS
        SELECT request_id, position, kind, CASE kind {forms} END AS normal FROM (
            SELECT unnest(?::VARCHAR[]) AS request_id, unnest(range(?)) AS position, unnest(?::VARCHAR[]) AS kind,
                   unnest(?::VARCHAR[]) AS value)""",
                [list(batch), len(batch), [r.kind for r in batch.values()], [r.value for r in batch.values()]])


def _resolve(con) -> dict[str, set[str]]:
    """`_erased_customers` (customer_id, request_id): the customer ids whose records carry a request's
    identifier, each claimed by the first request that names it, so that two requests for one person erase
    them once. Returns, per request that found someone, the requests that claimed its customers."""
    # every record with its customer (int_customer_records is a view over every feed's staging)
    con.execute("""CREATE OR REPLACE TEMP TABLE _customer_records AS
        SELECT c.customer_id, r.source, r.source_record_id, r.email, r.phone, r.loyalty_id, r.account_id
        FROM identity.customer_crosswalk c JOIN intermediate.int_customer_records r USING (source, source_record_id)""")
    phone = IDENTIFIER_FORMS["phone"].format(v="phone")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _request_customers AS
        SELECT DISTINCT q.request_id, q.position, r.customer_id FROM _requests q JOIN (
            SELECT customer_id, 'email' AS kind, email AS normal FROM _customer_records
            UNION ALL SELECT customer_id, 'phone', {phone} FROM _customer_records
            UNION ALL SELECT DISTINCT customer_id, 'customer_id', customer_id FROM _customer_records
        ) r ON r.kind = q.kind AND r.normal = q.normal""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _erased_customers AS
        SELECT customer_id, arg_min(request_id, position) AS request_id FROM _request_customers GROUP BY 1""")
    # a merged-away id that points at them was theirs too
    con.execute("""INSERT INTO _erased_customers SELECT DISTINCT ON (g.customer_id) g.customer_id, e.request_id
                   FROM identity.customer_registry g JOIN _erased_customers e ON g.merged_into = e.customer_id
                   WHERE g.customer_id NOT IN (SELECT customer_id FROM _erased_customers)""")
    owners: dict[str, set[str]] = {}
    for request_id, owner in con.execute("""SELECT DISTINCT q.request_id, e.request_id FROM _request_customers q
                                            JOIN _erased_customers e USING (customer_id)""").fetchall():
        owners.setdefault(request_id, set()).add(owner)
    return owners


def _not_erased(con, request_id: str, request: ErasureRequest, owners: set[str]) -> ErasureResult:
    """The answer to a request that erases nobody: its person is another request's in this batch, was erased
    earlier (its identifier's keyed hash is on the suppression list), or is nobody."""
    if owners:
        return ErasureResult(request_id, "already erased",
                             f"this {request.kind} is the person of {min(owners)} in this batch: erased once")
    form = IDENTIFIER_FORMS[request.kind].format(v="?")
    earlier = con.execute(f"""SELECT request_id FROM audit.suppression_list
        WHERE identifier_hash = pseudonym('{request.kind}:' || {form}) ORDER BY added_at LIMIT 1""",
                          [request.value] * form.count("?")).fetchone()
    if earlier:
        return ErasureResult(request_id, "already erased",
                             f"this {request.kind} was erased by {earlier[0]}: nothing left to remove")
    return ErasureResult(request_id, "not found", f"no customer has this {request.kind}: nothing changed")


def _collect_identifiers(con) -> None:
    """`_erased_records` (their crosswalk rows) and `_erased_identifiers` (column, normal form, request) of
    every identifier the erased customers' records and web sessions used."""
    con.execute("""CREATE OR REPLACE TEMP TABLE _erased_records AS SELECT x.source, x.source_record_id, e.request_id
                   FROM identity.customer_crosswalk x JOIN _erased_customers e USING (customer_id)""")
    selects = [f"SELECT '{column}' AS column_name, {IDENTIFIER_FORMS[column].format(v='r.' + column)} AS normal, "
               f"e.request_id FROM _customer_records r JOIN _erased_records e USING (source, source_record_id)"
               for column in RECORD_IDENTIFIERS]
    selects += [f"SELECT '{key}', {IDENTIFIER_FORMS[key].format(v='source_record_id')}, request_id "
                f"FROM _erased_records WHERE source = '{feed}'" for feed, key in RECORD_KEYS.items()]
    selects.append("SELECT 'customer_id', customer_id, request_id FROM _erased_customers")
    _create_owned("_erased_identifiers", " UNION ALL ".join(selects), "column_name, normal", con,
                  where="normal IS NOT NULL")
    # the browsers they signed in with: every session of those cookies is theirs
    cookies = " UNION ALL ".join(
        f"""SELECT 'cookie_id', {IDENTIFIER_FORMS['cookie_id'].format(v='w.cookie_id')}, i.request_id
            FROM staging.stg_web_events w JOIN _erased_identifiers i
            ON i.column_name = '{column}' AND i.normal = {IDENTIFIER_FORMS[column].format(v=f'w.{column}')}"""
        for column in ("email", "account_id"))
    con.execute(f"""INSERT INTO _erased_identifiers SELECT column_name, normal, min(request_id) FROM (
            SELECT c.* FROM ({cookies}) AS c(column_name, normal, request_id)
            ANTI JOIN _erased_identifiers USING (column_name, normal) WHERE c.normal IS NOT NULL)
        GROUP BY ALL""")


def _create_owned(table: str, select: str, key: str, con, where: str = "true") -> None:
    """Temp `table` of the rows of `select` (columns ending in request_id), one per `key`: a row that two
    requests' people share is the first request's (each row is removed, and counted, once)."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT {key}, min(request_id) AS request_id FROM ({select}) WHERE {where} GROUP BY ALL""")


def _matching_rows(contract: FeedContract, relation: str) -> str:
    """SQL: (_source_file, _row_number, request_id) of the rows of `relation` (the feed's raw table) that carry
    an erased identifier."""
    selects = [f"""SELECT r._source_file, r._row_number, i.request_id FROM {relation} r JOIN _erased_identifiers i
                   ON i.column_name = '{c}' AND i.normal = {IDENTIFIER_FORMS[c].format(v=f'r.{c}')}"""
               for c in identifier_columns(contract)]
    return " UNION ALL ".join(selects) or \
        "SELECT NULL::VARCHAR AS _source_file, NULL::BIGINT AS _row_number, NULL::VARCHAR AS request_id WHERE false"


def _suppress(con, contracts: dict[str, FeedContract]) -> dict[str, list[str]]:
    """Add the keyed hash of every erased identifier (as their records hold it and as each raw row typed it)
    to the suppression list; return each request's hashes."""
    selects = ["SELECT pseudonym(column_name || ':' || normal) AS h, column_name AS kind, request_id "
               "FROM _erased_identifiers"]
    for contract in contracts.values():
        columns = identifier_columns(contract)
        if not columns:
            continue
        # their rows' identifiers as typed, read in one pass over the feed (hashing is HMAC: their rows only)
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _erased_values_{contract.feed} AS
            SELECT e.request_id, {', '.join(f'r."{c}"' for c in columns)} FROM raw.{contract.feed} r
            JOIN _erased_rows_{contract.feed} e USING (_source_file, _row_number)""")
        selects += [f"SELECT {hashed(c, 'v')}, '{c}', v.request_id FROM _erased_values_{contract.feed} v "
                    f"WHERE v.\"{c}\" IS NOT NULL" for c in columns]
    con.execute(f"CREATE OR REPLACE TEMP TABLE _erased_hashes AS SELECT DISTINCT h, kind, request_id "
                f"FROM ({' UNION ALL '.join(selects)}) WHERE h IS NOT NULL")
    con.execute("""INSERT INTO audit.suppression_list
                   SELECT h, any_value(kind), min(request_id), now() FROM _erased_hashes
                   WHERE h NOT IN (SELECT identifier_hash FROM audit.suppression_list) GROUP BY h""")
    return dict(con.execute("SELECT request_id, list(DISTINCT h ORDER BY h) FROM _erased_hashes GROUP BY 1").fetchall())


def _find_rows(con, contract: FeedContract) -> None:
    """`_erased_rows_<feed>`: the (file, row, request) of every raw row of the feed that belongs to an erased
    person (an identifier of theirs, or one of their records)."""
    _create_owned(f"_erased_rows_{contract.feed}", _matching_rows(contract, f"raw.{contract.feed}"),
                  "_source_file, _row_number", con)


def _nulled_columns(con, contract: FeedContract) -> list[str]:
    """The feed's columns that a rule nulled in some passed row (personal columns are blanked anyway)."""
    personal = {c.name for c in contract.columns if c.pii}
    return [c for (c,) in con.execute(f"SELECT DISTINCT column_name FROM quarantine.{contract.feed} "
                                      f"WHERE outcome = ? ORDER BY 1", [ATTRIBUTE_NULLED]).fetchall()
            if c not in personal]


def _erase_feed_rows(con, contract: FeedContract) -> list[tuple[str, str, int]]:
    """Move the erased people's raw rows out of raw: as anonymous facts (identifiers null, no landing file)
    unless the feed's row is the person; drop their quarantined rows, whose whole-record JSON holds the values.
    Returns (request, table, rows) counts."""
    feed = contract.feed
    erased_at = datetime.now()  # the loader's clock: the staging builds compare it with raw's _loaded_at
    # a quarantined row is theirs if it is one of their raw rows, or if a field of its record (the row as JSON,
    # or the raw line) is one of their identifiers in that identifier's normal form: whole fields, never
    # substrings, since one person's id can be the prefix of another's
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _quarantine_tokens AS
        SELECT _source_file, _row_number, unnest(string_split_regex(record, ?)) AS token FROM quarantine.{feed}""",
                [RECORD_FIELD_SEPARATORS])
    # one equi-join per normal form (several identifiers share one), so that each is a hash join
    forms: dict[str, list[str]] = {}
    for column, form in IDENTIFIER_FORMS.items():
        forms.setdefault(form, []).append(column)
    tokens = " UNION ALL ".join(
        f"""SELECT t._source_file, t._row_number, i.request_id FROM _quarantine_tokens AS t JOIN _erased_identifiers AS i
            ON i.normal = {form.format(v='t.token')} AND i.column_name IN ({', '.join(f"'{c}'" for c in columns)})"""
        for form, columns in forms.items())
    _create_owned(f"_erased_quarantine_{feed}", f"""
        SELECT _source_file, _row_number, e.request_id FROM quarantine.{feed} q
        JOIN _erased_rows_{feed} e USING (_source_file, _row_number)
        UNION ALL {tokens}""", "_source_file, _row_number", con)
    counts = [(r, f"raw.{feed}", n) for r, n in con.execute(
        f"SELECT request_id, count(*) FROM _erased_rows_{feed} GROUP BY 1").fetchall()]
    counts += [(r, f"quarantine.{feed}", n) for r, n in con.execute(
        f"SELECT request_id, count(*) FROM _erased_quarantine_{feed} GROUP BY 1").fetchall()]
    if counts and feed not in DROPPED_FEEDS:
        blanked = [f'NULL AS "{c.name}"' for c in contract.columns if c.pii]
        # an attribute a rule nulled stays null in the fact: its quarantine row, which says so, goes with the person
        blanked += [f"CASE WHEN EXISTS (SELECT 1 FROM quarantine.{feed} f WHERE f.outcome = '{ATTRIBUTE_NULLED}' "
                    f"AND f._source_file = r._source_file AND f._row_number = r._row_number "
                    f"AND f.column_name = '{column}') THEN NULL ELSE r.\"{column}\" END AS \"{column}\""
                    for column in _nulled_columns(con, contract)]
        con.execute(f"""INSERT INTO {anonymised_table(feed)} SELECT * EXCLUDE (request_id) REPLACE (
                {''.join(b + ', ' for b in blanked)}NULL AS _extra_columns, 'erasure/' || e.request_id AS _source_file,
                row_number() OVER (PARTITION BY e.request_id ORDER BY r._source_file, r._row_number) AS _row_number,
                NULL AS _file_checksum, ?::TIMESTAMP AS _loaded_at)  -- a delivery the next build must see
            FROM raw.{feed} r JOIN _erased_rows_{feed} e USING (_source_file, _row_number)
            ANTI JOIN (SELECT * FROM quarantine.{feed} WHERE outcome = '{ROW_QUARANTINED}') q
                USING (_source_file, _row_number)""", [erased_at])  # only rows that passed are facts
        counts += [(r, anonymised_table(feed), n) for r, n in con.execute(f"""
            SELECT request_id, count(*) FROM {anonymised_table(feed)} a
            JOIN (SELECT DISTINCT request_id FROM _erased_rows_{feed}) e ON a._source_file = 'erasure/' || e.request_id
            GROUP BY 1""").fetchall()]
    days = con.execute(f"""SELECT DISTINCT _load_date FROM raw.{feed} SEMI JOIN _erased_rows_{feed}
                               USING (_source_file, _row_number)
                           UNION SELECT DISTINCT _load_date FROM quarantine.{feed} SEMI JOIN _erased_quarantine_{feed}
                               USING (_source_file, _row_number)""").fetchall()
    log_raw_changes(con, feed, [day for (day,) in days], "erasure", erased_at)  # removed rows, renumbered rows
    con.execute(f"DELETE FROM raw.{feed} WHERE (_source_file, _row_number) IN "
                f"(SELECT (_source_file, _row_number) FROM _erased_rows_{feed})")
    con.execute(f"DELETE FROM quarantine.{feed} WHERE (_source_file, _row_number) IN "
                f"(SELECT (_source_file, _row_number) FROM _erased_quarantine_{feed})")
    return counts


def _erase_identity(con) -> list[tuple[str, str, int]]:
    """The erased customers' records, edges and ids in the identity tables (the next resolution no longer sees
    their records). Returns (request, table, rows) counts."""
    tables = {"identity.customer_crosswalk": ["customer_id"], "identity.match_edges": ["customer_id"],
              "identity.customer_registry": ["customer_id", "merged_into"],
              "identity.customer_id_changes": ["customer_id", "related_customer_id"]}
    counts = []
    for table, columns in tables.items():
        joins = " ".join(f"LEFT JOIN _erased_customers e{n} ON t.{c} = e{n}.customer_id" for n, c in enumerate(columns))
        owner = "coalesce(" + ", ".join(f"e{n}.request_id" for n in range(len(columns))) + ")"
        counts += [(r, table, n) for r, n in con.execute(
            f"SELECT {owner} AS request_id, count(*) FROM {table} t {joins} WHERE {owner} IS NOT NULL GROUP BY 1").fetchall()]
        erased = " OR ".join(f"{c} IN (SELECT customer_id FROM _erased_customers)" for c in columns)
        con.execute(f"DELETE FROM {table} WHERE {erased}")
    # their records as the last resolution saw them (what the next incremental one compares with)
    for table in ("identity.resolved_records", "identity.splink_records"):
        counts += [(r, table, n) for r, n in con.execute(f"""
            SELECT e.request_id, count(*) FROM {table} JOIN _erased_records e
            USING (source, source_record_id) GROUP BY 1""").fetchall()]
        con.execute(f"""DELETE FROM {table} WHERE (source, source_record_id) IN
                       (SELECT (source, source_record_id) FROM _erased_records)""")
    return counts


def _rewrite_landing(con, landing_dir: Path, contracts: dict[str, FeedContract], rewrites: list[Rewrite]
                     ) -> dict[str, int]:
    """Rewrite every landing file that held an erased row without it (as a draft, moved in after the commit;
    each is added to `rewrites` as it is written, so a failure abandons them all), renumber the rows after it,
    and record the new checksum and counts, so the rewritten file is not taken for a new delivery and its day
    still balances. Returns the files rewritten per request."""
    recorded = {column: [] for column in ("feed", "file", "removed", "in_raw", "checksum", "size_bytes")}
    files: dict[str, int] = {}
    for feed, contract in contracts.items():
        removed = con.execute(f"""
            SELECT _source_file, list(_row_number ORDER BY _row_number), count(*) FILTER (in_raw),
                   list(DISTINCT request_id) FROM (
                SELECT _source_file, _row_number, bool_or(in_raw) AS in_raw, min(request_id) AS request_id FROM (
                    SELECT *, true AS in_raw FROM _erased_rows_{feed}
                    UNION ALL SELECT *, false FROM _erased_quarantine_{feed})
                GROUP BY _source_file, _row_number)
            WHERE _source_file NOT LIKE 'erasure/%'
            GROUP BY 1 ORDER BY 1""").fetchall()
        for relative, numbers, in_raw, requests in removed:
            if not (landing_dir / relative).is_file():
                continue  # the landing file is gone (retention): nothing to rewrite
            rewrite = rewrite_without(landing_dir / relative, contract.format, set(numbers))
            rewrites.append(rewrite)
            for column, value in zip(recorded, (feed, relative, numbers, in_raw, rewrite.landed.checksum,
                                                 rewrite.landed.size_bytes)):
                recorded[column].append(value)
            for request_id in requests:
                files[request_id] = files.get(request_id, 0) + 1
    if recorded["file"]:
        _record_rewrites(con, recorded)
    return files


def _record_rewrites(con, recorded: dict[str, list]) -> None:
    """Rows after a removed record move up in the rewritten file, so their `_row_number` follows; the manifest
    takes the file's new checksum, size and counts. One statement per table for the whole batch."""
    con.execute("""CREATE OR REPLACE TEMP TABLE _rewritten AS SELECT unnest(?::VARCHAR[]) AS feed,
                   unnest(?::VARCHAR[]) AS file, unnest(?::BIGINT[][]) AS removed, unnest(?::BIGINT[]) AS in_raw,
                   unnest(?::VARCHAR[]) AS checksum, unnest(?::BIGINT[]) AS size_bytes""", list(recorded.values()))
    for feed in sorted(set(recorded["feed"])):
        for table in (f"raw.{feed}", f"quarantine.{feed}"):
            checksum = ", _file_checksum = w.checksum" if table.startswith("raw.") else ""
            con.execute(f"""UPDATE {table} AS t
                SET _row_number = t._row_number - len(list_filter(w.removed, gone -> gone < t._row_number)){checksum}
                FROM _rewritten w WHERE w.feed = '{feed}' AND t._source_file = w.file""")
    con.execute("""UPDATE audit.load_manifest AS m SET checksum = w.checksum, size_bytes = w.size_bytes,
            rows_read = m.rows_read - len(w.removed), rows_loaded = m.rows_loaded - w.in_raw,
            rows_rejected = m.rows_rejected - (len(w.removed) - w.in_raw)
        FROM _rewritten w WHERE m.feed = w.feed AND m.file_path = w.file AND m.status = 'loaded'""")
