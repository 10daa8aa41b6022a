"""Keyed pseudonyms: HMAC-SHA256 of a value, hex, the same in SQL (for the publish) and in Python (for lookups).

HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)) (RFC 2104), written with DuckDB's sha256 over blobs so that a
million customers are pseudonymised vectorised, in the database. The key's pads reach the connection as query
parameters into connection variables, never as SQL text, so no error message or query log can show them.
"""

from __future__ import annotations

import hashlib
import hmac

import duckdb

BLOCK = 64  # SHA-256's block size in bytes


def pseudonym(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _pads(key: bytes) -> tuple[str, str]:
    block = (hashlib.sha256(key).digest() if len(key) > BLOCK else key).ljust(BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in block).hex(), bytes(b ^ 0x5C for b in block).hex()


def install_pseudonym_macro(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Give this connection `pseudonym(value)`: a temporary macro and two variables, gone when it closes."""
    inner, outer = _pads(key)
    con.execute("SET VARIABLE pii_inner_pad = unhex(?)", [inner])
    con.execute("SET VARIABLE pii_outer_pad = unhex(?)", [outer])
    con.execute("""
        CREATE OR REPLACE TEMP MACRO pseudonym(value) AS
        CASE WHEN value IS NOT NULL THEN sha256(
            getvariable('pii_outer_pad') || unhex(sha256(getvariable('pii_inner_pad') || encode(value::VARCHAR)))
        ) END
    """)
