"""The dashboard: one page for the national office and the JSON it renders.

``router`` is included by ``sangkien serve`` (``app.include_router(dashboard.router)``);
the app sets ``app.state.engine``. Routes:

* ``GET /`` the page (Vietnamese labels; ``?lang=en`` for English);
* ``GET /static/{name}`` its stylesheet and script, served from this package: no CDN;
* ``GET /api/v1/dashboard`` the national figures and the units directly under the
  national unit, ranked by completion, with the trend, the sources and the discrepancies;
* ``GET /api/v1/dashboard/units/{code}`` one unit and its children (the drill-down).

Per-unit figures come from ``report.report_rows`` (one pass per request, filtered
here), so the page and ``sangkien report`` always show the same numbers. The page
asks for the top level only and fetches a unit's children when it is opened, which
keeps a request small on the full national tree.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import threading
import weakref
from pathlib import Path
from string import Template
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy.engine import Connection, Engine

from sangkien import store
from sangkien.pipeline.reconcile import discrepancies
from sangkien.present.report import report_rows
from sangkien.reference.phases import get_phases
from sangkien.reference.quotas import BASIS_COLUMN

STATIC_DIR = Path(__file__).parent / "static"
ASSETS = {"dashboard.css": "text/css; charset=utf-8", "dashboard.js": "text/javascript; charset=utf-8"}
# The page loads nothing but its own assets and JSON: the browser enforces it too.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
FIGURE_COLUMNS = ("records", "initiatives", "valid", "pending", "rejected", "registrants")
LANGUAGES = ("vi", "en")

router = APIRouter()


def get_engine(request: Request) -> Engine:
    """The store's engine, set by the serving app as ``app.state.engine``."""
    return request.app.state.engine


StoreEngine = Annotated[Engine, Depends(get_engine)]
RankPhase = Annotated[int | None, Query(description="rank the units by this phase's completion (default: the current)")]


def _discrepancies(conn: Connection) -> list[dict[str, Any]]:
    """Rows with kind, unit_code, unit_name, phase, measure, expected, actual, difference, cause, detail."""
    return discrepancies(conn, kinds=("sources", "pushed"))[:500]


# --- the page ---------------------------------------------------------------------------

def _labels(lang: str) -> dict[str, Any]:
    return json.loads((STATIC_DIR / f"labels.{lang}.json").read_text(encoding="utf-8"))


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(lang: str = "vi") -> HTMLResponse:
    """The page; its text comes from static/labels.<lang>.json, escaped into the HTML."""
    lang = lang if lang in LANGUAGES else "vi"
    labels = _labels(lang)
    # json.dumps output inside <script> must not be able to close the element
    embedded = json.dumps(labels, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e") \
        .replace("&", "\\u0026")
    page = Template((STATIC_DIR / "dashboard.html").read_text(encoding="utf-8")).substitute(
        {key: html.escape(str(value)) for key, value in labels.items() if isinstance(value, str)},
        lang=lang, other_lang="en" if lang == "vi" else "vi", labels_json=embedded)
    return HTMLResponse(page, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY,
                                       "Cache-Control": "no-cache"})


@router.get("/static/{name}", include_in_schema=False)
def dashboard_asset(name: str) -> FileResponse:
    """One of the page's own assets; nothing else under static/ is served."""
    if name not in ASSETS:
        raise HTTPException(status_code=404, detail=f"no asset {name!r}")
    return FileResponse(STATIC_DIR / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})


# --- the figures ------------------------------------------------------------------------

