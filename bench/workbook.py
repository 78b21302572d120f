"""Benchmark: `report --format xlsx` on the national tree (~25,000 grassroots units, two phases).

    python bench/workbook.py [--grassroots 25000] [--out bench/out/workbook]

Builds the sandbox's org tree, loads it, and fills unit_counts and quotas with made-up
figures for every unit and phase (no sync: only the writer is measured), then times
``write_workbook``. Not a test: it prints figures, it asserts nothing about speed.
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grassroots", type=int, default=25_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "workbook")
    args = parser.parse_args()

    import numpy as np
    import pandas as pd

    from sandbox.generate.constants import REFERENCE_DIR
    from sandbox.generate.orgs import _Draw, _OrgBuilder
    from sangkien import store
    from sangkien.present.workbook.book import write_workbook
    from sangkien.reference.orgs import load_orgs

    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    provinces = pd.read_csv(REFERENCE_DIR / "provinces_2022.csv", dtype=str, keep_default_na=False)
    sectors = pd.read_csv(REFERENCE_DIR / "sector_unions.csv", dtype=str, keep_default_na=False)
    tree = _OrgBuilder(_Draw(np.random.default_rng([0, 1])), provinces, sectors).build(args.grassroots)
    tree.orgs.to_csv(args.out / "orgs.csv", index=False)
    engine = store.open_store(f"sqlite:///{args.out / 'store.db'}")
    units = load_orgs(engine, args.out / "orgs.csv")

    rng = np.random.default_rng(7)
    codes = tree.orgs["code"].tolist()
    kinds = dict(zip(tree.orgs["code"], tree.orgs["kind"]))
    parents = dict(zip(tree.orgs["code"], tree.orgs["parent_code"]))
    now = dt.datetime.now(dt.UTC)
    counts, quotas = [], []
    for phase in (1, 2):
        for code in codes:
            valid = int(rng.integers(0, 400))
            counts.append({"unit_code": code, "phase": phase, "records": valid * 2, "initiatives": valid + 50,
                           "valid": valid, "pending": 30, "rejected": 20, "ineligible": 5, "registrants": valid + 10,
                           "benefit_vnd": float(valid) * 1.5e6, "run_id": None, "as_of": now})
            if kinds[code] != "grassroots" or rng.random() < 0.5:
                quotas.append({"unit_code": code, "phase": phase, "target": int(rng.integers(100, 500)),
                               "basis": "valid", "assigned_by": parents[code] or code})
    with engine.begin() as conn:
        conn.execute(store.unit_counts.insert(), counts)
        conn.execute(store.quotas.insert(), quotas)

    started, cpu = time.perf_counter(), time.process_time()
    with engine.connect() as conn:
        summary = write_workbook(conn, args.out / "report.xlsx")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    size = summary.path.stat().st_size / 1e6
    print(f"{units:,} units, {len(counts):,} unit-phase rows: wrote {summary.path} ({size:.1f} MB) "
          f"in {seconds:.1f} s ({cpu:.1f} s CPU)")
    print("  " + ", ".join(f"{name}: {n:,} rows" for name, n in summary.rows.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
