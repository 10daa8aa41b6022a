"""BI clients of the published database, as the tests use them while the pipeline runs:
a SQLAlchemy + duckdb_engine connection held open (what Superset holds), and a second process that opens a
fresh read-only connection every 0.5 s and checks each read against its own publication's meta row counts."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

POLLER = Path(__file__).with_name("serving_poller.py")
GENERATION_SQL = "SELECT generation_id FROM meta.publication"
LAST_DAY_SQL = "SELECT max(last_landing_day) FROM meta.feeds"


def bi_engine(path: Path, pooled: bool = True) -> sa.Engine:
    """As Superset configures DuckDB: duckdb:///path, read-only."""
    options = {} if pooled else {"poolclass": NullPool}
    return sa.create_engine(f"duckdb:///{path}", connect_args={"read_only": True}, **options)


def scalar(connection: sa.Connection, sql: str):
    return connection.execute(sa.text(sql)).scalar()


@dataclass
class Observation:
    generation_before: str = ""
    last_day_before: str = ""
    held_generation_after: str = ""
    held_rows_after: int = -1
    held_rows_before: int = -1
    new_generation: str = ""
    new_last_day: str = ""
    new_last_touchpoint_day: str = ""
    polls: list[dict] = field(default_factory=list)


class HeldClients:
    """Context manager: the held connection and the polling process around a block of pipeline runs."""

    def __init__(self, bi_database: Path, work_dir: Path):
        self.bi_database, self.work_dir = bi_database, work_dir
        self.observation = Observation()

    def __enter__(self) -> Observation:
        self.engine = bi_engine(self.bi_database)
        self.held = self.engine.connect()
        self.observation.generation_before = scalar(self.held, GENERATION_SQL)
        self.observation.last_day_before = str(scalar(self.held, LAST_DAY_SQL))
        self.observation.held_rows_before = scalar(self.held, "SELECT count(*) FROM core.fct_touchpoints")
        self.stop_file = self.work_dir / "poller.stop"
        self.results = self.work_dir / "poller.json"
        self.poller = subprocess.Popen([sys.executable, str(POLLER), str(self.bi_database), str(self.results),
                                        str(self.stop_file), "0.5"])
        time.sleep(1.0)  # the poller's first reads see the publication before the run
        return self.observation

    def __exit__(self, *exc) -> None:
        observation = self.observation
        observation.held_generation_after = scalar(self.held, GENERATION_SQL)
        observation.held_rows_after = scalar(self.held, "SELECT count(*) FROM core.fct_touchpoints")
        time.sleep(1.0)  # and its last reads the new publication
        self.stop_file.touch()
        self.poller.wait(timeout=60)
        observation.polls = json.loads(self.results.read_text())
        self.held.close()
        self.engine.dispose()  # what a pooled client must do to see a new publication
        with bi_engine(self.bi_database, pooled=False).connect() as fresh:
            observation.new_generation = scalar(fresh, GENERATION_SQL)
            observation.new_last_day = str(scalar(fresh, LAST_DAY_SQL))
            observation.new_last_touchpoint_day = str(scalar(fresh, "SELECT max(occurred_date) "
                                                                   "FROM core.fct_touchpoints"))
