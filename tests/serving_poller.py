"""A second BI process: every INTERVAL seconds, a fresh read-only connection to the published database reads
its generation, its meta row counts and every table's real count, and closes. Writes one JSON record per read.

    python serving_poller.py DATABASE RESULTS_JSON STOP_FILE INTERVAL
"""

import json
import sys
import time
from pathlib import Path

import duckdb


def read_once(database: str) -> dict:
    started = time.time()
    try:
        con = duckdb.connect(database, read_only=True)
        try:
            generation = con.execute("SELECT generation_id FROM meta.publication").fetchone()[0]
            listed = con.execute("SELECT schema_name || '.' || table_name, row_count FROM meta.tables").fetchall()
            mismatched = [table for table, rows in listed
                          if con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] != rows]
        finally:
            con.close()
        return {"at": started, "generation": generation, "tables": len(listed), "mismatched": mismatched}
    except Exception as error:  # the test counts these: there must be none
        return {"at": started, "error": f"{type(error).__name__}: {error}"}


def main(database: str, results: str, stop_file: str, interval: str) -> None:
    reads = []
    while not Path(stop_file).exists():
        reads.append(read_once(database))
        time.sleep(float(interval))
    Path(results).write_text(json.dumps(reads))


if __name__ == "__main__":
    main(*sys.argv[1:])
