"""Command line: python -m ingestion.generator --customers N --days D --seed S [--noise X] [--out DIR]."""

from __future__ import annotations

import argparse
import shutil
import time
from datetime import date

from ingestion.generator.writer import DEFAULT_END_DATE, GeneratorConfig, generate
from ingestion.settings import get_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write demo touchpoint feeds and their ground truth.")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--noise", type=float, default=1.0, help="1.0 = default noise; 0 = clean records")
    parser.add_argument("--end-date", type=date.fromisoformat, default=DEFAULT_END_DATE)
    parser.add_argument("--clean", action="store_true", help="remove existing landing files and truth first")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.clean:
        shutil.rmtree(settings.landing_dir, ignore_errors=True)
        shutil.rmtree(settings.truth_dir, ignore_errors=True)
    config = GeneratorConfig(args.customers, args.days, args.seed, args.noise, args.end_date)
    started = time.perf_counter()
    counts = generate(config, settings.landing_dir, settings.truth_dir)
    seconds = time.perf_counter() - started
    total = sum(counts.values())
    print(f"wrote {total:,} rows for {args.customers:,} customers over {args.days} days "
          f"({config.start_date} .. {config.end_date}) in {seconds:.1f}s to {settings.landing_dir}")
    for feed, n in sorted(counts.items()):
        print(f"  {feed:<18} {n:>10,}")


if __name__ == "__main__":
    main()
