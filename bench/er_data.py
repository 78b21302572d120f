"""Benchmark data for entity resolution (issue 5): a --noise hard world, landed and validated, exported as CSV.

    .venv/bin/python bench/er_data.py --records 200000 [--out bench/out/er-200000] [--seed 1] [--reuse]
        [--noise hard|real|real:KIND]

Steps (each skipped under --reuse when its output is already there):
1. generate_world(DIR/world, initiatives=round(N/1.39), seed, noise) (noise "hard" unless given)
   (1,000,000 initiatives gave 1,394,753 source rows, so ~1.39 rows per initiative);
2. load it into a fresh SQLite store DIR/store.db exactly as bench/pipeline.py does
   (load_orgs, load_quotas, add_connector per sources/*.yaml, sync.start_run, then
   sync.pull_source + sync.validate_pulled per source), WITHOUT resolving;
3. export the accepted records (records joined with raw_records, outcome 'accepted') to
   DIR/records.csv: raw_id, source, source_record_id, portal_id, title, title_folded,
   authors, author_keys, submitted_by, unit_code, unit_text, recognized_on, applied_on,
   submitted_at (yyyy-mm-dd), status, phase;
4. DIR/truth.csv: raw_id, initiative_id, unit_code (the true unit) for the same records,
   from the world's truth.csv keyed by source + source_record_id; DIR/orgs.csv copied.

Contestants read records.csv only; truth.csv and orgs.csv are for bench/er_metrics.py.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROWS_PER_INITIATIVE = 1.39
RECORD_COLUMNS = ("raw_id", "source", "source_record_id", "portal_id", "title", "title_folded", "authors",
                  "author_keys", "submitted_by", "unit_code", "unit_text", "recognized_on", "applied_on",
                  "submitted_at", "status", "phase")
TRUTH_COLUMNS = ("raw_id", "initiative_id", "unit_code")


def default_dir(records: int, noise: str = "hard") -> Path:
    suffix = "" if noise == "hard" else "-" + noise.replace(":", "-")
    return ROOT / "bench" / "out" / f"er-{records}{suffix}"


def initiatives_for(records: int) -> int:
    return max(1, round(records / ROWS_PER_INITIATIVE))


def _iso(series):  # type: ignore[no-untyped-def]
    import pandas as pd

    return pd.to_datetime(series, errors="coerce").dt.strftime("%Y-%m-%d")


def build(records: int, out: Path, seed: int = 1, reuse: bool = False, log=print,  # type: ignore[no-untyped-def]
          noise: str = "hard") -> dict:  # type: ignore[no-untyped-def]
    """Make out/records.csv, out/truth.csv, out/orgs.csv; return timings and counts."""
    import pandas as pd
    import sqlalchemy as sa

    out.mkdir(parents=True, exist_ok=True)
    world = out / "world"
    timings: dict[str, float] = {}
    initiatives = initiatives_for(records)

    if not (reuse and (world / "truth.csv").exists() and (world / "orgs.csv").exists()):
        if world.exists():
            shutil.rmtree(world)
        started = time.perf_counter()
        from sandbox.generate import generate_world

        summary = generate_world(world, initiatives, seed=seed, noise=noise)
        timings["generate"] = time.perf_counter() - started
        log(f"  generate world            {timings['generate']:8.1f} s   {initiatives:,} initiatives, "
            f"{sum(summary.rows_per_source.values()):,} source rows")
    else:
        log(f"  generate world            (reused {world})")

    records_csv, truth_csv = out / "records.csv", out / "truth.csv"
    if not (reuse and records_csv.exists() and truth_csv.exists()):
        from sangkien.pipeline import run as sync
        from sangkien.reference.orgs import load_orgs
        from sangkien.reference.quotas import load_quotas
        from sangkien.store import open_store, raw_records, read_frame
        from sangkien.store import records as records_table
        from sangkien.store.registry import add_connector, read_config_file

        db_path = out / "store.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_path) + suffix).unlink(missing_ok=True)
        started = time.perf_counter()
        engine = open_store(f"sqlite:///{db_path}")
        load_orgs(engine, world / "orgs.csv")
        load_quotas(engine, world / "quotas.csv")
        for config in sorted((world / "sources").glob("*.yaml")):
            add_connector(engine, config.stem, "files", read_config_file(config))
        run_id = sync.start_run(engine)
        received = accepted = 0
        for name in sync.source_names(engine):
            result = sync.pull_source(engine, name, run_id)
            sync.validate_pulled(engine, result, run_id)
            received += result.received
            accepted += result.accepted
        timings["land+validate"] = time.perf_counter() - started
        log(f"  land + validate           {timings['land+validate']:8.1f} s   {received:,} received, "
            f"{accepted:,} accepted")

        started = time.perf_counter()
        r = records_table.c
        query = (sa.select(*[r[c] for c in RECORD_COLUMNS])
                 .select_from(records_table.join(raw_records, raw_records.c.id == r.raw_id))
                 .where(raw_records.c.outcome == "accepted").order_by(r.raw_id))
        with engine.connect() as conn:
            frame = read_frame(conn, query, RECORD_COLUMNS)
        engine.dispose()
        for column in ("recognized_on", "applied_on", "submitted_at"):
            frame[column] = _iso(frame[column])
        frame["phase"] = pd.array(pd.to_numeric(frame["phase"], errors="coerce"), dtype="Int64")
        frame.to_csv(records_csv, index=False, encoding="utf-8", lineterminator="\n")

        truth = pd.read_csv(world / "truth.csv", dtype=str, keep_default_na=False,
                            usecols=["source", "source_record_id", "initiative_id", "unit_code"])
        keyed = frame[["raw_id", "source", "source_record_id"]].astype({"source_record_id": str})
        joined = keyed.merge(truth, on=["source", "source_record_id"], how="left", validate="one_to_one")
        missing = int(joined["initiative_id"].isna().sum())
        if missing:
            log(f"  WARNING: {missing:,} accepted records have no truth row (dropped from truth.csv)")
            joined = joined[joined["initiative_id"].notna()]
        joined[list(TRUTH_COLUMNS)].to_csv(truth_csv, index=False, encoding="utf-8", lineterminator="\n")
        timings["export"] = time.perf_counter() - started
        log(f"  export records + truth    {timings['export']:8.1f} s   {len(frame):,} records, "
            f"{joined['initiative_id'].nunique():,} true initiatives")
    else:
        log(f"  land + validate + export  (reused {records_csv})")

    if not (reuse and (out / "orgs.csv").exists()):
        shutil.copyfile(world / "orgs.csv", out / "orgs.csv")
    return {"dir": str(out), "initiatives_generated": initiatives, "timings": timings}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, required=True, help="about this many source rows in all")
    parser.add_argument("--out", type=Path, help="output folder (default bench/out/er-<records>)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="skip every step whose output is already there")
    parser.add_argument("--noise", default="hard", help="hard (default), real, or real:KIND")
    args = parser.parse_args()
    out = args.out or default_dir(args.records, args.noise)
    print(f"er_data: ~{args.records:,} records ({initiatives_for(args.records):,} initiatives, noise {args.noise}, "
          f"seed {args.seed}) -> {out}", flush=True)
    started = time.perf_counter()
    build(args.records, out, seed=args.seed, reuse=args.reuse, log=lambda s: print(s, flush=True), noise=args.noise)
    print(f"  total                     {time.perf_counter() - started:8.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
