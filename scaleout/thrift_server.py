"""A Spark Thrift Server started from the installed pyspark (it bundles the server's jars), on loopback, sharing the
metastore and warehouse of scaleout/spark_conf.py: what `spark_thrift` connects to on one machine. A cluster's
own Thrift Server (or Kyuubi) takes its place in production (docs/scale-out.md)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

from ingestion.settings import Settings
from scaleout.spark_conf import spark_dir, write_spark_conf

SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ThriftServer:
    """`with ThriftServer(settings, port) as server:` starts the server, waits until it accepts connections and
    stops it at the end. Its log goes to <data>/spark/thrift-server.log."""

    def __init__(self, settings: Settings, port: int, host: str = "127.0.0.1", start_timeout: float = 180):
        self.settings, self.port, self.host, self.start_timeout = settings, port, host, start_timeout
        self.process: subprocess.Popen | None = None
        self.log_path = spark_dir(settings) / "thrift-server.log"

    def start(self) -> "ThriftServer":
        conf_dir = write_spark_conf(self.settings)
        home = _spark_home()
        command = [str(home / "bin" / "spark-submit"), "--class", SERVER_CLASS, "--name", "crm-thrift-server",
                   "spark-internal",
                   "--hiveconf", f"hive.server2.thrift.port={self.port}",
                   "--hiveconf", f"hive.server2.thrift.bind.host={self.host}"]
        environment = {**os.environ, "SPARK_HOME": str(home), "SPARK_CONF_DIR": str(conf_dir)}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                            cwd=spark_dir(self.settings), start_new_session=True)
        self._wait_until_listening()
        return self

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Spark Thrift Server exited with {self.process.returncode}; "
                                   f"see {self.log_path}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(1)
        self.stop()
        raise TimeoutError(f"the Spark Thrift Server did not listen on {self.host}:{self.port} within "
                           f"{self.start_timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "ThriftServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
