"""The quarantine, for the operator: what is held and why, and releasing rows after a fix.

A quarantined row keeps its verbatim payload and one entry per failed check. After a
fix to a connector's column mapping or to the org tree, ``release`` re-validates the
held rows from their stored payloads (no new pull); those that now pass flow on into
the initiatives and the counts.
"""
from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sangkien import store
from sangkien.errors import UserError
from sangkien.pipeline.revalidate import Released, revalidate
from sangkien.store.registry import list_connectors


def held(source: str | None, reason: str | None) -> sa.Select:
    """Ids of quarantined rows, optionally of one source and failing one check (or column)."""
    q, r = store.quarantine, store.raw_records
    query = sa.select(q.c.raw_id).join(r, r.c.id == q.c.raw_id).where(r.c.outcome == "quarantined")
    if source:
        query = query.where(q.c.source == source)
    if reason:
        query = query.where(sa.or_(q.c.check == reason, q.c.column == reason))
    return query.distinct()


def groups(conn: Connection, source: str | None = None, reason: str | None = None) -> list[dict[str, Any]]:
    """Held rows counted by source, column and check, with one example value each."""
    q = store.quarantine
    query = (sa.select(q.c.source, q.c.column, q.c.check, sa.func.count(sa.distinct(q.c.raw_id)).label("rows"),
                       sa.func.min(q.c.value).label("example"), sa.func.min(q.c.raw_id).label("first_id"))
             .where(q.c.raw_id.in_(held(source, reason)))
             .group_by(q.c.source, q.c.column, q.c.check)
             .order_by(q.c.source, sa.desc("rows")))
    if reason:
        query = query.where(sa.or_(q.c.check == reason, q.c.column == reason))
    return [dict(row) for row in conn.execute(query).mappings()]


def entry(conn: Connection, raw_id: int) -> dict[str, Any]:
    """One held row: its source, id, origin, verbatim payload and every failure."""
    r = store.raw_records
    row = conn.execute(sa.select(r.c.id, r.c.source, r.c.source_record_id, r.c.origin, r.c.fetched_at,
                                 r.c.outcome, r.c.payload).where(r.c.id == raw_id)).mappings().first()
    if row is None:
        raise UserError(f"no landed row with id {raw_id}; `sangkien quarantine list` shows held rows and their ids")
    failures = conn.execute(sa.select(store.quarantine.c.column, store.quarantine.c.check, store.quarantine.c.value,
                                      store.quarantine.c.message)
                            .where(store.quarantine.c.raw_id == raw_id).order_by(store.quarantine.c.id)).mappings()
    return {**{k: v for k, v in row.items() if k != "payload"}, "payload": json.loads(row["payload"]),
            "failures": [dict(f) for f in failures]}


def release(engine: Engine, source: str | None = None, reason: str | None = None) -> Released:
    """Re-validate held rows from their stored payloads; those that now pass are counted.

    Rows of a source whose connector was removed stay held (their mapping is gone).
    """
    result = Released()
    with engine.connect() as conn:
        connectors = {row["name"]: row for row in list_connectors(conn)}
        sources = [s for (s,) in conn.execute(sa.select(store.quarantine.c.source).where(
            store.quarantine.c.raw_id.in_(held(source, reason))).distinct())]
    if source and source not in connectors and source not in sources:
        raise UserError(f"no connector named {source!r}; `sangkien connectors list` shows the registered ones")
    result.skipped_sources = sorted(s for s in sources if s not in connectors)
    return revalidate(engine, [s for s in sources if s in connectors], connectors, result, "quarantine release",
                      lambda name: held(name, reason))
