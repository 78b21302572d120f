"""Full and incremental resolution against the store (issue 5), at the scale of a bench world.

    .venv/bin/python bench/er_incremental.py --dir bench/out/er-2000000 [--share 0.02]

Copies DIR/store.db (written by bench/er_data.py: records landed and validated, not
resolved), holds back ``share / 2`` of the accepted records, and times a full resolution
through ``sangkien.pipeline.resolve`` (reading the store, matching, writing initiatives, members,
evidence links and the review queue). Then one simulated night: the held-back records
arrive (new) and as many others change content (their title gains a word and their
content hash changes), all of them queued for resolution as validation queues them; the
incremental resolution is timed, with its stages (from the sangkien.pipeline.resolve log). Prints per-run seconds, peak
RSS and the matcher's counts, and checks that the incremental result equals a full
re-resolution (same partition of records).

The night maps the match index from the local cache the full run wrote
(``SANGKIEN_INDEX_CACHE``, see docs/matching.md). The check's full re-resolution replaces
the index, so the first ``--night-only`` after a checked run misses the cache: it reads
the snapshot's segments from the store (seconds more) and caches them for the next one.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--share", type=float, default=0.02)
    parser.add_argument("--skip-check", action="store_true", help="skip the full re-resolution that checks the result")
    parser.add_argument("--night-only", action="store_true",
                        help="start from DIR/after-full.db (left by an earlier run) and time the night alone, "
                             "so the peak memory printed is the night's own")
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.INFO, format="    %(message)s")
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    import numpy as np
    import pandas as pd

    from sangkien.pipeline.resolve import resolve_initiatives
    from sangkien.store import open_store

    db = args.dir / "incremental.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    snapshot = args.dir / "after-full.db"
    shutil.copy(snapshot if args.night_only else args.dir / "store.db", db)
    os.sync()  # the copy's writeback would otherwise compete with the timed run's reads
    raw = sqlite3.connect(db)
    ids = np.array([r[0] for r in raw.execute("select id from raw_records where outcome in ('accepted', 'held') "
                                              "order by id")])
    rng = np.random.default_rng(7)
    picked = rng.choice(ids, size=int(len(ids) * args.share), replace=False)
    held, changed = picked[: len(picked) // 2], picked[len(picked) // 2:]
    if not args.night_only:
        raw.executemany("update raw_records set outcome = 'held' where id = ?", [(int(i),) for i in held])
        raw.commit()
    engine = open_store(f"sqlite:///{db}")

    def timed(label: str, **kw):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        counts = resolve_initiatives(engine, None, **kw)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  {label:34} {seconds:7.1f} s  peak {peak:6.0f} MB  {counts.records:,} records -> "
              f"{counts.initiatives:,} initiatives, compared {counts.compared:,}, {counts.pairs:,} pairs, "
              f"{counts.review_open:,} open reviews", flush=True)
        return counts

    print(f"{len(ids):,} accepted records; {len(held):,} held back (new tonight), {len(changed):,} to change")
    if not args.night_only:
        timed("full resolution (first night)", full=True)
        engine.dispose()
        raw.execute("pragma wal_checkpoint(truncate)")
        shutil.copy(db, snapshot)
    raw.executemany("update raw_records set outcome = 'accepted' where id = ?", [(int(i),) for i in held])
    raw.executemany("update records set title = title || ' (sửa)', title_folded = title_folded || ' sua' "
                    "where raw_id = ?", [(int(i),) for i in changed])
    raw.executemany("update raw_records set content_hash = 'changed-' || id where id = ?", [(int(i),) for i in changed])
    # as validation does: every record whose outcome was decided tonight waits in the resolution queue
    raw.executemany("insert into resolve_queue (raw_id) values (?)", [(int(i),) for i in picked])
    raw.commit()
    timed("incremental night", full=False)
    if args.skip_check:
        return 0
    members = pd.read_sql("select raw_id, initiative_id from initiative_members order by raw_id", raw)
    timed("full re-resolution (check)", full=True)
    again = pd.read_sql("select raw_id, initiative_id from initiative_members order by raw_id", raw)
    both = members.merge(again, on="raw_id")
    same = (both.groupby("initiative_id_x")["initiative_id_y"].nunique().max() == 1
            and both.groupby("initiative_id_y")["initiative_id_x"].nunique().max() == 1)
    print(f"  incremental partition equals the full one: {same}; ids kept: "
          f"{(both['initiative_id_x'] == both['initiative_id_y']).mean():.4%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
