"""The national office's Excel workbook: an overview, a sheet per phase, discrepancies, quarantine.

Figures come from the same place as `sangkien report` (``report_rows``) so the workbook
and the JSON report agree. Numbers are written as numbers, dates as dates, every text
cell through ``safe_cell``; sheets are streamed (openpyxl write-only), so the national
tree (~25,000 units x 2 phases) takes seconds.
"""
from __future__ import annotations

import datetime as dt
import math
import os
from collections import defaultdict
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.errors import UserError
from sangkien.reference import get_phases
from sangkien.report import report_rows, safe_cell
from sangkien.workbook_labels import LABELS

DISCREPANCY_KEYS = ("kind", "unit_code", "unit_name", "phase", "measure", "expected", "actual", "difference",
                    "cause", "detail")
PHASE_KEYS = ("unit_code", "unit_name", "kind", "parent_code", "records", "initiatives", "valid", "pending",
              "rejected", "ineligible", "registrants", "benefit_vnd", "target", "basis", "completion", "rank",
              "group_size")
NATIONAL_KEYS = ("phase", "phase_name", "starts_on", "ends_on", "records", "initiatives", "valid", "pending",
                 "rejected", "registrants", "target", "completion")
CHILD_MEASURES = ("records", "initiatives", "valid", "target", "completion")
QUARANTINE_KEYS = ("source", "column", "check", "rows", "example", "first_id")
QUARANTINE_SOURCE_KEYS = ("source", "held", "failures")
VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")  # no daylight saving: a fixed offset is exact
MIN_WIDTH, MAX_WIDTH, MAX_HEADER_WIDTH = 6, 60, 24
PERCENT, INTEGER = "0.0%", "#,##0"
DATE_FORMAT = {"vi": "dd/mm/yyyy", "en": "yyyy-mm-dd"}
DATETIME_FORMAT = {"vi": "dd/mm/yyyy hh:mm", "en": "yyyy-mm-dd hh:mm"}
# red at 0 %, amber at 50 %, green from 100 % on: who is behind shows at a glance
COMPLETION_SCALE = dict(start_type="num", start_value=0, start_color="F8696B", mid_type="num", mid_value=0.5,
                        mid_color="FFEB84", end_type="num", end_value=1, end_color="63BE7B")


@dataclass(frozen=True)
class WorkbookSummary:
    """What was written: the file, its sheets in order, and the data rows on each."""

    path: Path
    sheets: list[str]
    rows: dict[str, int]


@dataclass
class _Block:
    """A table on a sheet: column keys (for formats), header labels and rows of values."""

    keys: Sequence[str]
    headers: Sequence[str]
    rows: list[list[Any]]
    filtered: bool = False  # the block the autofilter and the frozen header belong to


@dataclass
class _Line:
    """One row outside a table: a title, a note, or labels each followed by its value."""

    cells: Sequence[Any]
    style: str = "note"  # title, note, label (cells alternate label, value)


@dataclass
class _SheetPlan:
    title: str
    parts: list[_Block | _Line] = field(default_factory=list)
    data_rows: int = 0


# --- reading the store ------------------------------------------------------------------------

def _as_of(conn: Connection) -> dt.datetime | None:
    stamp = conn.scalar(sa.select(sa.func.max(store.unit_counts.c.as_of)))
    if stamp is None:
        return None
    if isinstance(stamp, str):  # SQLite through a raw driver path
        stamp = dt.datetime.fromisoformat(stamp)
    return _local(stamp)


def _local(stamp: dt.datetime) -> dt.datetime:
    """Vietnam wall-clock time without tzinfo: Excel has no time zones (naive means UTC in the store)."""
    aware = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.timezone.utc)
    return aware.astimezone(VIETNAM).replace(tzinfo=None, microsecond=0)


def _phase_rows(conn: Connection) -> dict[int, list[dict[str, Any]]]:
    """report_rows per phase, with ineligible, benefit, basis, kind and parent added."""
    _, rows = report_rows(conn)
    c, q, u = store.unit_counts, store.quotas, store.org_units
    extra = {(code, phase): (ineligible, benefit) for code, phase, ineligible, benefit in
             conn.execute(sa.select(c.c.unit_code, c.c.phase, c.c.ineligible, c.c.benefit_vnd))}
    basis = {(code, phase): b for code, phase, b in conn.execute(sa.select(q.c.unit_code, q.c.phase, q.c.basis))}
    units = {code: (kind, parent) for code, kind, parent in conn.execute(sa.select(u.c.code, u.c.kind, u.c.parent_code))}
    by_phase: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        key = (row["unit_code"], row["phase"])
        ineligible, benefit = extra.get(key, (0, 0.0))
        kind, parent = units.get(row["unit_code"], (None, None))
        by_phase[row["phase"]].append({**row, "ineligible": int(ineligible), "benefit_vnd": float(benefit or 0),
                                       "basis": basis.get(key), "kind": kind, "parent_code": parent})
    for phase_rows in by_phase.values():
        _rank_within_group(phase_rows)
    return dict(by_phase)


