"""`python -m privacy forget --email E | --phone P | --customer-id C | --from-file requests.csv --reason "..."`:
run `erasure_job`, then `transform_job` (rebuild without the person, publish afresh, compact the build
database), in this process, on the Dagster instance of DAGSTER_HOME when it is set."""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import dagster as dg


@contextmanager
def request_file(args: argparse.Namespace, secrets_dir: Path):
    """The requests as an owner-only CSV that the run's config names by path: Dagster keeps every run's config
    in its run storage, where an identifier typed into it would outlive the erasure. Removed afterwards."""
    folder = secrets_dir / "erasure-requests"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.csv"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as handle:
        if args.from_file:
            with Path(args.from_file).open(newline="", encoding="utf-8-sig") as given:
                shutil.copyfileobj(given, handle)
        else:
            writer = csv.writer(handle)
            writer.writerow(["email", "phone", "customer_id", "reason"])
            writer.writerow([args.email or "", args.phone or "", args.customer_id or "", args.reason])
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _instance() -> dg.DagsterInstance:
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def forget_command(args: argparse.Namespace) -> int:
    from ingestion.settings import get_settings
    from orchestration.definitions import build_definitions
    from orchestration.defs.privacy import results_text

    with request_file(args, get_settings().secrets_dir) as requests:
        config = {"from_file": str(requests), "reason": args.reason or "", "asked_by": args.asked_by}
        defs, instance = build_definitions(), _instance()
        erased = defs.resolve_job_def("erasure_job").execute_in_process(
            run_config={"ops": {"forget_people": {"config": config}}}, instance=instance, raise_on_error=False)
    if not erased.success:
        failure = next((e for e in erased.all_events if e.is_step_failure), None)
        print(f"erasure failed: {failure.event_specific_data.error.message if failure else 'see the run log'}",
              file=sys.stderr)
        return 1
    results = erased.output_for_node("forget_people")
    print(results_text(results))
    if not any(r.status == "erased" for r in results):
        return 0
    rebuilt = defs.resolve_job_def("transform_job").execute_in_process(instance=instance, raise_on_error=False)
    print("rebuilt without them, published afresh and compacted" if rebuilt.success
          else "the rebuild failed: run transform_job again to finish the erasure")
    return 0 if rebuilt.success else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m privacy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    forget = commands.add_parser("forget", help="erase a person (or a file of requests) from everything kept")
    who = forget.add_mutually_exclusive_group(required=True)
    who.add_argument("--email")
    who.add_argument("--phone")
    who.add_argument("--customer-id")
    who.add_argument("--from-file", help="CSV with columns email, phone, customer_id, reason (one identifier a row)")
    forget.add_argument("--reason", help="why (kept in audit.erasure_requests); required unless the file gives one")
    forget.add_argument("--asked-by", default="", help="who asked, e.g. a ticket id")
    args = parser.parse_args(argv)
    if not args.from_file and not (args.reason or "").strip():
        parser.error("--reason is required")
    return forget_command(args)


if __name__ == "__main__":
    sys.exit(main())
