"""Benchmark: roll-up as of a date and reconciliation on the national tree.

    .venv/bin/python bench/reconcile.py --initiatives 2000000 [--db URL] [--nights 28]

The sandbox generator draws the org tree (25,000 grassroots units at this size), the
initiatives and which sources hold each one (the portal about 70 %, provincial and
sector systems their own parts). Instead of landing files through the pipeline
(bench/pipeline.py measures that), the store is written directly: one raw/record row
per source copy, one initiative per drawn initiative, members linking them; then
``--nights`` nightly points of count_history. Only the stages after that are timed.
Not a test: it prints figures, it asserts nothing about speed.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pipeline import Stages  # noqa: E402
from sandbox.generate.constants import REFERENCE_DIR, STATUSES  # noqa: E402
from sandbox.generate.initiatives import _draw_initiatives  # noqa: E402
from sandbox.generate.orgs import _Draw, _grassroots_count, _OrgBuilder  # noqa: E402
from sandbox.generate.quotas import _quotas  # noqa: E402
from sandbox.generate.sources import _assign_sources  # noqa: E402
from sangkien import store  # noqa: E402
from sangkien.pipeline import reconcile, rollup  # noqa: E402
from sangkien.present.reconcile_render import render_reconciliation  # noqa: E402
from sangkien.reference.orgs import load_orgs  # noqa: E402
from sangkien.reference.quotas import load_quotas  # noqa: E402

DAY0 = dt.date(1970, 1, 1)


def _dates(days: np.ndarray) -> np.ndarray:
    return (pd.Timestamp(DAY0) + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d").to_numpy()


def write_store(engine, out: Path, initiatives: int, seed: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    provinces = pd.read_csv(REFERENCE_DIR / "provinces_2022.csv", dtype=str, keep_default_na=False)
    sectors = pd.read_csv(REFERENCE_DIR / "sector_unions.csv", dtype=str, keep_default_na=False)
    tree = _OrgBuilder(_Draw(np.random.default_rng([seed, 1])), provinces, sectors).build(
        _grassroots_count(initiatives))
    world = _draw_initiatives(np.random.default_rng([seed, 2]), tree, initiatives)
    held = _assign_sources(np.random.default_rng([seed, 3]), tree, world)
    out.mkdir(parents=True, exist_ok=True)
    tree.orgs.to_csv(out / "orgs.csv", index=False)
    _quotas(np.random.default_rng([seed, 4]), tree, world).to_csv(out / "quotas.csv", index=False)
    load_orgs(engine, out / "orgs.csv")
    load_quotas(engine, out / "quotas.csv")

    units = tree.grassroots["code"].to_numpy()[world.unit]
    keep = world.eligible
    status = np.array(STATUSES, dtype=object)[world.status]
    phase = world.phase.astype(np.int64)
    first = pd.Series(world.authors[:, 0]).astype(str).radd("p")
    second = pd.Series(world.authors[:, 1]).astype(str).radd("|p").where(world.n_authors >= 2, "")
    keys = (first + second).to_numpy()
    applied, submitted = _dates(world.applied), _dates(world.submitted)
    benefit = np.where(world.benefit >= 0, world.benefit.astype(float), np.nan)
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    copies = pd.concat([pd.DataFrame({"source": name, "i": idx}) for name, idx in held.items()], ignore_index=True)
    copies = copies[keep[copies["i"].to_numpy()]].sort_values("i", kind="stable", ignore_index=True)
    copies["raw_id"] = np.arange(1, len(copies) + 1)
    copies["source_record_id"] = copies["source"] + "-" + copies["i"].astype(str)
    i = copies["i"].to_numpy()
    n_inits = int(keep.sum())
    with engine.begin() as conn:
        store.bulk_insert(conn, store.raw_records, ("id", "source", "source_record_id", "payload", "content_hash",
                                                    "fetched_at", "outcome"),
                          zip(copies["raw_id"].tolist(), copies["source"].tolist(), copies["source_record_id"].tolist(),
                              ["{}"] * len(copies), ["-"] * len(copies), [now] * len(copies),
                              ["accepted"] * len(copies)))
        store.bulk_insert(conn, store.records, (
            "raw_id", "source", "source_record_id", "title", "title_folded", "authors", "author_keys", "unit_code",
            "field", "solution_type", "applied_on", "submitted_at", "status", "phase", "eligible", "benefit_vnd"),
            store.frame_rows(pd.DataFrame({
                "raw_id": copies["raw_id"], "source": copies["source"], "sid": copies["source_record_id"],
                "title": world.title[i], "folded": world.title[i], "authors": "[]", "keys": keys[i],
                "unit": units[i], "field": "other", "stype": "technical", "applied": applied[i],
                "submitted": submitted[i], "status": status[i], "phase": phase[i], "eligible": True,
                "benefit": benefit[i]})))
        ids = np.flatnonzero(keep)
        store.bulk_insert(conn, store.initiatives, (
            "id", "title", "unit_code", "phase", "status", "applied_on", "submitted_at", "benefit_vnd", "members",
            "match_rule"), store.frame_rows(pd.DataFrame({
                "id": ids + 1, "title": world.title[ids], "unit": units[ids], "phase": phase[ids],
                "status": status[ids], "applied": applied[ids], "submitted": submitted[ids],
                "benefit": benefit[ids], "members": np.bincount(i, minlength=len(keep))[ids], "rule": "bench"})))
        store.bulk_insert(conn, store.initiative_members, ("raw_id", "initiative_id", "matched_on"),
                          zip(copies["raw_id"].tolist(), (i + 1).tolist(), ["bench"] * len(copies)))
    return n_inits, len(copies)


def write_history(engine, nights: int, as_of: dt.date) -> int:  # type: ignore[no-untyped-def]
    """``nights`` nightly roll-ups ending the night before ``as_of``, growing linearly to today's counts."""
    with engine.connect() as conn:
        counts = rollup.compute_unit_counts(conn, as_of)
    frames = []
    for k in range(nights):
        night = dt.datetime.combine(as_of - dt.timedelta(days=nights - k), dt.time(18, 30))
        scaled = counts.copy()
        for name in rollup.COUNT_COLUMNS:
            scaled[name] = (scaled[name] * (k + 1) / nights).round().astype(scaled[name].dtype)
        scaled["as_of"] = night.strftime("%Y-%m-%d %H:%M:%S.%f")
        scaled["run_id"] = None
        frames.append(scaled)
    history = pd.concat(frames, ignore_index=True)
    columns = ["run_id", "as_of", "unit_code", "phase", *rollup.COUNT_COLUMNS]
    with engine.begin() as conn:
        store.bulk_insert(conn, store.count_history, columns, store.frame_rows(history[columns]))
    return len(history)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--initiatives", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nights", type=int, default=28)
    parser.add_argument("--db", help="default: a fresh SQLite file under bench/out/")
    args = parser.parse_args()
    out = ROOT / "bench" / "out" / f"reconcile-{args.initiatives}"
    db = out / "store.db"
    if not args.db:
        out.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    engine = store.open_store(args.db or f"sqlite:///{db}")
    # a date inside phase 2, so that projections have a phase end ahead of them
    as_of = dt.date(2023, 6, 1)
    stages = Stages()
    print(f"reconcile bench: {args.initiatives:,} initiatives drawn, as of {as_of}", flush=True)
    with stages.stage("write store (not timed work)") as info:
        n_inits, n_records = write_store(engine, out, args.initiatives, args.seed)
        info["note"] = f"{n_inits:,} initiatives, {n_records:,} records"
    with stages.stage("write count_history") as info:
        info["note"] = f"{write_history(engine, args.nights, as_of):,} rows"
    with stages.stage("roll-up as of a date") as info:
        with engine.connect() as conn:
            counts = rollup.compute_unit_counts(conn, as_of)
        info["note"] = f"{len(counts):,} (unit, phase) rows"
    with stages.stage("roll_up (store + history)") as info:
        info["note"] = f"{rollup.roll_up(engine, None, as_of):,} rows"
    with engine.connect() as conn:
        with stages.stage("open scope (tree as of)"):
            scope = reconcile.open_scope(conn, as_of=as_of)
        with stages.stage("quotas + projection") as info:
            quotas = reconcile.quota_rows(conn, scope)
            flags = reconcile.target_flags(conn, scope)
            info["note"] = f"{len(quotas):,} quotas, {int(quotas['projected'].notna().sum()):,} projected, " \
                           f"{len(flags):,} flagged"
        with stages.stage("between sources") as info:
            coverage = reconcile.source_coverage(conn, scope)
            info["note"] = f"{len(coverage.coverage):,} coverage rows, {len(coverage.missing):,} lacking"
        with stages.stage("discrepancies()") as info:
            info["note"] = f"{len(reconcile.discrepancies(conn, as_of=as_of)):,} rows"
        with stages.stage("reconcile --format csv, end to end") as info:
            info["note"] = f"{len(render_reconciliation(conn, 'csv', 'all', as_of=as_of)):,} characters"
        with stages.stage("reconcile --unit P01 (table)") as info:
            info["note"] = f"{len(render_reconciliation(conn, 'table', 'all', 'P01', as_of=as_of)):,} characters"


if __name__ == "__main__":
    main()
