"""`sangkien reconcile` output: a terminal table, CSV for a spreadsheet, or JSON with every section.

The discrepancies are the ranked worklist (sangkien.pipeline.worklist), each row with its
explanation and its effect on the target in words (``lang``: en by default, or vi)."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from sangkien.pipeline import reconcile, worklist
from sangkien.present.board import portals
from sangkien.present.explain import Explainer
from sangkien.present.report import csv_text

SECTIONS = ("quotas", "sources", "all")
TABLE_MISSING = 50  # initiatives listed in the terminal; csv and json list them all
TABLE_WORKLIST = 20  # worklist rows in the terminal
WORKLIST_CSV = (*[c for c in worklist.WORKLIST_COLUMNS if c != "params"], "explanation", "effect_text")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe rows: NaN as None, whole floats as int."""
    rows = []
    for rec in frame.astype(object).where(frame.notna(), None).to_dict("records"):
        for key, value in rec.items():
            if isinstance(value, float) and value.is_integer() and key not in ("completion", "projected_completion"):
                rec[key] = int(value)
        rows.append(rec)
    return rows


def _num(value: Any) -> str:
    return "" if value is None or pd.isna(value) else f"{int(value):,}"


def _pct(value: Any) -> str:
    return "" if value is None or pd.isna(value) else f"{value * 100:.1f}%"


def _table(headers: tuple[str, ...], lines: Sequence[tuple[str, ...]], numeric: set[int]) -> list[str]:
    widths = [max([len(h)] + [len(line[i]) for line in lines]) for i, h in enumerate(headers)]

    def fmt(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=False)))

    return [fmt(headers), fmt(tuple("-" * w for w in widths))] + [fmt(line) for line in lines] or ["(no rows)"]


def _quota_table(quotas: pd.DataFrame, flags: pd.DataFrame) -> list[str]:
    out = ["Against quotas"]
    lines: list[tuple[str, ...]] = [
        (r.unit_code, str(r.unit_name or "")[:34], str(r.phase), r.basis, _num(r.target), _num(r.counted),
         _pct(r.completion), _num(r.shortfall), _num(r.projected), _pct(r.projected_completion), r.note)
        for r in quotas.itertuples()]
    out += _table(("unit", "name", "ph", "basis", "target", "counted", "done", "short", "projected", "proj. done",
                   "note"), lines, {2, 4, 5, 6, 7, 8, 9}) if lines else ["(no quotas in scope)"]
    if not flags.empty:
        out += ["", "Targets whose children's targets do not add up (flagged, not changed)"]
        lines = [(r.unit_code, str(r.phase), r.basis, _num(r.target), _num(r.children_target), f"{r.difference:+,}",
                  str(r.children_detail)) for r in flags.itertuples()]
        out += _table(("unit", "ph", "basis", "target", "children", "difference", "children's targets"), lines,
                      {1, 3, 4, 5})
    return out


def _sources_table(scope: reconcile.Scope, coverage: reconcile.SourceCoverage, missing: pd.DataFrame) -> list[str]:
    shown = {scope.unit} if scope.unit else set(scope.subtree) - set(scope.edges["code"])
    shown |= set(scope.edges.loc[scope.edges["up"].isin(shown), "code"])  # and the units right below
    cov = coverage.coverage[coverage.coverage["unit_code"].isin(shown)]
    out = ["Between sources (per unit, its whole subtree; held / expected, lacking)"]
    if cov.empty:
        out.append("(no initiatives in scope)")
    else:
        wide = cov.assign(cell=cov["held"].map("{:,}".format) + "/" + cov["expected"].map("{:,}".format)
                          + cov["lacking"].map(lambda n: f" (-{n:,})" if n else ""))
        sources = sorted(wide["source"].unique())
        grid = wide.pivot_table(index=["unit_code", "phase", "initiatives", "in_two_or_more"], columns="source",
                                values="cell", aggfunc="first", sort=False).reset_index()
        lines = [(str(r["unit_code"]), str(r["phase"]), _num(r["initiatives"]), _num(r["in_two_or_more"]),
                  *(str(r.get(s)) if isinstance(r.get(s), str) else "" for s in sources)) for _, r in grid.iterrows()]
        out += _table(("unit", "ph", "initiatives", "in 2+", *sources), lines, set(range(1, 4 + len(sources))))
    lacking = len(coverage.lacking)
    out += ["", f"Initiatives a source lacks ({lacking:,}"
                + (f"; first {TABLE_MISSING}, --section sources --format csv for all)" if lacking > TABLE_MISSING
                   else ")")]
    lines = [(r.lacking_source, str(r.initiative_id), str(r.title)[:48], r.unit_code, str(r.phase), str(r.status),
              str(r.held_by)) for r in missing.head(TABLE_MISSING).itertuples()]
    out += _table(("lacks", "id", "title", "unit", "ph", "status", "held by"), lines, {1, 4}) if lines else ["(none)"]
    return out


