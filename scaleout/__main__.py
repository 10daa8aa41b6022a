"""`python -m scaleout`: set up Spark for the dbt project beside an existing DuckDB warehouse.

  conf            write spark-defaults.conf and print the `export SPARK_CONF_DIR=...` that dbt needs
  copy-sources    copy the DuckDB warehouse's sources (raw feeds, quarantine, identity, CLV, lead scores) into Spark
  thrift-server   run a Spark Thrift Server on 127.0.0.1 (what the spark_thrift target connects to) until Ctrl-C

Then: `CRM_ENGINE=spark_local dbt build --project-dir dbt_project --profiles-dir dbt_project` (docs/scale-out.md)."""

from __future__ import annotations

import argparse
import time

from ingestion.settings import get_settings
from scaleout.spark_conf import write_spark_conf
from scaleout.table_copy import copy_sources_to_spark


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m scaleout", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("conf")
    commands.add_parser("copy-sources")
    server = commands.add_parser("thrift-server")
    server.add_argument("--port", type=int, default=10000)
    args = parser.parse_args()

    if args.command == "conf":
        print(f"export SPARK_CONF_DIR={write_spark_conf(get_settings())}")
    elif args.command == "copy-sources":
        settings = get_settings()
        copied = copy_sources_to_spark(settings.warehouse_path, settings)
        print(f"copied {len(copied)} tables, {sum(copied.values())} rows, into Spark")
    else:
        from scaleout.thrift_server import ThriftServer

        with ThriftServer(get_settings(), args.port) as running:
            print(f"Spark Thrift Server on 127.0.0.1:{args.port} (log: {running.log_path}); Ctrl-C stops it")
            try:
                while running.process.poll() is None:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass


if __name__ == "__main__":
    main()
