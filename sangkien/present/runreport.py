"""What one sync run shows the operator: a row per source and a reconciliation summary.

Two different things are named apart here, as on the dashboard and in the workbook:
**rows the run lost or held back** (a source that failed, control totals that do not
hold, rows quarantined: :func:`run_problems`) and **where the sources disagree** (the
top of the ranked worklist the roll-up kept, sangkien.pipeline.worklist).

Plain data read from the store (no Prefect): flows/ publishes it as Prefect artifacts
(a table and a markdown page per run), and the tests read it without the engine.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.present import board
from sangkien.present.explain import Explainer
from sangkien.present.report import report_rows

SOURCE_COLUMNS = ("source", "received", "accepted", "ineligible", "quarantined", "new", "changed", "stale",
                  "duplicates_merged", "pushed", "seconds", "error_type")
BEHIND_LIMIT = 10
QUARANTINE_LIMIT = 10
WORKLIST_LIMIT = 10


def _merged_by_source(conn: Connection, run_id: int) -> dict[str, int]:
    """Per source: this run's records folded into an initiative that another record (its lowest id) stands for."""
    m, r = store.initiative_members, store.raw_records
    first = (sa.select(m.c.initiative_id, sa.func.min(m.c.raw_id).label("first_raw"))
             .group_by(m.c.initiative_id).subquery())
    query = (sa.select(r.c.source, sa.func.count())
             .select_from(m.join(r, r.c.id == m.c.raw_id).join(first, first.c.initiative_id == m.c.initiative_id))
             .where(r.c.seen_run == run_id, m.c.raw_id != first.c.first_raw)
             .group_by(r.c.source))
    return {source: int(n) for source, n in conn.execute(query).all()}


def source_rows(conn: Connection, run_id: int) -> list[dict[str, Any]]:
    """One row per source of run ``run_id``, in SOURCE_COLUMNS order.

    ``pushed`` stays empty: a push carries the whole node's counts, not a source's; it is made after the run's
    artifacts are written, and `sangkien runs` lists it.
    """
    s = store.sync_run_sources
    merged = _merged_by_source(conn, run_id)
    rows = []
    for rec in conn.execute(sa.select(s).where(s.c.run_id == run_id).order_by(s.c.source)).mappings():
        rows.append({"source": rec["source"], "received": rec["received"], "accepted": rec["accepted"],
                     "ineligible": rec["ineligible"], "quarantined": rec["quarantined"], "new": rec["new"],
                     "changed": rec["changed"], "stale": rec["stale"],
                     "duplicates_merged": merged.get(rec["source"], 0), "pushed": None,
                     "seconds": None if rec["seconds"] is None else round(float(rec["seconds"]), 2),
                     "error_type": rec["error_type"]})
    return rows


def units_behind(conn: Connection, limit: int = BEHIND_LIMIT) -> list[dict[str, Any]]:
    """Units with a countable target, furthest behind first (lowest completion, then the largest gap)."""
    _, rows = report_rows(conn)
    scored = [r for r in rows if r["target"] and r["completion"] is not None]
    scored.sort(key=lambda r: (r["completion"], -(r["target"] - r["completion"] * r["target"]), r["unit_code"],
                               r["phase"]))
    return scored[:limit]


