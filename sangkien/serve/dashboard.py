"""The dashboard: one page for the national office and the JSON it renders.

``router`` is included by ``sangkien serve`` (``app.include_router(dashboard.router)``);
the app sets ``app.state.engine``. Routes:

* ``GET /`` the page (Vietnamese; ``?lang=en`` for English), every word from the catalogue
  (sangkien.present.catalogue);
* ``GET /static/{name}`` its stylesheet and script, served from this package: no CDN;
* ``GET /api/v1/dashboard`` the national figures, the units directly under the national unit
  ranked by completion, the trend, the sources' last syncs, and the top of the worklist
  (where the sources disagree) for those units;
* ``GET /api/v1/dashboard/units/{code}`` the same for one unit and its children (the drill-down);
  both take ``?program=CODE`` (default: the node's default program; an unknown code is a 404 naming the
  known ones): another program's figures, targets and cluster ranks are worked out on its first request
  and kept until the next roll-up (summary.ensure_program); its trend and worklist are empty (the nightly
  history and the worklist are the default program's), and the answer says so (``program.default``);
* ``GET /api/v1/worklist`` the worklist, paged and filtered (unit, phase, kind, cause, source);
* ``GET /api/v1/worklist/initiatives`` one page of the initiatives behind a worklist row,
  filtered by status, unit or words of the title.

Everything is read from what the last roll-up kept (sangkien.pipeline.summary), through
sangkien.present.board: a few indexed queries per request, whatever the number of records.
When the kept summary is missing or behind the counts (a load of the org tree or quotas
since), it is worked out again before the answer.
"""
from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from string import Template
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from sqlalchemy.engine import Connection, Engine

from sangkien.pipeline import summary
from sangkien.present import board, catalogue
from sangkien.present.explain import Explainer
from sangkien.reference.programs import Program, list_programs, unknown_program

STATIC_DIR = Path(__file__).parent / "static"
ASSETS = {"dashboard.css": "text/css; charset=utf-8", "dashboard.js": "text/javascript; charset=utf-8"}
# The page loads nothing but its own assets and JSON: the browser enforces it too.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
# what the script shows besides the page's labels
PAGE_GROUPS = ("kinds", "bases", "statuses", "sync_statuses", "error_types")

router = APIRouter()


def get_engine(request: Request) -> Engine:
    """The store's engine, set by the serving app as ``app.state.engine``."""
    return request.app.state.engine


StoreEngine = Annotated[Engine, Depends(get_engine)]
RankPhase = Annotated[int | None, Query(ge=1, le=99,
                                        description="rank the units by this phase's completion (default: the current)")]
Lang = Annotated[str, Query(pattern="^(vi|en)$", description="the language of the words in the rows")]
ProgramCode = Annotated[str | None, Query(max_length=64, description="the program whose figures to show "
                                                                    "(default: the node's default program)")]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


def _kept(engine: Engine) -> Connection:
    """A connection to read the kept summary from, refreshed first when it is missing or behind."""
    summary.ensure_current(engine)
    return engine.connect()


def _program(engine: Engine, code: str | None) -> tuple[Program, list[Program]]:
    """The program asked for (the default one when None) and every program; its figures kept and current.
    An unknown code is a 404 naming the known programs (as an unknown unit is a 404)."""
    code = code or None  # ?program= left empty: the default one
    with engine.connect() as conn:
        known = list_programs(conn)
    chosen = next((p for p in known if p.code == code or (code is None and p.is_default)), None)
    if chosen is None:
        raise HTTPException(status_code=404, detail=str(unknown_program(str(code), [p.code for p in known])))
    summary.ensure_program(engine, chosen.code)
    return chosen, known


def _programs(chosen: Program, known: list[Program]) -> dict[str, Any]:
    """What the page's program switch needs: the program shown and every program the store holds."""
    return {"program": {"code": chosen.code, "name": chosen.name, "default": chosen.is_default},
            "programs": [{"code": p.code, "name": p.name, "default": p.is_default} for p in known]}


