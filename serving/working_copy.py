"""Private working copies of the last publication, brought up to date table by table.

Rewriting every published table costs most of a publish, while a new day changes few of their rows. So each
serving database has a working copy in an owner-only folder beside it (`.working/`), equal to what was last
published; the next publish updates it in place and copies the file to a draft:

- a table whose content fingerprint (rows, and the sum of every row's hash) equals the build database's is
  left as it is;
- a table with a row key (the column a model's `unique` test covers, or the columns of its `unique_combination`
  test) gets delete + insert of the keys whose rows differ; the BI copy is keyed by the key's BI form (its
  pseudonym where a key column is personal data);
- any other changed table, or one whose changes reach a quarter of its rows, is rewritten.

Deleted rows stay in a DuckDB file's free blocks until it is rewritten. The BI copy only ever held BI values;
the restricted copy holds earlier versions of changed rows, which an erasure must not leave behind: it asks for
a full publish, which rewrites both copies from nothing (as does a copy grown past 1.5 times its fresh size).

The copies are valid only together and only for the state file's basis (the models' version, the PII policy,
the key's fingerprint): the state is removed before a copy is touched and written after both were published, so
a crash in between makes the next publish a full one.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from serving.policy import PiiPolicy
from serving.pseudonym import pseudonym

REWRITE_SHARE = 0.25  # changed keys above this share of a table's rows: rewriting is cheaper than delete+insert
COMPACT_GROWTH = 1.5  # a working copy this much larger than when written fresh is written fresh again


def row_keys(manifest_path: Path) -> dict[str, tuple[str, ...]]:
    """schema.table -> the columns an unconditional `unique` or `unique_combination` data test covers (the
    fewest, where a model has several), for every model that has one."""
    nodes = json.loads(manifest_path.read_text())["nodes"]
    keys: dict[str, tuple[str, ...]] = {}
    for node in nodes.values():
        test = node.get("test_metadata") or {}
        if node["resource_type"] != "test" or node["config"].get("where") or node.get("attached_node") not in nodes:
            continue
        if test.get("name") == "unique":
            key = (node["column_name"],)
        elif test.get("name") == "unique_combination":
            key = tuple(test["kwargs"]["columns"])
        else:
            continue
        model = nodes[node["attached_node"]]
        table = f"{model['schema']}.{model['alias']}"
        if table not in keys or len(key) < len(keys[table]):
            keys[table] = key
    return keys


def basis(models_version: str, policy: PiiPolicy, key: bytes) -> str:
    """What the working copies were written under: if any part changes, their tables may be stale."""
    rules = sorted((table, rule.column, rule.pii or "", rule.generalise or "")
                   for table, columns in policy.rules.items() for rule in columns.values())
    return hashlib.sha256(json.dumps([models_version, rules, pseudonym(key, "working copies")]).encode()).hexdigest()


@dataclass(frozen=True)
class WorkingCopies:
    folder: Path

    @classmethod
    def beside(cls, published: Path) -> WorkingCopies:
        folder = published.parent / ".working"
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
        return cls(folder)

    def path(self, kind: str) -> Path:
        return self.folder / f"{kind}.duckdb"

    @property
    def _state(self) -> Path:
        return self.folder / "state.json"

    def usable_for(self, expected_basis: str) -> bool:
        """Both copies exist, were both published under `expected_basis`, and have not grown too large."""
        if not self._state.exists():
            return False
        state = json.loads(self._state.read_text())
        return state["basis"] == expected_basis and all(
            self.path(kind).exists() and self.path(kind).stat().st_size <= COMPACT_GROWTH * state["fresh_bytes"][kind]
            for kind in ("bi", "restricted"))

    def fresh_bytes(self) -> dict[str, int]:
        return json.loads(self._state.read_text())["fresh_bytes"]

    def invalidate(self) -> None:
        self._state.unlink(missing_ok=True)

    def remove(self) -> None:
        self.invalidate()
        for kind in ("bi", "restricted"):
            for path in (self.path(kind), self.path(kind).with_name(self.path(kind).name + ".wal")):
                path.unlink(missing_ok=True)

    def changes_seen(self) -> int | None:
        """The last logged change the copies took in (serving/change_log.py); None from before the logs."""
        return json.loads(self._state.read_text()).get("changes_seen")

    def commit(self, published_basis: str, generation_id: str, fresh_bytes: dict[str, int],
               changes_seen: int) -> None:
        temporary = self._state.with_suffix(".tmp")
        temporary.write_text(json.dumps({"basis": published_basis, "generation_id": generation_id,
                                         "fresh_bytes": fresh_bytes, "changes_seen": changes_seen}))
        os.replace(temporary, self._state)


def fingerprint(con: duckdb.DuckDBPyConnection, relation: str, columns: list[str]) -> tuple[int, str]:
    """Rows, and the sum of the rows' hashes (a sum, not a xor: two equal rows must not cancel out)."""
    quoted = ", ".join(f'"{name}"' for name in columns)
    rows, total = con.execute(f"SELECT count(*), coalesce(sum(hash({quoted})), 0)::VARCHAR FROM {relation}").fetchone()
    return rows, total


def changed_keys(con: duckdb.DuckDBPyConnection, table: str, working: str, key: tuple[str, ...],
                 columns: list[str]) -> int:
    """Fill the temporary table `changed_keys` (columns k0, k1, ... for the key's columns) with every key whose
    rows differ between the build table and its copy in the `working` catalog; return how many. A null key
    column is a value here (`unique_combination` groups nulls together): the rows are replaced per key, so
    the key's rows are swapped whole even where it is not unique."""
    quoted = ", ".join(f'"{name}"' for name in columns)
    picked = ", ".join(f'"{column}" AS k{n}' for n, column in enumerate(key))
    same_key = " AND ".join(f"build.k{n} IS NOT DISTINCT FROM copy.k{n}" for n in range(len(key)))
    either = ", ".join(f"CASE WHEN build.h IS NULL THEN copy.k{n} ELSE build.k{n} END AS k{n}"
                       for n in range(len(key)))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE changed_keys AS
        SELECT DISTINCT {either}
        FROM (SELECT {picked}, hash({quoted}) AS h FROM {table}) AS build
        FULL JOIN (SELECT {picked}, hash({quoted}) AS h FROM {working}.{table}) AS copy
            ON {same_key} AND build.h = copy.h
        WHERE build.h IS NULL OR copy.h IS NULL""")
    return con.execute("SELECT count(*) FROM changed_keys").fetchone()[0]