def _explained(rows: list[dict[str, Any]], explainer: Explainer) -> list[dict[str, Any]]:
    return [explainer.shown(r) for r in rows]


def _worklist_table(rows: list[dict[str, Any]], total: int) -> list[str]:
    out = [f"Discrepancies, ranked by effect on the target ({total:,}"
           + (f"; first {TABLE_WORKLIST}, --format csv for all)" if total > TABLE_WORKLIST else ")")]
    lines = [(str(r["rank"]), r["unit_code"], str(r["phase"]), r["kind"], r["cause"], r["source"] or "",
              _num(r["items"]), r["explanation"][:90], r["effect_text"][:60]) for r in rows[:TABLE_WORKLIST]]
    return out + (_table(("#", "unit", "ph", "kind", "cause", "source", "items", "explanation", "on the target"),
                         lines, {0, 2, 6}) if lines else ["(none)"])


def render_reconciliation(conn: Connection, fmt: str = "table", section: str = "all", unit: str | None = None,
                          phase: int | None = None, as_of: dt.date | None = None, lang: str = "en",
                          program: str | None = None) -> str:
    """The reconciliation in ``fmt``: table, csv (quotas rows, lacking initiatives, or the ranked discrepancies
    for ``all`` and ``pushes``), or json (every section asked for). A program other than the default one is
    counted from the initiatives' dates (its phases, its window, its children's pushes)."""
    scope = reconcile.open_scope(conn, unit, phase, as_of, program)
    explainer = Explainer(lang, portals(conn))
    if fmt == "csv":  # UTF-8 with a BOM, as every CSV people open
        if section == "quotas":
            return csv_text(reconcile.QUOTA_COLUMNS, _records(reconcile.quota_rows(conn, scope)))
        if section == "sources":
            return csv_text(reconcile.MISSING_COLUMNS, _records(reconcile.missing(conn, scope)))
        kinds = ("pushed",) if section == "pushes" else None
        rows = _explained(worklist.records(worklist.build(conn, scope, kinds).rows), explainer)
        return csv_text(WORKLIST_CSV, rows)
    parts: dict[str, Any] = {"as_of": scope.as_of.isoformat(), "program": scope.program, "unit": unit,
                             "phase": phase}
    quotas = flags = coverage = None
    if section in ("quotas", "all"):
        quotas, flags = reconcile.quota_rows(conn, scope), reconcile.target_flags(conn, scope)
    if section in ("sources", "all"):
        coverage = reconcile.source_coverage(conn, scope)
    kinds = {"quotas": ("quota",), "sources": ("sources",), "pushes": ("pushed",)}.get(section)
    every = worklist.build(conn, scope, kinds).rows
    # the terminal shows the first rows: only those are put in words
    ranked = _explained(worklist.records(every if fmt == "json" else every.head(TABLE_WORKLIST)), explainer)
    if fmt == "json":
        if quotas is not None and flags is not None:
            parts["quotas"] = _records(quotas)
            parts["target_flags"] = _records(flags)
        if coverage is not None:
            parts["sources"] = {"coverage": _records(coverage.coverage[list(reconcile.COVERAGE_COLUMNS)]),
                                "missing": _records(reconcile.missing(conn, scope))}
        parts["discrepancies"] = ranked
        return json.dumps(parts, ensure_ascii=False, indent=1)
    where = f"unit {unit} and below" if unit else "every unit"
    out = [f"Reconciliation as of {scope.as_of} ({where}{f', phase {phase}' if phase else ''}, program "
           f"{scope.program})", ""]
    if quotas is not None and flags is not None:
        out += [*_quota_table(quotas, flags), ""]
    if coverage is not None:
        out += [*_sources_table(scope, coverage, reconcile.missing(conn, scope, TABLE_MISSING)), ""]
    out += _worklist_table(ranked, len(every))
    return "\n".join(out).rstrip()
