"""The workbook's sheets to act on: where the sources disagree (a ranked summary and one detail sheet with
a filter, one initiative a row) and the rows the syncs held back.

"Sources disagree" (the worklist, sangkien.pipeline.worklist) and "rows held back" (the quarantine)
are different things and are named apart, on their own sheets. Both read what the last roll-up
kept (sangkien.pipeline.summary) and the quarantine; every word comes from the catalogue.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.present import board
from sangkien.present.explain import Explainer
from sangkien.present.workbook.plan import Block, Line, SheetPlan
from sangkien.store.settings import default_program

SUMMARY_KEYS = ("rank", "unit_code", "unit_name", "kind", "phase", "discrepancy_kind", "cause", "source", "items",
                "target", "standing", "after", "crosses", "explanation", "effect")
DETAIL_KEYS = ("top_unit", "unit_code", "unit_name", "phase", "source", "cause", "initiative_id", "title", "status",
               "held_by")
HELD_KEYS = ("source", "column", "check", "rows", "example", "first_id")
HELD_SOURCE_KEYS = ("source", "held", "failures")
DETAIL_LIMIT = 200_000  # initiatives on the detail sheet; the rest are in the CSV export (docs/reconcile.md)
EXCEL_ROWS = 1_048_576


def worklist_sheet(conn: Connection, labels: dict[str, Any], explainer: Explainer,
                   phase_names: dict[int, str]) -> SheetPlan:
    """One row per unit, phase and cause (and source), ranked by effect on the unit's target."""
    found = board.worklist_rows(conn, explainer, None, None, board.SHOWN_KINDS, limit=EXCEL_ROWS - 2)
    kinds = board.unit_kinds(conn)
    yes, no = labels["yes"], labels["no"]
    rows = []
    for n, r in enumerate(found["rows"], start=1):
        after = None if r["standing"] is None else r["standing"] + (r["effect"] or 0)
        rows.append([n, r["unit_code"], r["unit_name"], labels["kinds"].get(kinds.get(r["unit_code"]), ""),
                     phase_names.get(r["phase"], r["phase"]), r["kind_label"], r["cause_label"], r["source_label"],
                     r["items"], r["target"], r["standing"], after, yes if r["crosses"] else no, r["explanation"],
                     r["effect_text"]])
    block = Block(SUMMARY_KEYS, [labels["worklist_columns"][k] for k in SUMMARY_KEYS], rows, filtered=True)
    return SheetPlan(labels["sheet_worklist"], [block], len(rows))


CLUSTER_KEYS = ("cluster_code", "cluster_name", "phase", "quarter", "rank", "of", "unit_code", "unit_name", "target",
                "valid", "completion")


def cluster_sheet(conn: Connection, labels: dict[str, Any], phase_names: dict[int, str],
                  program: str | None = None) -> SheetPlan | None:
    """Each competition cluster's ranks per phase and per quarter ("Xếp hạng cụm, khối") in ``program`` (default:
    the default program); None without clusters."""
    from sangkien.pipeline.clusters import cluster_ranks

    ranks = cluster_ranks(conn, program=program)
    if ranks.empty:
        return None
    rows = [[r["cluster_code"], r["cluster_name"], phase_names.get(r["phase"], r["phase"]),
             r["quarter"] if isinstance(r["quarter"], str) else labels["whole_phase"], int(r["rank"]), int(r["of"]),
             r["unit_code"], r["unit_name"], None if r["target"] != r["target"] else int(r["target"]), int(r["valid"]),
             None if r["completion"] != r["completion"] else float(r["completion"])]
            for r in ranks.to_dict("records")]
    block = Block(CLUSTER_KEYS, [labels["cluster_columns"][k] for k in CLUSTER_KEYS], rows, filtered=True)
    return SheetPlan(labels["sheet_clusters"], [block], len(rows))


TARGET_KEYS = ("unit_code", "unit_name", "phase", "assigned_by", "basis", "target", "counted", "completion")


def targets_sheet(conn: Connection, labels: dict[str, Any], phase_names: dict[int, str],
                  program: str | None = None) -> SheetPlan | None:
    """Every target with who set it ("Chỉ tiêu theo nơi giao"), when a unit holds more than one in a phase or a
    target is a share; None otherwise (the phase sheets hold every target then)."""
    from sangkien.present.report import report_rows

    q = store.quotas.c
    program = program or default_program(conn)
    several = sa.select(q.unit_code).where(q.program == program).group_by(
        q.unit_code, q.phase).having(sa.func.count() > 1).limit(1)
    shares = sa.select(q.unit_code).where(q.program == program,
                                          q.basis.like("share_of%")).limit(1)
    if conn.execute(several).first() is None and conn.execute(shares).first() is None:
        return None  # one target a unit and phase, on a count: the phase sheets hold them all
    _, rows = report_rows(conn, every_target=True, program=program)
    rows = [r for r in rows if r["target"] is not None]
    keys = [(r["unit_code"], r["phase"]) for r in rows]
    if len(set(keys)) == len(keys) and not any(str(r["basis"]).startswith("share_of") for r in rows):
        return None
    values = [[r["unit_code"], r["unit_name"], phase_names.get(r["phase"], r["phase"]),
               labels["self_set"] if r["assigned_by"] == r["unit_code"] else r["assigned_by"],
               labels["bases"].get(r["basis"], r["basis"]), r["target"],
               r["counted"], r["completion"]] for r in rows]
    block = Block(TARGET_KEYS, [labels["target_columns"][k] for k in TARGET_KEYS], values, filtered=True)
    return SheetPlan(labels["sheet_targets"], [block], len(values))


