"""Land raw rows verbatim: upsert on (source, source_record_id), the content hash decides "changed".

A batch's rows and the connector state that covers them commit in one transaction.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from connectors.base import Batch
from sangkien import store
from sangkien.store.registry import save_state


@dataclass
class LandCounts:
    received: int = 0  # distinct records delivered (each lands as one raw row)
    new: int = 0
    changed: int = 0
    unchanged: int = 0

    def add(self, other: LandCounts) -> None:
        for name in ("received", "new", "changed", "unchanged"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def existing_records(conn: Connection, source: str) -> dict[str, str]:
    """source_record_id → content hash for everything landed from ``source``."""
    frame = store.read_frame(conn, sa.select(store.raw_records.c.source_record_id, store.raw_records.c.content_hash)
                             .where(store.raw_records.c.source == source), ["source_record_id", "content_hash"])
    return dict(zip(frame["source_record_id"], frame["content_hash"], strict=False))


def _payloads(rows: pd.DataFrame, headers: list[str]) -> list[str]:
    if rows.empty:
        return []
    text = rows[headers].to_json(orient="records", lines=True, force_ascii=False)
    return text.splitlines()


@dataclass
class LandingRows:
    """A batch as it lands: per row its record id, verbatim JSON payload, origin, and landing problem
    (``column|check|message``, or None), the rows that could not be split into columns included."""

    ids: list[str]
    payloads: list[str]
    origins: list[str]
    problems: list[str | None]


def landing_rows(batch: Batch, id_column: str | None) -> LandingRows:
    """What ``land_batch`` writes for ``batch``, without writing it (``connectors check`` and ``preview`` read it).

    A row without an id, or repeating an id earlier in the same batch, and a row that could not be split into
    columns, get a synthetic id and a landing problem, so validation quarantines them: nothing is dropped.
    """
    rows = batch.rows
    payloads = _payloads(rows, batch.headers)
    origins = rows["_origin"].tolist() if not rows.empty else []
    ids = (rows[id_column].astype(str).str.strip().tolist() if id_column in rows.columns
           else [""] * len(rows)) if not rows.empty else []
    problems: list[str | None] = [None] * len(ids)
    seen_here: set[str] = set()
    for i, (srid, origin) in enumerate(zip(ids, origins, strict=False)):
        if not srid:
            ids[i] = f"~{origin}"
            problems[i] = f"source_record_id|required|no record id ({id_column}) on {origin}"
        elif srid in seen_here:
            ids[i] = f"{srid}~{origin}"
            problems[i] = (f"source_record_id|unique_in_batch|record id {srid!r} repeats earlier in {batch.label} "
                           f"({origin})")
        seen_here.add(ids[i])
    for problem in batch.row_problems:
        payloads.append(json.dumps({"_raw_line": problem.raw}, ensure_ascii=False))
        origins.append(problem.origin)
        ids.append(f"~{problem.origin}")
        problems.append(f"_row|field_count|{problem.origin}: {problem.message}")
    return LandingRows(ids, payloads, origins, problems)


def land_batch(conn: Connection, source: str, batch: Batch, id_column: str | None, run_id: int,
               known: dict[str, str], received: set[str] | None = None, save: bool = True) -> LandCounts:
    """Upsert ``batch`` into raw_records and save its state (unless ``save`` is false: a backfill),
    inside the caller's transaction.

    ``known`` (from ``existing_records``) is updated in place; ``received`` collects the ids
    delivered in this run, so a record delivered twice (pages that overlap) counts once. Rows
    with a landing problem (see ``landing_rows``) land under a synthetic id and are quarantined.
    """
    now = dt.datetime.now(dt.UTC)
    landing = landing_rows(batch, id_column)
    ids, payloads, origins, problems = landing.ids, landing.payloads, landing.origins, landing.problems

    received = set() if received is None else received
    counts = LandCounts(received=len(set(ids) - received))
    received.update(ids)
    stamp = now.strftime(store.sql_timestamp_text(conn, aware=True))
    inserts, updates, touched = [], [], []
    for srid, payload, origin, landing_problem in zip(ids, payloads, origins, problems, strict=False):
        digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
        previous = known.get(srid)
        if previous is None:
            inserts.append((source, srid, payload, digest, origin, stamp, run_id, run_id, landing_problem))
        elif previous != digest:
            updates.append((payload, digest, origin, landing_problem, stamp, run_id, run_id, None, None, source, srid))
        else:
            touched.append((run_id, source, srid))
        known[srid] = digest
    if inserts:
        store.bulk_insert(conn, store.raw_records, ("source", "source_record_id", "payload", "content_hash", "origin",
                                                    "fetched_at", "run_id", "seen_run", "landing_problem"), inserts)
    if updates:
        store.bulk_update(conn, store.raw_records, ("payload", "content_hash", "origin", "landing_problem",
                                                    "fetched_at", "run_id", "seen_run", "outcome", "reason"),
                          ("source", "source_record_id"), updates)
    if touched:
        store.bulk_update(conn, store.raw_records, ("seen_run",), ("source", "source_record_id"), touched)
    counts.new, counts.changed, counts.unchanged = len(inserts), len(updates), len(touched)
    if save:
        save_state(conn, source, batch.state)
    return counts