def _rank_within_group(rows: list[dict[str, Any]]) -> None:
    """Rank by completion among siblings of the same kind under the same parent (1 = furthest ahead).

    The org tree has no competition clusters (cụm, khối thi đua); same parent and same kind
    stands in for them. Ties share a rank; units without a completion are not ranked.
    """
    groups: dict[tuple[Any, Any], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        row["rank"] = row["group_size"] = None
        if row["completion"] is not None:
            groups[(row["parent_code"], row["kind"])].append(row)
    for members in groups.values():
        members.sort(key=lambda r: -r["completion"])
        rank, previous = 0, None
        for position, row in enumerate(members, start=1):
            if row["completion"] != previous:
                rank, previous = position, row["completion"]
            row["rank"], row["group_size"] = rank, len(members)


def _top_units(conn: Connection) -> tuple[list[str], list[str]]:
    """The root units (national) and the units directly under them, in report order."""
    u = store.org_units
    tree = conn.execute(sa.select(u.c.code, u.c.kind, u.c.parent_code)).all()
    codes = {code for code, _, _ in tree}
    roots = [code for code, kind, parent in tree if parent is None or parent not in codes]
    national = [code for code, kind, parent in tree if code in roots and kind == "national"] or roots
    children = [code for code, _, parent in tree if parent in set(national)]
    return sorted(national), children


def _quarantine_groups(conn: Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Held rows by source, column and check; and per source the distinct held rows and failures."""
    from sangkien.quarantine import groups

    q, r = store.quarantine, store.raw_records
    held = (sa.select(q.c.source, sa.func.count(sa.distinct(q.c.raw_id)), sa.func.count())
            .join(r, r.c.id == q.c.raw_id).where(r.c.outcome == "quarantined")
            .group_by(q.c.source).order_by(q.c.source))
    per_source = [{"source": s, "held": int(n), "failures": int(f)} for s, n, f in conn.execute(held)]
    return groups(conn), per_source


# --- building the sheets -------------------------------------------------------------------------

def _overview(labels: dict[str, Any], phases: list[Any], by_phase: dict[int, list[dict[str, Any]]],
              national: list[str], children: list[str], as_of: dt.datetime | None,
              discrepancies: list[dict[str, Any]] | None) -> _SheetPlan:
    plan = _SheetPlan(labels["sheet_overview"])
    lookup = {(r["unit_code"], p): r for p, rows in by_phase.items() for r in rows}
    written_at = _local(dt.datetime.now(dt.timezone.utc))
    plan.parts += [_Line([labels["overview_title"]], style="title"),
                   _Line([labels["as_of"], as_of or labels["never_synced"], labels["written_at"], written_at],
                         style="label")]
    national_rows = []
    for phase in phases:
        for code in national:
            r = lookup.get((code, phase.phase), {})
            national_rows.append([phase.phase, phase.name, phase.starts_on, phase.ends_on,
                                  *(r.get(k) for k in NATIONAL_KEYS[4:])])
    plan.parts.append(_Block(NATIONAL_KEYS, [labels["columns"][k] for k in NATIONAL_KEYS], national_rows))
    keys, headers = ["unit_code", "unit_name", "kind"], [labels["columns"][k] for k in ("unit_code", "unit_name", "kind")]
    for phase in phases:
        keys += [f"{m}:{phase.phase}" for m in CHILD_MEASURES]
        headers += [f"{labels['phase']} {phase.phase}: {labels['columns'][m]}" for m in CHILD_MEASURES]
    child_rows = []
    for code in children:
        known = [lookup[(code, p.phase)] for p in phases if (code, p.phase) in lookup]
        if not known:
            continue
        row = [code, known[0]["unit_name"], labels["kinds"].get(known[0]["kind"], known[0]["kind"])]
        for phase in phases:
            r = lookup.get((code, phase.phase), {})  # no row: nothing counted and no target in that phase
            row += [r.get(m, 0 if m in ("records", "initiatives", "valid") else None) for m in CHILD_MEASURES]
        child_rows.append(row)
    plan.parts += [_Line([labels["children_title"]], style="title"), _Block(keys, headers, child_rows, filtered=True),
                   _Line([labels["notes_title"]], style="title"), *(_Line([note]) for note in labels["notes"])]
    if discrepancies is None:
        plan.parts.append(_Line([labels["note_no_discrepancies"]]))
    plan.data_rows = len(national_rows) + len(child_rows)
    return plan


def _phase_sheet(labels: dict[str, Any], phase: int, rows: list[dict[str, Any]]) -> _SheetPlan:
    kinds, bases = labels["kinds"], labels["bases"]
    values = [[kinds.get(r[k], r[k]) if k == "kind" else bases.get(r[k], r[k]) if k == "basis" else r[k]
               for k in PHASE_KEYS] for r in rows]
    block = _Block(PHASE_KEYS, [labels["columns"][k] for k in PHASE_KEYS], values, filtered=True)
    return _SheetPlan(f"{labels['phase']} {phase}", [block], len(values))


def _discrepancy_sheet(labels: dict[str, Any], discrepancies: list[dict[str, Any]] | None) -> _SheetPlan:
    values = [[row.get(k) for k in DISCREPANCY_KEYS] for row in discrepancies or []]
    block = _Block(DISCREPANCY_KEYS, [labels["discrepancy_columns"][k] for k in DISCREPANCY_KEYS], values,
                   filtered=True)
    return _SheetPlan(labels["sheet_discrepancies"], [block], len(values))


def _quarantine_sheet(labels: dict[str, Any], detail: list[dict[str, Any]],
                      per_source: list[dict[str, Any]]) -> _SheetPlan:
    cols = labels["quarantine_columns"]
    plan = _SheetPlan(labels["sheet_quarantine"])
    plan.parts.append(_Block(QUARANTINE_KEYS, [cols[k] for k in QUARANTINE_KEYS],
                             [[g[k] for k in QUARANTINE_KEYS] for g in detail], filtered=True))
    plan.parts.append(_Line([labels["quarantine_by_source"]], style="title"))
    plan.parts.append(_Block(QUARANTINE_SOURCE_KEYS, [cols[k] for k in QUARANTINE_SOURCE_KEYS],
                             [[s[k] for k in QUARANTINE_SOURCE_KEYS] for s in per_source]))
    plan.data_rows = len(detail)
    return plan


# --- writing ------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """A value openpyxl writes as the right cell type: numbers stay numbers, text is made safe."""
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return _local(value)
    if value is None or isinstance(value, (bool, int, float, dt.date)):
        return value
    return safe_cell(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def _number_format(key: str, value: Any, lang: str) -> str | None:
    if isinstance(value, dt.datetime):
        return DATETIME_FORMAT[lang]
    if isinstance(value, dt.date):
        return DATE_FORMAT[lang]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if key.startswith("completion"):
        return PERCENT
    if key in ("rank", "group_size", "phase", "first_id"):
        return None
    return INTEGER


def _display_width(value: Any, fmt: str | None) -> int:
    if value is None:
        return 0
    if fmt == PERCENT:
        return 7
    if isinstance(value, dt.datetime):
        return 16
    if isinstance(value, dt.date):
        return 10
    if fmt == INTEGER:
        return len(f"{value:,.0f}")
    return len(str(value))


class _Styles:
    """Template cells whose style arrays are copied: far cheaper than setting styles per cell."""

    def __init__(self, ws: WriteOnlyWorksheet):
        self.ws = ws
        self._numbers: dict[str, Any] = {}
        self.header = self._style(font=Font(bold=True), fill=PatternFill("solid", fgColor="DDEBF7"),
                                  alignment=Alignment(wrap_text=True, vertical="top"))
        self.lines = {"title": self._style(font=Font(bold=True, size=12)),
                      "label": self._style(font=Font(bold=True)),
                      "note": self._style(font=Font(italic=True, color="595959"))}

    def _style(self, **style: Any) -> Any:
        cell = WriteOnlyCell(self.ws)
        for name, value in style.items():
            setattr(cell, name, value)
        return cell._style

    def number(self, fmt: str) -> Any:
        if fmt not in self._numbers:
            self._numbers[fmt] = self._style(number_format=fmt)
        return self._numbers[fmt]

    def cell(self, value: Any, style: Any) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws, value)
        cell._style = copy(style)
        return cell


def _widths(plan: _SheetPlan, lang: str) -> list[int]:
    """Column widths from the longest value shown in each column, bounded; notes run on to the right."""
    widths: list[int] = []
    for part in plan.parts:
        if isinstance(part, _Line):
            if part.style == "label":
                widths += [MIN_WIDTH] * (len(part.cells) - len(widths))
                for i, raw in enumerate(part.cells):
                    value = _plain(raw)
                    widths[i] = max(widths[i], _display_width(value, _number_format("", value, lang)) + 2)
            continue
        widths += [MIN_WIDTH] * (len(part.keys) - len(widths))
        for i, key in enumerate(part.keys):
            widths[i] = max(widths[i], min(len(part.headers[i]), MAX_HEADER_WIDTH) + 2)
            for row in part.rows:
                value = _plain(row[i])
                widths[i] = max(widths[i], _display_width(value, _number_format(key, value, lang)) + 2)
    return [min(w, MAX_WIDTH) for w in widths]


def _layout(plan: _SheetPlan) -> list[int]:
    """The first row of each part: a line takes one row, a block its header, rows and a blank row."""
    starts, row = [], 1
    for part in plan.parts:
        starts.append(row)
        row += 1 if isinstance(part, _Line) else len(part.rows) + 2
    return starts


def _write_sheet(wb: Workbook, plan: _SheetPlan, lang: str) -> None:
    ws = wb.create_sheet(plan.title)
    styles = _Styles(ws)
    # write-only sheets take widths and panes before the first row
    for i, width in enumerate(_widths(plan, lang), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    starts = _layout(plan)
    for part, start in zip(plan.parts, starts):
        if isinstance(part, _Block) and part.filtered:
            ws.freeze_panes = f"A{start + 1}"
    for part, start in zip(plan.parts, starts):
        if isinstance(part, _Line):
            ws.append([_line_cell(styles, part, i, raw, lang) for i, raw in enumerate(part.cells)])
            continue
        ws.append([styles.cell(_plain(h), styles.header) for h in part.headers])
        for values in part.rows:
            cells = []
            for key, raw in zip(part.keys, values):
                value = _plain(raw)
                fmt = _number_format(key, value, lang)
                cells.append(value if fmt is None else styles.cell(value, styles.number(fmt)))
            ws.append(cells)
        ws.append([])
        first, last, end_col = start + 1, start + len(part.rows), get_column_letter(len(part.keys))
        if part.filtered:
            ws.auto_filter.ref = f"A{start}:{end_col}{max(last, start)}"
        for i, key in enumerate(part.keys, start=1):
            if key.startswith("completion") and last >= first:
                letter = get_column_letter(i)
                ws.conditional_formatting.add(f"{letter}{first}:{letter}{last}", ColorScaleRule(**COMPLETION_SCALE))


def _line_cell(styles: _Styles, line: _Line, index: int, raw: Any, lang: str) -> Any:
    value = _plain(raw)
    if line.style != "label" or index % 2 == 0:
        return styles.cell(value, styles.lines[line.style])
    fmt = _number_format("", value, lang)
    return value if fmt is None else styles.cell(value, styles.number(fmt))


def _save(wb: Workbook, out: Path) -> None:
    """Write next to ``out`` and rename, so a failed write never leaves half a workbook behind."""
    partial = out.with_name(out.name + ".part")
    try:
        wb.save(partial)
        os.replace(partial, out)
    except OSError as exc:
        if partial.exists():
            partial.unlink()
        raise UserError(f"cannot write the workbook to {out}: {exc.strerror or exc}; "
                        "give a writable path with --out FILE.xlsx") from None


def write_workbook(conn: Connection, out: Path, *, lang: str = "vi",
                   discrepancies: list[dict[str, Any]] | None = None) -> WorkbookSummary:
    """Write the workbook to ``out``: overview, one sheet per phase, discrepancies, quarantine.

    ``discrepancies`` are rows with the keys in DISCREPANCY_KEYS; None means they were not
    computed (the sheet stays empty and the overview says so). Raises UserError for an
    unknown ``lang`` or a path that cannot be written.
    """
    if lang not in LABELS:
        raise UserError(f"unknown language {lang!r}; choose one of {', '.join(sorted(LABELS))}")
    labels = LABELS[lang]
    by_phase = _phase_rows(conn)
    phases = get_phases(conn)
    known = {p.phase for p in phases}
    phases += [_unnamed_phase(p) for p in sorted(set(by_phase) - known)]
    national, children = _top_units(conn)
    detail, per_source = _quarantine_groups(conn)
    plans = [_overview(labels, phases, by_phase, national, children, _as_of(conn), discrepancies),
             *(_phase_sheet(labels, p.phase, by_phase.get(p.phase, [])) for p in phases),
             _discrepancy_sheet(labels, discrepancies),
             _quarantine_sheet(labels, detail, per_source)]
    wb = Workbook(write_only=True)
    for plan in plans:
        _write_sheet(wb, plan, lang)
    out = Path(out)
    _save(wb, out)
    return WorkbookSummary(path=out, sheets=[p.title for p in plans], rows={p.title: p.data_rows for p in plans})


def _unnamed_phase(number: int) -> Any:
    """A phase that has counts but is missing from the phases table (kept, not dropped)."""
    from sangkien.reference import Phase

    return Phase(number, str(number), None, None, None)  # type: ignore[arg-type]

