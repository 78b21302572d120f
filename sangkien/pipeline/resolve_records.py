"""Reading accepted records for resolution: the columns the matcher and the initiative rows need, typed.

A full resolution reads every accepted record (2 M at the national node), so the read is shaped for it:
dates arrive as day numbers (:class:`sangkien.store.day_number`), the few distinct sources, statuses and
units are shared, and the titles as submitted are left out until the matcher is done (:func:`titles_of`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store

RECORD_COLUMNS = ["raw_id", "source", "portal_id", "title", "title_folded", "author_keys", "unit_code",
                  "recognized_on", "applied_on", "submitted_at", "status", "benefit_vnd", "phase"]


def record_query(title: bool = True) -> sa.Select:
    """Accepted records in :data:`RECORD_COLUMNS` (without ``title`` unless ``title``); dates as day
    numbers (:func:`typed` makes them dates)."""
    r, w = store.records.c, store.raw_records.c
    day = store.day_number
    return (sa.select(r.raw_id, r.source, r.portal_id, *([r.title] if title else []), r.title_folded, r.author_keys,
                      r.unit_code, day(r.recognized_on), day(r.applied_on), day(r.submitted_at), r.status,
                      r.benefit_vnd, r.phase)
            .join(store.raw_records, w.id == r.raw_id)
            .where(w.outcome == "accepted"))


_TEXT_COLUMNS = ("source", "portal_id", "title", "title_folded", "author_keys", "unit_code", "status")


def typed(recs: pd.DataFrame) -> pd.DataFrame:
    """Dates as datetimes and the benefit as a float (a column of None would stay object, and a
    group-by max over objects runs in Python); the few distinct sources, statuses and units
    each held once, not once per row (the driver makes a string per value: 0.3 GB at 2 M rows)."""
    for name in ("recognized_on", "applied_on", "submitted_at"):
        recs[name] = store.dates_from_day_numbers(recs[name])
    recs["benefit_vnd"] = pd.to_numeric(recs["benefit_vnd"], errors="coerce").astype(np.float64)
    recs["phase"] = pd.to_numeric(recs["phase"], errors="coerce")  # read in chunks: the same dtypes in
    for name in _TEXT_COLUMNS:                                      # each, whatever a chunk holds (all None)
        if name in recs:
            recs[name] = recs[name].astype("str")
    for name in ("source", "status", "unit_code"):
        codes, uniques = pd.factorize(recs[name], use_na_sentinel=True)
        shared = np.r_[np.asarray(uniques, dtype=object), None][codes]  # code -1 (missing) takes the None
        recs[name] = pd.Series(shared, index=recs.index, dtype=recs[name].dtype)
    return recs


def load_records(conn: Connection, queued_upto: int | None = None, title: bool = True) -> pd.DataFrame:
    """Accepted records: all of them, or those queued (seq <= ``queued_upto``) for resolution.

    ``title`` False leaves out the title as submitted (the matcher reads the folded one): at 2 M
    records it is 0.6 GB of the frame and 3.7 s of the read; a full run reads the titles it keeps
    (:func:`titles_of`) once the matcher is done."""
    query = record_query(title)
    if queued_upto is not None:
        q = store.resolve_queue.c
        query = query.where(store.records.c.raw_id.in_(sa.select(q.raw_id).where(q.seq <= queued_upto)))
    columns = [c for c in RECORD_COLUMNS if title or c != "title"]
    return store.read_frame(conn, query.order_by(store.records.c.raw_id), columns, typed)


def titles_of(conn: Connection, raw_ids: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """The submitted titles of the records ``raw_ids``, in their order, read in one pass over the
    records in raw id order, keeping only those asked for (a chunk's other titles are let go at once).
    Straight from the driver's rows: a frame per chunk took 4.3 s for 1.4 M titles of 2 M, this 2.5 s."""
    wanted = np.unique(raw_ids)
    r = store.records.c
    found_ids: list[np.ndarray] = []
    found: list[str] = []
    result = conn.execute(sa.select(r.raw_id, r.title).order_by(r.raw_id))
    cursor = result.cursor
    try:
        while cursor is not None and len(wanted):
            rows = cursor.fetchmany(chunk)
            ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
            at = np.minimum(np.searchsorted(wanted, ids), len(wanted) - 1)
            keep = np.flatnonzero(wanted[at] == ids)
            found.extend(rows[k][1] for k in keep.tolist())
            found_ids.append(ids[keep])
            if len(rows) < chunk:
                break
    finally:
        result.close()
    if len(found) < len(wanted):  # raw ids are unique: each found one was asked for
        missing = np.setdiff1d(wanted, np.concatenate(found_ids))
        raise RuntimeError(f"records being resolved left the store meanwhile ({len(missing):,}, the first raw id "
                           f"{int(missing[0])}); run the resolution again")
    titles = np.empty(len(found), dtype=object)
    titles[:] = found
    return titles[np.searchsorted(wanted, raw_ids)]  # found in ascending raw id order, as ``wanted``