# --- the page ---------------------------------------------------------------------------

def page_labels(lang: str) -> dict[str, Any]:
    """What the page's script needs: the page's labels and the groups of names it shows."""
    texts = catalogue.texts(lang)
    return {**texts["page"], "lang": lang, "locale": texts["locale"], **{g: texts[g] for g in PAGE_GROUPS}}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(lang: str = "vi", program: str | None = None) -> HTMLResponse:
    """The page; its words come from the catalogue, escaped into the HTML. ``program``: kept on the language link
    (the script reads it from the address and asks for that program's figures)."""
    lang = lang if lang in catalogue.LANGUAGES else "vi"
    labels = page_labels(lang)
    # json.dumps output inside <script> must not be able to close the element
    embedded = json.dumps(labels, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e") \
        .replace("&", "\\u0026")
    page = Template((STATIC_DIR / "dashboard.html").read_text(encoding="utf-8")).substitute(
        {key: html.escape(str(value)) for key, value in labels.items() if isinstance(value, str)},
        lang=lang, other_lang="en" if lang == "vi" else "vi", labels_json=embedded,
        program_query=html.escape(f"&program={quote(program[:64])}") if program else "")
    return HTMLResponse(page, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY,
                                       "Cache-Control": "no-cache"})


@router.get("/static/{name}", include_in_schema=False)
def dashboard_asset(name: str) -> FileResponse:
    """One of the page's own assets; nothing else under static/ is served."""
    if name not in ASSETS:
        raise HTTPException(status_code=404, detail=f"no asset {name!r}")
    return FileResponse(STATIC_DIR / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})


# --- the figures ------------------------------------------------------------------------

def warm(engine: Engine) -> None:
    """Work out the kept summary now when it is missing or behind (e.g. when the server starts), then every other
    program's figures (each takes seconds on a national store: its first viewer need not wait for them)."""
    summary.ensure_current(engine)
    with engine.connect() as conn:
        others = [p.code for p in list_programs(conn) if not p.is_default]
    for code in others:
        summary.ensure_program(engine, code)


def _view(conn: Connection, program: Program, unit: board.Unit, phase: int | None, lang: str) -> dict[str, Any]:
    """One unit, its children ranked, its trend, and the top of the worklist for them: what both endpoints answer.
    Another program than the default has no trend or worklist here (both are the default program's)."""
    code = program.code
    phase_list = board.phases(conn, code)
    phase = phase if phase is not None else board.current_phase(phase_list, dt.date.today())
    figures = board.Figures(conn, code, [unit.code], phase_list)
    children = board.children(conn, code, unit.code, phase_list, phase)
    kept = summary.state(conn) or {}
    return {"as_of": board.utc_text(kept.get("counts_as_of")), "phases": phase_list, "rank_phase": phase,
            "unit": {"code": unit.code, "name": unit.name, "kind": unit.kind, "children": len(children),
                     "phases": figures.of(unit.code)},
            "path": board.path(conn, unit.code), "children": children,
            "history": board.history(conn, unit.code, figures) if program.is_default else [],
            "worklist": board.top_of_worklist(conn, Explainer(lang, board.portals(conn)), unit.code, phase_list)
            if program.is_default else None,
            "targets": board.targets(conn, code, unit.code), "clusters": board.clusters_around(conn, code, unit.code)}


def _json(content: dict[str, Any]) -> JSONResponse:
    """Plain JSON as it is: the figures are already str, int, float, bool and None (FastAPI's encoder would walk
    a sector union's thousands of units again)."""
    return JSONResponse(content)