def run_problems(conn: Connection, run_id: int) -> list[str]:
    """What the run lost or held back: failed sources, control totals that do not hold, what was quarantined
    and why."""
    s, q = store.sync_run_sources, store.quarantine
    found = []
    for rec in conn.execute(sa.select(s).where(s.c.run_id == run_id).order_by(s.c.source)).mappings():
        if rec["error"]:
            first = rec["error"].splitlines()[0]
            found.append(f"source `{rec['source']}` failed ({rec['error_type']} error): {first}")
        if rec["stale"]:
            found.append(f"{rec['stale']:,} row(s) of `{rec['source']}` were older than the stored version and kept "
                         "aside as stale (the newer content stays)")
        found += [f"`{rec['source']}`: {note}" for note in (rec["notes"] or "").splitlines() if note]
        total = rec["accepted"] + rec["ineligible"] + rec["quarantined"]
        if rec["received"] != total:
            found.append(f"control totals do not hold for `{rec['source']}`: received {rec['received']:,} but "
                         f"accepted + ineligible + quarantined = {total:,}")
    held = conn.execute(sa.select(q.c.source, q.c.column, q.c.check, sa.func.count(sa.distinct(q.c.raw_id)))
                        .where(q.c.run_id == run_id).group_by(q.c.source, q.c.column, q.c.check)
                        .order_by(sa.desc(sa.func.count(sa.distinct(q.c.raw_id))), q.c.source, q.c.column)).all()
    for source, column, check, n in held[:QUARANTINE_LIMIT]:
        found.append(f"{n:,} row(s) of `{source}` quarantined on {column} / {check}")
    if len(held) > QUARANTINE_LIMIT:
        found.append(f"... and {len(held) - QUARANTINE_LIMIT} more quarantine reasons (`sangkien quarantine list`)")
    return found


def _cell(value: Any) -> str:
    text = "" if value is None else f"{value:,}" if isinstance(value, int) else str(value)
    return text.replace("|", "\\|")


def _disagreements(conn: Connection) -> list[str]:
    """The top of the kept worklist (where the sources disagree), in words; empty before the first roll-up."""
    if conn.execute(sa.select(store.summary_state.c.id)).first() is None:
        return []
    found = board.worklist_rows(conn, Explainer("en", board.portals(conn)), None, None, board.SHOWN_KINDS,
                                limit=WORKLIST_LIMIT)
    lines = [f"| {r['rank']} | {_cell(r['unit_code'])} | {r['phase']} | {_cell(r['explanation'])} | "
             f"{_cell(r['effect_text'])} |" for r in found["rows"]]
    if not lines:
        return []
    more = found["total"] - len(lines)
    return ["| # | unit | phase | what and what to do | effect on the target |", "|---:|---|---:|---|---|", *lines,
            *(["", f"... and {more:,} more (`sangkien reconcile`, the workbook, the dashboard)"] if more > 0 else [])]


def reconciliation_markdown(conn: Connection, run_id: int) -> str:
    """A markdown page: the run's outcome, the units furthest behind target, the rows the run lost or held back,
    and where the sources disagree."""
    run = conn.execute(sa.select(store.sync_runs).where(store.sync_runs.c.id == run_id)).mappings().one()
    rows = source_rows(conn, run_id)
    received = sum(r["received"] for r in rows)
    # a source's failure is listed under the run's problems; other run messages (abandoned, crashed) go here
    note = run["message"] if run["message"] and not any(r["error_type"] for r in rows) else None
    lines = [f"# Sync run {run_id}: {run['status']}", "",
             f"{len(rows)} source(s), {received:,} record(s) received" + (f"; {note}" if note else "") + ".", "",
             "## Units furthest behind target", ""]
    behind = units_behind(conn)
    if behind:
        lines += ["| unit | name | phase | counted | target | done | short by |", "|---|---|---:|---:|---:|---:|---:|"]
        for r in behind:
            counted = round(r["completion"] * r["target"])
            lines.append(f"| {_cell(r['unit_code'])} | {_cell(r['unit_name'])} | {r['phase']} | {counted:,} | "
                         f"{r['target']:,} | {r['completion'] * 100:.1f}% | {max(r['target'] - counted, 0):,} |")
    else:
        lines.append("No unit has a countable target yet (load quotas with `sangkien quotas load`).")
    lines += ["", "## Rows this run lost or held back", ""]
    found = run_problems(conn, run_id)
    lines += [f"- {_cell(item)}" for item in found] if found else ["None: every source synced and every row counted."]
    lines += ["", "## Where the sources disagree (ranked by effect on the target)", ""]
    lines += _disagreements(conn) or ["Nothing: the sources hold the same initiatives."]
    return "\n".join(lines) + "\n"
