"""`python -m expectations revalidate [--feed F] [--from D] [--to D]`: move rows that now pass out of quarantine."""

from __future__ import annotations

import argparse
import uuid
from datetime import date

from expectations.revalidate import revalidate
from ingestion.contracts import load_contracts
from ingestion.settings import get_settings
from ingestion.warehouse import connect


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m expectations", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("revalidate", help="re-run the suites on the days holding quarantined rows")
    command.add_argument("--feed", action="append", help="only this feed (repeatable); default every feed")
    command.add_argument("--from", dest="first", type=date.fromisoformat, help="first landing day (YYYY-MM-DD)")
    command.add_argument("--to", dest="last", type=date.fromisoformat, help="last landing day (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    contracts = load_contracts()
    unknown = sorted(set(args.feed or []) - set(contracts))
    if unknown:
        parser.error(f"unknown feed(s) {unknown}; known: {sorted(contracts)}")
    chosen = [contracts[f] for f in (args.feed or contracts)]
    con = connect(get_settings().warehouse_path)
    try:
        results = revalidate(con, chosen, f"revalidate-{uuid.uuid4().hex[:8]}", args.first, args.last)
    finally:
        con.close()
    for result in results:
        print(result.describe())
    if not results:
        print("nothing in quarantine to re-validate")
    elif any(r.released for r in results):
        print("staging sees released rows at once; run transform_job (or `make demo`'s second step) to refresh marts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
