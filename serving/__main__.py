"""`python -m serving publish` publishes the build database now (after an analyst's own `dbt build`);
`python -m serving pseudonym VALUE` prints the BI pseudonym of a value (an email as standardised, a phone in
E.164), to find a person in the BI database without putting their identifier there."""

from __future__ import annotations

import argparse
import sys

from ingestion.settings import get_settings
from ingestion.warehouse import connect
from orchestration.defs.dbt_project import dbt_project
from serving.keys import pii_key
from serving.postgres import publish_postgres
from serving.pseudonym import pseudonym
from serving.publish import publish_build


def _publish(full: bool) -> int:
    settings = get_settings()
    con = connect(settings.warehouse_path)
    try:
        publication = publish_build(con, settings, dbt_project.manifest_path, run_id="manual", full=full)
    finally:
        con.close()
    changed = {action: sum(1 for a in publication.tables.values() if a == action) for action in ("updated", "rewritten")}
    print(f"{publication.mode} publish: {changed['updated']} tables updated by key, {changed['rewritten']} rewritten")
    for database in (publication.restricted, publication.bi):
        print(f"{database.kind:<10} {database.path} {database.size_bytes / 2**20:.1f} MiB, "
              f"{len(database.row_counts)} tables, generation {publication.generation.generation_id}")
    if settings.serving_postgres_url:
        published = publish_postgres(settings.serving_postgres_url, settings.bi_database, settings.restricted_database)
        print(f"postgres   {len(published.tables)} tables swapped in after {published.swap_attempts} attempt(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m serving", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    publishing = commands.add_parser("publish", help="publish the build database to data/serving/ (and PostgreSQL if set)")
    publishing.add_argument("--full", action="store_true", help="rewrite the working copies from nothing")
    lookup = commands.add_parser("pseudonym", help="the BI pseudonym of a value")
    lookup.add_argument("value")
    args = parser.parse_args(argv)
    if args.command == "pseudonym":
        print(pseudonym(pii_key(get_settings().secrets_dir), args.value))
        return 0
    return _publish(args.full)


if __name__ == "__main__":
    sys.exit(main())