@router.get("/api/v1/dashboard", response_model=None)
def dashboard_summary(engine: StoreEngine, phase: RankPhase = None, lang: Lang = "vi",
                      program: ProgramCode = None) -> JSONResponse:
    """The national unit, the units directly under it ranked, the trend, the sources' syncs, the worklist's top."""
    chosen, known = _program(engine, program)
    with engine.connect() as conn:
        national = board.national(conn)
        if national is None:
            kept = summary.state(conn) or {}
            view: dict[str, Any] = {"as_of": board.utc_text(kept.get("counts_as_of")),
                                    "phases": board.phases(conn, chosen.code), "rank_phase": phase, "unit": None,
                                    "path": [], "children": [], "history": [], "worklist": None, "targets": [],
                                    "clusters": []}
        else:
            view = _view(conn, chosen, national, phase, lang)
        view["sources"] = board.sources(conn)
    return _json({**view, **_programs(chosen, known)})


def _unit_or_404(conn: Connection, code: str) -> board.Unit:
    unit = board.find_unit(conn, code)
    if unit is None:
        raise HTTPException(status_code=404, detail=f"unknown unit {code!r}; unit codes are in the org tree "
                                                    "(`sangkien orgs list`)")
    return unit


@router.get("/api/v1/dashboard/units/{code}", response_model=None)
def dashboard_unit(code: str, engine: StoreEngine, phase: RankPhase = None, lang: Lang = "vi",
                   program: ProgramCode = None) -> JSONResponse:
    """One unit's figures, its children ranked by completion (the drill-down), its trend, its worklist's top."""
    chosen, known = _program(engine, program)
    with engine.connect() as conn:
        return _json({**_view(conn, chosen, _unit_or_404(conn, code), phase, lang), **_programs(chosen, known)})


@router.get("/api/v1/worklist")
def worklist(engine: StoreEngine,
             unit: Annotated[str | None, Query(max_length=64, description="this unit and those directly under it "
                                                                          "(default: every unit)")] = None,
             phase: Annotated[int | None, Query(ge=1, le=99)] = None,
             kind: Annotated[list[Literal["quota", "sources", "pushed"]] | None,
                             Query(description="quota, sources, pushed (default: sources and pushed)")] = None,
             cause: Annotated[str | None, Query(max_length=64)] = None,
             source: Annotated[str | None, Query(max_length=64)] = None,
             below: Annotated[bool, Query(description="the unit's whole subtree, not only the units "
                                                      "directly under it")] = False,
             offset: Offset = 0, limit: Annotated[int, Query(ge=1, le=board.MAX_PAGE)] = board.TOP,
             lang: Lang = "vi") -> dict[str, Any]:
    """The worklist, ranked: one row per unit, phase, cause (and source), with its explanation in ``lang``."""
    with _kept(engine) as conn:
        if unit is not None:
            _unit_or_404(conn, unit)
        return board.worklist_rows(conn, Explainer(lang, board.portals(conn)), unit, phase,
                                   tuple(kind or board.SHOWN_KINDS), cause=cause, source=source, below=below,
                                   offset=offset, limit=limit)


@router.get("/api/v1/worklist/initiatives")
def worklist_initiatives(engine: StoreEngine,
                         unit: Annotated[str, Query(max_length=64)], phase: Annotated[int, Query(ge=1, le=99)],
                         kind: Annotated[str, Query(max_length=16)], cause: Annotated[str, Query(max_length=64)],
                         source: Annotated[str, Query(max_length=64)] = "",
                         status: Annotated[str | None, Query(pattern="^(valid|pending|rejected)$")] = None,
                         in_unit: Annotated[str | None, Query(max_length=64)] = None,
                         q: Annotated[str | None, Query(max_length=200)] = None,
                         offset: Offset = 0, limit: Annotated[int, Query(ge=1, le=board.MAX_PAGE)] = 50,
                         ) -> dict[str, Any]:
    """One page of the initiatives behind the worklist row (unit, phase, kind, cause, source)."""
    with _kept(engine) as conn:
        _unit_or_404(conn, unit)
        return board.items(conn, unit, phase, kind, cause, source,
                           board.ItemFilter(status=status, unit=in_unit or None, text=(q or "").strip() or None),
                           offset, limit)
