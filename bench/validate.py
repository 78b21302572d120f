"""Benchmark: validate + normalize throughput, in memory, on a generated world's source rows.

    python bench/validate.py --world bench/out/world [--rows 1000000]

Reads the world's CSV sources (reading is timed apart), maps their columns, then runs
`sangkien.pipeline.validate.validate_frame` (the pandera schema's checks, normalization and the
canonical conversion) and reports records/s. No database is involved.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, default=ROOT / "bench" / "out" / "world")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    from connectors.tabular import read_table
    from schemas.fields import CANONICAL_FIELDS
    from sangkien.reference.phases import DEFAULT_PHASES
    from sangkien.store.registry import read_config_file
    from sangkien.reference.units import UnitResolver
    from sangkien.pipeline.validate import ValidationContext, validate_frame

    with (args.world / "orgs.csv").open(encoding="utf-8") as handle:
        orgs = list(csv.DictReader(handle))
    resolver = UnitResolver.from_names([(o["code"], o["name"]) for o in orgs],
                                       [(o["code"], a) for o in orgs for a in o["aliases"].split("|") if a])
    started = time.perf_counter()
    batches, total = [], 0
    for config_path in sorted((args.world / "sources").glob("*.yaml")):
        config = read_config_file(config_path)
        if config.get("pattern", "*.csv").endswith(".xlsx"):
            continue
        for path in sorted(Path(config["path"]).glob(config.get("pattern", "*.csv"))):
            table = read_table(path, encoding=config.get("encoding", "auto"), delimiter=config.get("delimiter", "auto"))
            mapped = pd.DataFrame({f: table.frame[config["columns"][f]] if f in config["columns"] else ""
                                   for f in CANONICAL_FIELDS}).astype(object)
            mapped = mapped.iloc[: args.rows - total]  # exactly --rows records in all
            batches.append((config, mapped))
            total += len(mapped)
            if total >= args.rows:
                break
        if total >= args.rows:
            break
    read_seconds = time.perf_counter() - started
    print(f"read {total:,} rows from {len(batches)} files in {read_seconds:.1f} s")
    started = time.perf_counter()
    accepted = failed = 0
    for config, mapped in batches:
        ctx = ValidationContext(config.get("date_format", "%d/%m/%Y"), config.get("authors_separator", ";"),
                                dt.date.today(), resolver, list(DEFAULT_PHASES))
        result = validate_frame(mapped, ctx)
        accepted += len(result.canonical)
        failed += result.failures["index"].nunique()
    seconds = time.perf_counter() - started
    print(f"validate + normalize: {total:,} records in {seconds:.1f} s = {total / seconds:,.0f} records/s "
          f"({accepted:,} passed, {failed:,} quarantined)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
