"""The last good build: taken without values an erasure deleted, put in place when the warehouse is damaged,
never when it is only busy."""

import hashlib
import subprocess
import sys
import time

import duckdb
import pytest

from operations.last_good import backup_of, keep_last_good, restore_if_damaged


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA core; CREATE TABLE core.customers AS SELECT range AS id, 'person' || range AS name "
                "FROM range(1000)")
    con.execute("CREATE VIEW core.names AS SELECT name FROM core.customers")  # names its catalog, "crm"
    con.close()
    return path


def test_a_damaged_warehouse_is_replaced_by_the_last_good_build(warehouse):
    keep_last_good(warehouse)
    assert oct(backup_of(warehouse).stat().st_mode & 0o777) == "0o600"
    con = duckdb.connect(str(warehouse))
    con.execute("INSERT INTO core.customers VALUES (5000, 'after the copy')")
    con.close()
    data = bytearray(warehouse.read_bytes())
    data[:4096] = b"\x00" * 4096  # the header gone: the file no longer opens
    warehouse.write_bytes(bytes(data))
    with pytest.raises(duckdb.Error):
        duckdb.connect(str(warehouse)).close()

    assert restore_if_damaged(warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("SELECT count(*), max(id) FROM core.customers").fetchone() == (1000, 999)  # as copied
    assert con.execute("SELECT count(*) FROM core.names").fetchone() == (1000,)  # views bind in the copy
    con.close()
    aside = [p.name for p in warehouse.parent.iterdir() if p.name.startswith("crm.duckdb.broken-")]
    assert len(aside) == 1  # the damaged file is kept for inspection
    assert not restore_if_damaged(warehouse)  # a healthy file is left alone


def _people_with_one_deleted(path, erasure_status: str | None) -> bytes:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE people AS SELECT range AS id, md5(range::VARCHAR) || '@example.com' AS email "
                "FROM range(1000)")
    con.execute("CHECKPOINT")
    con.execute("DELETE FROM people WHERE id = 7")
    if erasure_status:
        con.execute("CREATE SCHEMA audit; CREATE TABLE audit.erasure_requests (request_id VARCHAR, status VARCHAR)")
        con.execute("INSERT INTO audit.erasure_requests VALUES ('r1', ?)", [erasure_status])
    con.execute("CHECKPOINT")
    con.close()
    deleted = hashlib.md5(b"7").hexdigest().encode()
    assert deleted in path.read_bytes()  # DELETE leaves the value in the file's free blocks
    return deleted


def test_while_an_erasure_awaits_compaction_the_copy_leaves_its_values_out(tmp_path):
    path = tmp_path / "crm.duckdb"
    erased = _people_with_one_deleted(path, "erased")
    assert keep_last_good(path) == "tables"
    assert erased not in backup_of(path).read_bytes()
    con = duckdb.connect(str(backup_of(path)), read_only=True)
    assert con.execute("SELECT count(*) FROM people").fetchone() == (999,)
    con.close()


@pytest.mark.parametrize("erasure_status", [None, "purged"])
def test_with_no_erasure_pending_the_file_is_copied_as_it_is(tmp_path, erasure_status):
    path = tmp_path / "crm.duckdb"
    _people_with_one_deleted(path, erasure_status)  # an ordinary delete (a re-loaded day), or a purged erasure
    assert keep_last_good(path) == "file"
    assert backup_of(path).read_bytes() == path.read_bytes()
    assert oct(backup_of(path).stat().st_mode & 0o777) == "0o600"


def test_a_busy_warehouse_is_not_mistaken_for_a_damaged_one(warehouse):
    keep_last_good(warehouse)
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); "
                               "print('held', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(duckdb.IOException, match="lock"):
            restore_if_damaged(warehouse)
        assert not any(p.name.startswith("crm.duckdb.broken-") for p in warehouse.parent.iterdir())
    finally:
        holder.kill()
        holder.wait()
