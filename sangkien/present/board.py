"""What the dashboard shows, read from the summary the last roll-up kept (sangkien.pipeline.summary).

Every read here is a handful of indexed queries: a unit and its children's figures
(``unit_figures``, ranked by the stored completion), its trend (``count_history``), the
top of the worklist for the units on screen, and one page of the initiatives behind a
worklist row (``worklist_items`` joined to ``unit_closure``). Nothing is counted here, so
the answer does not grow with the number of records. Callers make sure the kept summary
is current first (``summary.ensure_current``).
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.present.explain import Explainer
from sangkien.reference.phases import get_phases
from sangkien.reference.quotas import BASIS_COLUMN
from sangkien.text.fold import fold

FIGURES = ("records", "initiatives", "valid", "pending", "rejected", "registrants")
SHOWN_KINDS = ("sources", "pushed")  # the page and the workbook: where figures disagree (quota rows: the ranking)
TOP = 20  # worklist rows the page shows for the units on screen
MAX_PAGE = 200


def utc_text(value: dt.datetime | str | None) -> str | None:
    """A stored time as ISO 8601 with its offset (the store keeps UTC; a naive value from it is UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat(timespec="seconds")


def portals(conn: Connection) -> set[str]:
    """Source names that are the national portal (kind portal, or named so)."""
    c = store.connectors.c
    return set(conn.scalars(sa.select(c.name).where(c.kind == "portal"))) | {"portal"}


def phases(conn: Connection, program: str) -> list[dict[str, Any]]:
    """The phases configured for ``program`` (name, dates), then any phase with figures that is missing from them."""
    out: list[dict[str, Any]] = [{"phase": p.phase, "name": p.name, "starts_on": p.starts_on.isoformat(),
                                  "ends_on": p.ends_on.isoformat()} for p in get_phases(conn, program)]
    known = {p["phase"] for p in out}
    f = store.unit_figures.c
    for extra in sorted(set(conn.scalars(sa.select(f.phase).where(f.program == program).distinct())) - known):
        out.append({"phase": extra, "name": str(extra), "starts_on": None, "ends_on": None})
    return out


def current_phase(phase_list: list[dict[str, Any]], today: dt.date) -> int | None:
    """The last phase that has started (the program's own, once it is over)."""
    started = [p["phase"] for p in phase_list if p["starts_on"] and p["starts_on"] <= today.isoformat()]
    return started[-1] if started else (phase_list[0]["phase"] if phase_list else None)


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str


def find_unit(conn: Connection, code: str) -> Unit | None:
    u = store.org_units.c
    row = conn.execute(sa.select(u.code, u.name, u.kind).where(u.code == code)).first()
    return None if row is None else Unit(*row)


def national(conn: Connection) -> Unit | None:
    """The national unit; at a node whose tree has none, its root."""
    u = store.org_units.c
    row = conn.execute(sa.select(u.code, u.name, u.kind).where(u.kind == "national").order_by(u.code)).first()
    if row is None:
        row = conn.execute(sa.select(u.code, u.name, u.kind).where(u.parent_code.is_(None),
                                                                 u.sector_parent_code.is_(None))
                           .order_by(u.code)).first()
    return None if row is None else Unit(*row)


def unit_kinds(conn: Connection) -> dict[str, str]:
    """Every unit's kind, by code."""
    u = store.org_units.c
    return dict(conn.execute(sa.select(u.code, u.kind)).tuples().all())


def _under(code: str) -> sa.Select:
    u = store.org_units.c
    return sa.select(u.code).where(sa.or_(u.parent_code == code, u.sector_parent_code == code))


class Figures:
    """The kept figures of some units in ``program``, per phase, as the page shows them: ``codes``, or the units
    directly under ``under``."""

    def __init__(self, conn: Connection, program: str, codes: Sequence[str], phase_list: list[dict[str, Any]],
                 under: str | None = None):
        f, u = store.unit_figures.c, store.org_units.c
        if under is None:
            query = sa.select(store.unit_figures).where(f.program == program, f.unit_code.in_(list(codes)))
        else:  # from the org tree's parent indexes to the figures' key: no scan of every unit's figures
            query = sa.select(store.unit_figures).join(store.org_units, u.code == f.unit_code).where(
                f.program == program, sa.or_(u.parent_code == under, u.sector_parent_code == under))
        names = [c.name for c in store.unit_figures.columns]
        self.rows: dict[str, dict[int, dict[str, Any]]] = {}
        for values in conn.execute(query).tuples():  # plain tuples: thousands of rows for a sector union
            row = dict(zip(names, values, strict=True))
            self.rows.setdefault(row["unit_code"], {})[row["phase"]] = row
        self.phases = phase_list

    def of(self, code: str, every_basis: bool = True) -> list[dict[str, Any]]:
        """Per phase: counted (on the quota's basis), target, completion and (``every_basis``) the counting
        bases; a unit in a list of children carries what the list shows, not the bases (a sector union has
        thousands of units under it)."""
        out = []
        for p in self.phases:
            row = self.rows.get(code, {}).get(p["phase"])
            shown = {"phase": p["phase"], "basis": (row or {}).get("basis") or "valid",
                     "counted": row["counted"] if row else 0, "target": row["target"] if row else None,
                     "completion": row["completion"] if row else None}
            if every_basis:
                shown.update({name: (row[name] if row else 0) for name in FIGURES})
            out.append(shown)
        return out


def children(conn: Connection, program: str, code: str, phase_list: list[dict[str, Any]],
             phase: int | None) -> list[dict[str, Any]]:
    """The units directly under ``code`` (either parent link), ranked by their kept completion in ``phase`` of
    ``program``."""
    u = store.org_units.c
    rows = conn.execute(sa.select(u.code, u.name, u.kind).where(u.code.in_(_under(code)))).all()
    if not rows:
        return []
    figures = Figures(conn, program, [], phase_list, under=code)
    below: dict[str, int] = {}
    child = store.org_units.alias("child")
    for column in ("parent_code", "sector_parent_code"):  # how many units sit under each child
        for parent, n in conn.execute(
                sa.select(u.code, sa.func.count()).join(child, child.c[column] == u.code)
                .where(sa.or_(u.parent_code == code, u.sector_parent_code == code)).group_by(u.code)):
            below[parent] = below.get(parent, 0) + n
    units = [{"code": r.code, "name": r.name, "kind": r.kind, "children": below.get(r.code, 0),
              "phases": figures.of(r.code, every_basis=False)} for r in rows]

    def key(unit: dict[str, Any]) -> tuple[bool, float, int, str]:
        p = next((f for f in unit["phases"] if f["phase"] == phase), None)
        completion = p["completion"] if p else None
        return (completion is None, -(completion or 0.0), -(p["counted"] if p else 0), unit["code"])

    return sorted(units, key=key)


def path(conn: Connection, code: str) -> list[dict[str, str]]:
    """The unit's ancestors, national first, along the geographic parent (else the sector parent)."""
    u = store.org_units.c
    up = sa.func.coalesce(u.parent_code, u.sector_parent_code)
    found: list[dict[str, str]] = []
    seen = {code}
    parent = conn.execute(sa.select(up).where(u.code == code)).scalar()
    while parent and parent not in seen and len(found) < 16:
        seen.add(parent)
        row = conn.execute(sa.select(u.code, u.name, up).where(u.code == parent)).first()
        if row is None:
            break
        found.insert(0, {"code": row[0], "name": row[1]})
        parent = row[2]
    return found


def history(conn: Connection, code: str, figures: Figures) -> list[dict[str, Any]]:
    """The unit's counts at each roll-up (count_history), counted on each phase's basis."""
    h = store.count_history.c
    bases = {phase: row.get("basis") for phase, row in figures.rows.get(code, {}).items()}
    out = []
    for r in conn.execute(sa.select(h.run_id, h.as_of, h.phase, *(h[name] for name in FIGURES))
                          .where(h.unit_code == code).order_by(h.as_of, h.phase)).mappings():
        column = BASIS_COLUMN.get(bases.get(r["phase"]) or "valid", "valid")
        out.append({"run_id": r["run_id"], "as_of": utc_text(r["as_of"]), "phase": r["phase"], "counted": r[column],
                    **{name: r[name] for name in FIGURES}})
    return out


def sources(conn: Connection) -> list[dict[str, Any]]:
    """Per registered or recorded source: its last sync, how it went, and its last clean sync."""
    s, r = store.sync_run_sources, store.sync_runs
    last = sa.select(s.c.source, sa.func.max(s.c.run_id).label("run_id")).group_by(s.c.source).subquery()
    rows = conn.execute(
        sa.select(s, r.c.started_at, r.c.finished_at)
        .join(last, sa.and_(s.c.source == last.c.source, s.c.run_id == last.c.run_id))
        .join(r, r.c.id == s.c.run_id)).mappings().all()
    ended = sa.func.max(sa.func.coalesce(r.c.finished_at, r.c.started_at))
    clean = dict(conn.execute(sa.select(s.c.source, ended).join(r, r.c.id == s.c.run_id)
                              .where(s.c.error_type.is_(None)).group_by(s.c.source)).tuples().all())
    out = {row["source"]: {
        "source": row["source"], "run_id": row["run_id"],
        "last_sync_at": utc_text(row["finished_at"] or row["started_at"]),
        "status": "failed" if row["error_type"] else "ok", "error_type": row["error_type"], "error": row["error"],
        "received": row["received"], "accepted": row["accepted"], "ineligible": row["ineligible"],
        "quarantined": row["quarantined"], "last_ok_at": utc_text(clean.get(row["source"]))} for row in rows}
    for name in conn.scalars(sa.select(store.connectors.c.name)):
        out.setdefault(name, {"source": name, "run_id": None, "last_sync_at": None, "status": "never",
                              "error_type": None, "error": None, "received": 0, "accepted": 0, "ineligible": 0,
                              "quarantined": 0, "last_ok_at": None})
    return [out[name] for name in sorted(out)]


# --- the worklist -------------------------------------------------------------------------

WORKLIST_FIELDS = ("rank", "kind", "cause", "unit_code", "phase", "source", "items", "expected", "actual", "basis",
                   "target", "standing", "effect", "crosses")


def _worklist_query(unit: str | None, phase: int | None, kinds: Sequence[str], cause: str | None = None,
                    source: str | None = None, below: bool = False) -> sa.Select:
    """Worklist rows of ``unit`` and the units directly under it (``below``: its whole subtree; None: every unit)."""
    w, u = store.worklist.c, store.org_units.c
    query = sa.select(*(w[name] for name in WORKLIST_FIELDS), w.params, u.name.label("unit_name")) \
        .join(store.org_units, u.code == w.unit_code, isouter=True).where(w.kind.in_(list(kinds)))
    if unit is not None:
        c = store.unit_closure.c
        within = sa.select(c.unit_code).where(c.ancestor == unit) if below else \
            sa.union_all(sa.select(sa.literal(unit)), _under(unit))
        query = query.where(w.unit_code.in_(within))  # probes the (unit, phase, rank) index unit by unit
    if phase is not None:
        query = query.where(w.phase == phase)
    if cause:
        query = query.where(w.cause == cause)
    if source is not None:
        query = query.where(w.source == source)
    return query


def worklist_rows(conn: Connection, explainer: Explainer, unit: str | None, phase: int | None,
                  kinds: Sequence[str] = SHOWN_KINDS, *, cause: str | None = None, source: str | None = None,
                  below: bool = False, offset: int = 0, limit: int = TOP) -> dict[str, Any]:
    """One page of the worklist for ``unit`` (and the units under it), ranked, each row with its words."""
    query = _worklist_query(unit, phase, kinds, cause, source, below)
    total = conn.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = []
    for row in conn.execute(query.order_by(store.worklist.c.rank).offset(offset).limit(limit)).mappings():
        plain = {**row, "crosses": bool(row["crosses"]), "params": json.loads(row["params"] or "{}")}
        rows.append(explainer.shown(plain))
    return {"unit": unit, "phase": phase, "total": total, "offset": offset, "limit": limit, "rows": rows}


def top_of_worklist(conn: Connection, explainer: Explainer, unit: str,
                    phase_list: list[dict[str, Any]]) -> dict[str, Any]:
    """The first TOP rows per phase for the unit on screen and the units directly under it.

    The ranks alone come first, off the worklist's (unit, phase, kind, rank) index (a sector union's
    thousands of units have some ten thousand rows), then the TOP rows of each phase in full."""
    w = store.worklist.c
    within = sa.union_all(sa.select(sa.literal(unit)), _under(unit))
    ranks: dict[int, list[int]] = {}
    for rank, phase in conn.execute(sa.select(w.rank, w.phase).where(w.unit_code.in_(within),
                                                                      w.kind.in_(list(SHOWN_KINDS)))):
        ranks.setdefault(phase, []).append(rank)
    top = {phase: sorted(found)[:TOP] for phase, found in ranks.items()}
    pages: dict[str, dict[str, Any]] = {str(p["phase"]): {"total": 0, "rows": []} for p in phase_list}
    chosen = [rank for found in top.values() for rank in found]
    rows = conn.execute(_worklist_query(None, None, SHOWN_KINDS).where(w.rank.in_(chosen)).order_by(w.rank)
                        ).mappings().all() if chosen else []
    for row in rows:
        page = pages.setdefault(str(row["phase"]), {"total": 0, "rows": []})
        page["total"] = len(ranks[row["phase"]])
        page["rows"].append(explainer.shown({**row, "crosses": bool(row["crosses"]),
                                             "params": json.loads(row["params"] or "{}")}))
    return {"unit": unit, "limit": TOP, "phases": pages}


@dataclass(frozen=True)
class ItemFilter:
    """Which initiatives behind a worklist row to list: by status, by unit code, by words of the title."""

    status: str | None = None
    unit: str | None = None
    text: str | None = None

    @property
    def any(self) -> bool:
        return bool(self.status or self.unit or self.text)


def items(conn: Connection, unit: str, phase: int, kind: str, cause: str, source: str, shown: ItemFilter,
          offset: int = 0, limit: int = 50) -> dict[str, Any]:
    """One page of the initiatives behind the worklist row (unit, phase, kind, cause, source), in unit and id
    order, with their titles, units and the records that hold them. Unfiltered, ``total`` is the row's count;
    filtered, there is no total (it would mean reading every match), only ``more``: whether a next page has any.
    """
    # The closure drives (each unit below ``unit``, in code order) and the items' index follows (each unit's
    # items in id order), so a page comes without sorting the hundreds of thousands of a national row. CROSS
    # JOIN keeps that order on SQLite (whose planner would otherwise start from the items and sort them all).
    where = ["c.ancestor = :unit", "i.unit_code = c.unit_code", "i.kind = :kind", "i.cause = :cause",
             "i.source = :source", "i.phase = :phase"]
    params: dict[str, Any] = {"unit": unit, "kind": kind, "cause": cause, "source": source, "phase": phase,
                              "offset": offset, "limit": limit + 1}
    if shown.status:
        where.append("i.status = :status")
        params["status"] = shown.status
    if shown.unit:
        where.append("c.unit_code = :in_unit")
        params["in_unit"] = shown.unit
    if shown.text:  # words of the title, compared without diacritics or case (records keep the folded title)
        where.append("EXISTS (SELECT 1 FROM initiative_members m JOIN records r ON r.raw_id = m.raw_id "
                     "WHERE m.initiative_id = i.initiative_id AND r.title_folded LIKE :words)")
        params["words"] = f"%{fold(shown.text)}%"
    query = sa.text("SELECT i.initiative_id, i.unit_code, i.status FROM unit_closure c CROSS JOIN worklist_items i "
                    f"WHERE {' AND '.join(where)} ORDER BY c.unit_code, i.initiative_id LIMIT :limit OFFSET :offset")
    found = conn.execute(query, params).all()
    page = [{"initiative_id": r[0], "unit_code": r[1], "status": r[2]} for r in found[:limit]]
    ids = [r["initiative_id"] for r in page]
    n, o = store.initiatives.c, store.org_units.c
    titles = dict(conn.execute(sa.select(n.id, n.title).where(n.id.in_(ids))).tuples().all()) if ids else {}
    names = dict(conn.execute(sa.select(o.code, o.name).where(o.code.in_({r["unit_code"] for r in page})))
                 .tuples().all()) if page else {}
    held = _held_by(conn, ids)
    for r in page:
        r.update(title=titles.get(r["initiative_id"]), unit_name=names.get(r["unit_code"]),
                 held_by=held.get(r["initiative_id"], []))
    total = None
    if not shown.any:
        w = store.worklist.c
        total = conn.scalar(sa.select(w["items"]).where(w.unit_code == unit, w.phase == phase, w.kind == kind,
                                                        w.cause == cause, w.source == source)) or 0
    return {"total": total, "more": len(found) > limit, "offset": offset, "limit": limit, "rows": page}


def _held_by(conn: Connection, ids: list[int]) -> dict[int, list[dict[str, str]]]:
    """Per initiative: the source records that hold it (source, record id)."""
    if not ids:
        return {}
    m, r = store.initiative_members.c, store.raw_records.c
    out: dict[int, list[dict[str, str]]] = {}
    for initiative, source, record in conn.execute(
            sa.select(m.initiative_id, r.source, r.source_record_id).join(store.raw_records, r.id == m.raw_id)
            .where(m.initiative_id.in_(ids)).order_by(m.initiative_id, r.source, r.source_record_id)):
        out.setdefault(initiative, []).append({"source": source, "record": record})
    return out


def targets(conn: Connection, program: str, code: str) -> list[dict[str, Any]]:
    """Every target of the unit in ``program`` as kept (each assigner's, each basis, the shares included),
    the one assigned from above first: phase, assigned_by (and its name), basis, target, counted, completion."""
    t, u = store.unit_targets.c, store.org_units.c
    rows = conn.execute(sa.select(t.phase, t.assigned_by, u.name, t.basis, t.target, t.counted, t.completion)
                        .join(store.org_units, u.code == t.assigned_by, isouter=True)
                        .where(t.program == program, t.unit_code == code)
                        .order_by(t.phase, t.assigned_by == code, t.assigned_by, t.basis)).all()
    return [{"phase": r.phase, "assigned_by": r.assigned_by, "assigned_by_name": r.name, "self_set": r.assigned_by
             == code, "basis": r.basis, "target": r.target, "counted": r.counted, "completion": r.completion}
            for r in rows]


def clusters_around(conn: Connection, program: str, code: str) -> list[dict[str, Any]]:
    """The competition clusters the unit or the units directly under it belong to, each with its whole-phase
    ranks in ``program`` as kept: code, name, phase, and units (code, name, rank, of, target, valid,
    completion), best first. Empty when no clusters are loaded."""
    r, u = store.cluster_ranks.c, store.org_units.c
    near = sa.union(sa.select(sa.literal(code)), _under(code))
    codes = sa.select(r.cluster_code).where(r.program == program, r.unit_code.in_(near), r.quarter == "").distinct()
    rows = conn.execute(sa.select(r.cluster_code, r.cluster_name, r.phase, r.unit_code, u.name, r.rank, r.of,
                                  r.target, r.valid, r.completion)
                        .join(store.org_units, u.code == r.unit_code, isouter=True)
                        .where(r.program == program, r.cluster_code.in_(codes), r.quarter == "")
                        .order_by(r.cluster_code, r.phase, r.rank, r.unit_code)).all()
    out: list[dict[str, Any]] = []
    for row in rows:
        if not out or (out[-1]["code"], out[-1]["phase"]) != (row.cluster_code, row.phase):
            out.append({"code": row.cluster_code, "name": row.cluster_name, "phase": row.phase, "units": []})
        out[-1]["units"].append({"code": row.unit_code, "name": row.name, "rank": row.rank, "of": row.of,
                                 "target": row.target, "valid": row.valid, "completion": row.completion})
    return out