def _utc_text(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive datetimes; the store writes UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat(timespec="seconds")


class _Figures:
    """One ``report_rows`` pass, indexed by unit and phase, with each quota's basis and the phases."""

    def __init__(self, conn: Connection):
        self.as_of, rows = report_rows(conn)
        self.rows: dict[str, dict[int, dict[str, Any]]] = {}
        for row in rows:
            self.rows.setdefault(row["unit_code"], {})[row["phase"]] = row
        q = store.quotas
        self.bases = {(code, phase): basis for code, phase, basis in
                      conn.execute(sa.select(q.c.unit_code, q.c.phase, q.c.basis))}
        self.phases: list[dict[str, Any]] = [{"phase": p.phase, "name": p.name, "starts_on": p.starts_on.isoformat(),
                        "ends_on": p.ends_on.isoformat()} for p in get_phases(conn)]
        known = {p["phase"] for p in self.phases}
        for extra in sorted({ph for per in self.rows.values() for ph in per} - known):
            self.phases.append({"phase": extra, "name": str(extra), "starts_on": None, "ends_on": None})

    def current_phase(self, today: dt.date) -> int | None:
        """The last phase that has started (the program's own, once it is over)."""
        started = [p["phase"] for p in self.phases if p["starts_on"] and p["starts_on"] <= today.isoformat()]
        return started[-1] if started else (self.phases[0]["phase"] if self.phases else None)

    def phase_figures(self, code: str) -> list[dict[str, Any]]:
        """Per phase: counted (on the quota's basis), target, completion and the counting bases."""
        out = []
        for p in self.phases:
            row = self.rows.get(code, {}).get(p["phase"])
            basis = self.bases.get((code, p["phase"]), "valid")
            figures = {name: (row[name] if row else 0) for name in FIGURE_COLUMNS}
            out.append({"phase": p["phase"], "basis": basis, "counted": figures[BASIS_COLUMN.get(basis, "valid")],
                        "target": row["target"] if row else None,
                        "completion": row["completion"] if row else None, **figures})
        return out

    def unit(self, code: str, name: str, kind: str, children: int) -> dict[str, Any]:
        return {"code": code, "name": name, "kind": kind, "children": children, "phases": self.phase_figures(code)}


# report_rows reads every unit's counts (~50,000 rows on the national tree: seconds on a
# busy machine), so its result is kept per engine until what it reads changes.
_figures_cache: weakref.WeakKeyDictionary[Engine, tuple[tuple[Any, ...], _Figures]] = weakref.WeakKeyDictionary()
_figures_lock = threading.Lock()


def _fingerprint(conn: Connection) -> tuple[Any, ...]:
    """Cheap aggregates that change whenever the inputs of ``report_rows`` change (a roll-up
    rewrites every count with a new as_of; a quota, unit or phase load changes the sums)."""
    c, q, u, p = store.unit_counts, store.quotas, store.org_units, store.phases
    f = sa.func
    return tuple(tuple(conn.execute(query).one()) for query in (
        sa.select(f.count(), f.max(c.c.as_of), f.max(c.c.run_id), f.sum(c.c.valid), f.sum(c.c.records),
                  f.sum(c.c.registrants)),
        sa.select(f.count(), f.sum(q.c.target), f.sum(q.c.target * q.c.phase), f.sum(f.length(q.c.basis) * q.c.target),
                  f.sum(f.length(q.c.unit_code) * q.c.target)),
        sa.select(f.count(), f.sum(f.length(u.c.name)), f.sum(f.length(u.c.kind)), f.max(u.c.code)),
        sa.select(f.count(), f.sum(p.c.phase), f.max(p.c.starts_on), f.max(p.c.ends_on), f.sum(f.length(p.c.name)))))


def _figures(engine: Engine, conn: Connection) -> _Figures:
    """The figures for the store as it is now: from the cache when nothing they depend on changed."""
    key = _fingerprint(conn)
    with _figures_lock:  # one report_rows at a time: a second viewer waits for the first's result
        cached = _figures_cache.get(engine)
        if cached is None or cached[0] != key:
            cached = (key, _Figures(conn))
            _figures_cache[engine] = cached
        return cached[1]


def warm_cache(engine: Engine) -> None:
    """Compute the figures now (e.g. when the server starts), so the first viewer does not wait."""
    with engine.connect() as conn:
        _figures(engine, conn)


def _ranked(units: list[dict[str, Any]], phase: int | None) -> list[dict[str, Any]]:
    """Highest completion first in ``phase``; units without a target last, by count."""
    def key(u: dict[str, Any]) -> tuple[int, float, int, str]:
        p = next((f for f in u["phases"] if f["phase"] == phase), None)
        completion = p["completion"] if p else None
        return (completion is None, -(completion or 0.0), -(p["counted"] if p else 0), u["code"])
    return sorted(units, key=key)


def _child_counts(conn: Connection, codes: list[str]) -> dict[str, int]:
    """How many units sit under each of ``codes``, through either parent link."""
    u = store.org_units
    counts: dict[str, int] = {}
    for column in (u.c.parent_code, u.c.sector_parent_code):
        for code, n in conn.execute(sa.select(column, sa.func.count()).where(column.in_(codes)).group_by(column)):
            counts[code] = counts.get(code, 0) + n
    return counts


def _children(conn: Connection, figures: _Figures, code: str, phase: int | None) -> list[dict[str, Any]]:
    u = store.org_units
    rows = conn.execute(sa.select(u.c.code, u.c.name, u.c.kind)
                        .where(sa.or_(u.c.parent_code == code, u.c.sector_parent_code == code))).all()
    counts = _child_counts(conn, [r.code for r in rows]) if rows else {}
    return _ranked([figures.unit(r.code, r.name, r.kind, counts.get(r.code, 0)) for r in rows], phase)


def _path(conn: Connection, code: str) -> list[dict[str, str]]:
    """The unit's ancestors, national first, along the geographic parent (else the sector parent)."""
    u = store.org_units
    path: list[dict[str, str]] = []
    seen = {code}
    parent = conn.execute(sa.select(sa.func.coalesce(u.c.parent_code, u.c.sector_parent_code))
                          .where(u.c.code == code)).scalar()
    while parent and parent not in seen and len(path) < 16:
        seen.add(parent)
        row = conn.execute(sa.select(u.c.code, u.c.name, sa.func.coalesce(u.c.parent_code, u.c.sector_parent_code))
                           .where(u.c.code == parent)).first()
        if row is None:
            break
        path.insert(0, {"code": row[0], "name": row[1]})
        parent = row[2]
    return path


def _history(conn: Connection, code: str, figures: _Figures) -> list[dict[str, Any]]:
    """The unit's counts at each roll-up (count_history), counted on each phase's basis."""
    h = store.count_history
    rows = conn.execute(sa.select(h.c.run_id, h.c.as_of, h.c.phase, *(h.c[name] for name in FIGURE_COLUMNS))
                        .where(h.c.unit_code == code).order_by(h.c.as_of, h.c.phase)).mappings()
    out = []
    for r in rows:
        basis = figures.bases.get((code, r["phase"]), "valid")
        out.append({"run_id": r["run_id"], "as_of": _utc_text(r["as_of"]), "phase": r["phase"],
                    "counted": r[BASIS_COLUMN.get(basis, "valid")], **{name: r[name] for name in FIGURE_COLUMNS}})
    return out


def _sources(conn: Connection) -> list[dict[str, Any]]:
    """Per registered or recorded source: its last sync, how it went, and its last clean sync."""
    s, r = store.sync_run_sources, store.sync_runs
    last = sa.select(s.c.source, sa.func.max(s.c.run_id).label("run_id")).group_by(s.c.source).subquery()
    rows = conn.execute(
        sa.select(s, r.c.started_at, r.c.finished_at, r.c.status.label("run_status"))
        .join(last, sa.and_(s.c.source == last.c.source, s.c.run_id == last.c.run_id))
        .join(r, r.c.id == s.c.run_id)).mappings().all()
    ended = sa.func.max(sa.func.coalesce(r.c.finished_at, r.c.started_at))
    clean: dict[str, dt.datetime] = dict(conn.execute(
        sa.select(s.c.source, ended).join(r, r.c.id == s.c.run_id).where(s.c.error_type.is_(None))
        .group_by(s.c.source)).tuples().all())
    out = {row["source"]: {
        "source": row["source"], "run_id": row["run_id"],
        "last_sync_at": _utc_text(row["finished_at"] or row["started_at"]),
        "status": "failed" if row["error_type"] else "ok", "error_type": row["error_type"], "error": row["error"],
        "received": row["received"], "accepted": row["accepted"], "ineligible": row["ineligible"],
        "quarantined": row["quarantined"], "last_ok_at": _utc_text(clean.get(row["source"]))} for row in rows}
    for name in conn.scalars(sa.select(store.connectors.c.name)):
        out.setdefault(name, {"source": name, "run_id": None, "last_sync_at": None, "status": "never",
                              "error_type": None, "error": None, "received": 0, "accepted": 0, "ineligible": 0,
                              "quarantined": 0, "last_ok_at": None})
    return [out[name] for name in sorted(out)]


def _national(conn: Connection) -> tuple[str, str, str] | None:
    u = store.org_units
    row = conn.execute(sa.select(u.c.code, u.c.name, u.c.kind).where(u.c.kind == "national").order_by(u.c.code)).first()
    if row is None:  # a node whose tree has no national unit: its root
        row = conn.execute(sa.select(u.c.code, u.c.name, u.c.kind).where(u.c.parent_code.is_(None),
                                                                         u.c.sector_parent_code.is_(None))
                           .order_by(u.c.code)).first()
    return None if row is None else (row[0], row[1], row[2])


def _view(engine: Engine, conn: Connection, code: str, name: str, kind: str, phase: int | None) -> dict[str, Any]:
    """One unit, its children ranked, its trend: what both endpoints answer."""
    figures = _figures(engine, conn)
    phase = phase if phase is not None else figures.current_phase(dt.date.today())
    children = _children(conn, figures, code, phase)
    return {"as_of": figures.as_of, "phases": figures.phases, "rank_phase": phase,
            "unit": figures.unit(code, name, kind, len(children)), "path": _path(conn, code),
            "children": children, "history": _history(conn, code, figures)}


@router.get("/api/v1/dashboard")
def dashboard_summary(engine: StoreEngine, phase: RankPhase = None) -> dict[str, Any]:
    """The national unit, the units directly under it ranked, the trend, sources and discrepancies."""
    with engine.connect() as conn:
        national = _national(conn)
        if national is None:
            figures = _figures(engine, conn)
            view: dict[str, Any] = {"as_of": figures.as_of, "phases": figures.phases, "rank_phase": phase,
                                    "unit": None, "path": [], "children": [], "history": []}
        else:
            view = _view(engine, conn, *national, phase)
        view["sources"] = _sources(conn)
        view["discrepancies"] = _discrepancies(conn)
    return view


@router.get("/api/v1/dashboard/units/{code}")
def dashboard_unit(code: str, engine: StoreEngine, phase: RankPhase = None) -> dict[str, Any]:
    """One unit's figures, its children ranked by completion (the drill-down), and its trend."""
    u = store.org_units
    with engine.connect() as conn:
        row = conn.execute(sa.select(u.c.code, u.c.name, u.c.kind).where(u.c.code == code)).first()
        if row is None:
            raise HTTPException(status_code=404, detail=f"unknown unit {code!r}; unit codes are in the org tree "
                                                        "(`sangkien orgs list`)")
        return _view(engine, conn, row[0], row[1], row[2], phase)
