"""Every content a landed record has had, and what changed between them: ``sangkien explain`` shows it.

The current content is in ``raw_records``; the others are in ``record_versions`` (append-only):
superseded (it was current until a newer one replaced it) or stale (it arrived older than the
stored one, by the source's clock, or in a re-drop, and never replaced it). Each with the run that
brought it.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from connectors.base import cell_text
from sangkien import store


def _fields(payload: str) -> dict[str, Any]:
    try:
        data = json.loads(payload)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """The fields whose text differs. A JSON source's record is kept as sent (a list, a number) since issue 21,
    as its text before: the same value in either form is no change."""
    return [{"field": name, "before": before.get(name), "after": after.get(name)}
            for name in dict.fromkeys([*before, *after]) if cell_text(before.get(name)) != cell_text(after.get(name))]


def _stamp(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    return None if value is None else str(value)


def record_history(conn: Connection, raw_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Per landed record, its contents in the order runs brought them, each with the fields that differ from the
    content in force before it (for a stale one: from the content it did not replace)."""
    r, v = store.raw_records.c, store.record_versions.c
    entries: dict[int, list[tuple[tuple[int, int], dict[str, Any], str]]] = {raw_id: [] for raw_id in raw_ids}
    for row in conn.execute(sa.select(v.id, v.raw_id, v.payload, v.clock, v.origin, v.fetched_at, v.run_id, v.status,
                                      v.replaced_run).where(v.raw_id.in_(raw_ids))).mappings():
        entries[row["raw_id"]].append(((row["run_id"] or 0, row["id"]), dict(row), row["payload"]))
    for row in conn.execute(sa.select(r.id, r.payload, r.clock, r.origin, r.fetched_at, r.run_id)
                            .where(r.id.in_(raw_ids))).mappings():
        current: dict[str, Any] = {**row, "raw_id": row["id"], "status": "current", "replaced_run": None}
        entries[row["id"]].append(((row["run_id"] or 0, 1 << 62), current, row["payload"]))
    history: dict[int, list[dict[str, Any]]] = {}
    for raw_id, found in entries.items():
        in_force: dict[str, Any] | None = None
        out = []
        for _, version, payload in sorted(found, key=lambda e: e[0]):
            fields = _fields(payload)
            out.append({"run": version["run_id"], "fetched_at": _stamp(version["fetched_at"]),
                        "origin": version["origin"], "clock": version["clock"], "status": version["status"],
                        "replaced_run": version["replaced_run"],
                        "changes": [] if in_force is None else _changes(in_force, fields)})
            if version["status"] != "stale":
                in_force = fields
        history[raw_id] = out
    return history
