"""Whether a source's rows are mostly quarantined, and the one line that says why.

A wrong mapping (a date format, a column) does not stop a source from being read: every row lands
and is quarantined. So a share of quarantined rows above the node's ``quarantine_limit`` (default
50%) makes the source failed, in the sync (the run fails, Prefect's run fails, the alert fires) and
in ``connectors check`` (on a sample, before anything is scheduled). Nothing is lost: the rows stay
held until the mapping is fixed and they are released.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.store.settings import get_setting

DEFAULT_LIMIT = 0.5


@dataclass(frozen=True)
class Reason:
    """Rows failing one check of one column, with the first failure's message (the value and what was expected)."""

    column: str
    check: str
    rows: int
    message: str


def quarantine_limit(conn: Connection) -> float:
    """The share of a source's rows that may be quarantined before the source counts as failed (0..1)."""
    value = get_setting(conn, "quarantine_limit")
    return DEFAULT_LIMIT if value is None else float(value)


def top_reasons(failures: Iterable[tuple[int, str, str, str]]) -> list[Reason]:
    """(row, column, check, message) failures as reasons, the most rows first."""
    rows: dict[tuple[str, str], set[int]] = {}
    first: dict[tuple[str, str], str] = {}
    for row, column, check, message in failures:
        rows.setdefault((column, check), set()).add(row)
        first.setdefault((column, check), message)
    reasons = [Reason(column, check, len(ids), first[(column, check)]) for (column, check), ids in rows.items()]
    return sorted(reasons, key=lambda r: (-r.rows, r.column, r.check))


def run_reasons(conn: Connection, source: str, run_id: int) -> list[Reason]:
    """Why ``source``'s rows were quarantined in run ``run_id``, the most rows first."""
    q = store.quarantine
    query = (sa.select(q.c.column, q.c.check, sa.func.count(sa.distinct(q.c.raw_id)), sa.func.min(q.c.message))
             .where(q.c.source == source, q.c.run_id == run_id).group_by(q.c.column, q.c.check))
    reasons = [Reason(column, check, int(n), message or "") for column, check, n, message in conn.execute(query)]
    return sorted(reasons, key=lambda r: (-r.rows, r.column, r.check))


def verdict(quarantined: int, total: int, reasons: list[Reason], limit: float, rows: str = "rows") -> str | None:
    """The one-line failure when more than ``limit`` of ``total`` rows are quarantined, else None.

    It names the share, the limit and the top reason (column, check, the value seen and what was expected).
    """
    if total <= 0 or quarantined / total <= limit:
        return None
    share = quarantined / total
    text = f"{quarantined:,} of {total:,} {rows} quarantined ({share:.0%}, above the limit of {limit:.0%})"
    if reasons:
        top = reasons[0]
        text += f"; the top reason, {top.column} / {top.check} on {top.rows:,} row(s): {top.message}"
    return text
