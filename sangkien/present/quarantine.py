"""The quarantine as a file to open in a spreadsheet: one row per failure of every held row."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.pipeline.quarantine import held
from sangkien.present.report import write_query_csv

EXPORT_COLUMNS = ("id", "source", "source_record_id", "origin", "column", "check", "value", "message")


def export(conn: Connection, out: Path, source: str | None = None, reason: str | None = None) -> int:
    """Write one CSV row per failure of every held row (safe to open in Excel); returns the count."""
    q, r = store.quarantine, store.raw_records
    query = (sa.select(r.c.id, r.c.source, r.c.source_record_id, r.c.origin, q.c.column, q.c.check, q.c.value,
                       q.c.message)
             .join(r, r.c.id == q.c.raw_id).where(q.c.raw_id.in_(held(source, reason))).order_by(r.c.id, q.c.id))
    return write_query_csv(conn, query, EXPORT_COLUMNS, Path(out), encoding="utf-8-sig")  # BOM: Excel reads UTF-8