def empty_worklist(labels: dict[str, Any]) -> tuple[SheetPlan, SheetPlan]:
    """The two worklist sheets with their headers only (nothing was reconciled for this workbook)."""
    return (SheetPlan(labels["sheet_worklist"], [Block(SUMMARY_KEYS, [labels["worklist_columns"][k]
                                                                      for k in SUMMARY_KEYS], [], filtered=True)]),
            SheetPlan(labels["sheet_worklist_detail"], [Block(DETAIL_KEYS, [labels["detail_columns"][k]
                                                                            for k in DETAIL_KEYS], [], filtered=True)]))


def detail_sheet(conn: Connection, labels: dict[str, Any], explainer: Explainer, statuses: dict[str, str],
                 causes: dict[str, str], phase_names: dict[int, str]) -> tuple[SheetPlan, int]:
    """One row per initiative behind the worklist (and source lacking it), filtered by any column; at most
    DETAIL_LIMIT rows. Returns the plan and how many there are in all."""
    i, n, o = store.worklist_items.c, store.initiatives.c, store.org_units.c
    shown = i.kind.in_(list(board.SHOWN_KINDS))
    total = conn.scalar(sa.select(sa.func.count()).select_from(store.worklist_items).where(shown)) or 0
    query = (sa.select(i.cause, i.source, i.phase, i.unit_code, i.initiative_id, i.status, n.title, o.name)
             .join(store.initiatives, n.id == i.initiative_id, isouter=True)
             .join(store.org_units, o.code == i.unit_code, isouter=True)
             .where(shown).order_by(i.source, i.unit_code, i.initiative_id).limit(DETAIL_LIMIT))
    items = conn.execute(query).all()
    tops = _top_units(conn)
    held = _held_by(conn, [row.initiative_id for row in items])
    rows = [[tops.get(r.unit_code, ""), r.unit_code, r.name, phase_names.get(r.phase, r.phase),
             explainer.source(r.source), causes.get(r.cause, r.cause), r.initiative_id, r.title,
             statuses.get(r.status, r.status or ""), held.get(r.initiative_id, "")] for r in items]
    block = Block(DETAIL_KEYS, [labels["detail_columns"][k] for k in DETAIL_KEYS], rows, filtered=True)
    return SheetPlan(labels["sheet_worklist_detail"], [block], len(rows)), total


def _top_units(conn: Connection) -> dict[str, str]:
    """Per unit: the province(s) or national sector union(s) it sits under ("; "-joined names)."""
    national = board.national(conn)
    if national is None:
        return {}
    c, o = store.unit_closure.c, store.org_units.c
    tops = sa.select(o.code).where(sa.or_(o.parent_code == national.code, o.sector_parent_code == national.code))
    out: dict[str, list[str]] = {}
    for unit, name in conn.execute(sa.select(c.unit_code, o.name).join(store.org_units, o.code == c.ancestor)
                                   .where(c.ancestor.in_(tops)).order_by(c.unit_code, o.name)):
        out.setdefault(unit, []).append(name)
    return {unit: "; ".join(names) for unit, names in out.items()}


def _held_by(conn: Connection, ids: Sequence[int]) -> dict[int, str]:
    """Per initiative: the source records that hold it, "source: record id; …"."""
    if not ids:
        return {}
    m, r = store.initiative_members.c, store.raw_records.c
    chosen = store.id_set(conn, "workbook_ids", ids)
    out: dict[int, list[str]] = {}
    for initiative, source, record in conn.execute(
            sa.select(m.initiative_id, r.source, r.source_record_id).join(store.raw_records, r.id == m.raw_id)
            .where(m.initiative_id.in_(sa.select(chosen.c.id))).order_by(m.initiative_id, r.source)):
        out.setdefault(initiative, []).append(f"{source}: {record}")
    return {k: "; ".join(v) for k, v in out.items()}


def held_sheet(conn: Connection, labels: dict[str, Any], checks: dict[str, str], fields: dict[str, str]) -> SheetPlan:
    """Rows the syncs held back, by source, column and check (in words), and per source."""
    from sangkien.pipeline.quarantine import groups

    q, r = store.quarantine, store.raw_records
    held = (sa.select(q.c.source, sa.func.count(sa.distinct(q.c.raw_id)), sa.func.count())
            .join(r, r.c.id == q.c.raw_id).where(r.c.outcome == "quarantined")
            .group_by(q.c.source).order_by(q.c.source))
    per_source = [[s, int(n), int(f)] for s, n, f in conn.execute(held)]
    detail = [[g["source"], fields.get(g["column"], g["column"]), checks.get(g["check"], g["check"]), g["rows"],
               g["example"], g["first_id"]] for g in groups(conn)]
    cols = labels["held_columns"]
    plan = SheetPlan(labels["sheet_held"])
    plan.parts.append(Block(HELD_KEYS, [cols[k] for k in HELD_KEYS], detail, filtered=True))
    plan.parts.append(Line([labels["held_by_source"]], style="title"))
    plan.parts.append(Block(HELD_SOURCE_KEYS, [cols[k] for k in HELD_SOURCE_KEYS], per_source))
    plan.data_rows = len(detail)
    return plan
