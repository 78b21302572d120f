"""The national office's Excel workbook: an overview, a sheet per phase, where the sources disagree (a ranked
summary and a detail sheet), and the rows the syncs held back.

Figures come from the same place as `sangkien report` (``report_rows``) so the workbook
and the JSON report agree; the worklist from what the last roll-up kept. Every word comes
from the catalogue of the language asked for (sangkien.present.catalogue); phases are
called by their configured names, on the tabs too. Numbers are written as numbers, dates
as dates, every text cell through ``safe_cell``. Sheets are planned here and in sheets.py
(blocks of rows, titles, notes) and streamed by ``sangkien.present.workbook.xlsx``, so the
national tree (~25,000 units x 2 phases) takes seconds.
"""
from __future__ import annotations

import datetime as dt
import math
import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.errors import UserError
from sangkien.present import board, catalogue
from sangkien.present.clock import EXCEL_DATETIME_FORMAT, VIETNAM, shown, vietnam_wall
from sangkien.present.explain import Explainer
from sangkien.present.report import report_rows, safe_cell
from sangkien.present.workbook import sheets
from sangkien.present.workbook.plan import Block, Heading, Line, SheetPlan, sheet_title
from sangkien.present.workbook.xlsx import Cell, ColorScale, SheetSpec, XlsxWriter
from sangkien.reference.orgs import KIND_ORDER
from sangkien.reference.phases import Phase, get_phases
from sangkien.store.settings import default_program

PHASE_KEYS = ("unit_code", "unit_name", "kind", "parent_code", "records", "initiatives", "valid", "pending",
              "rejected", "ineligible", "registrants", "benefit_vnd", "target", "basis", "completion", "rank",
              "group_size")
NATIONAL_KEYS = ("phase", "phase_name", "starts_on", "ends_on", "records", "initiatives", "valid", "pending",
                 "rejected", "registrants", "target", "completion")
CHILD_MEASURES = ("records", "initiatives", "valid", "target", "completion")
MIN_WIDTH, MAX_WIDTH, MAX_HEADER_WIDTH = 6, 60, 24
FIXED_WIDTH = {"percent": 7, "date": 10, "datetime": 16}  # characters shown by those number formats
DATE_FORMAT = {"vi": "dd/mm/yyyy", "en": "yyyy-mm-dd"}
DATETIME_FORMAT = {"vi": EXCEL_DATETIME_FORMAT, "en": EXCEL_DATETIME_FORMAT}  # one clock: Vietnam time, zoned
# red at 0 %, amber at 50 %, green from 100 % on: who is behind shows at a glance
COMPLETION_SCALE = ((0.0, 0.5, 1.0), ("F8696B", "FFEB84", "63BE7B"))


@dataclass(frozen=True)
class WorkbookSummary:
    """What was written: the file, its sheets in order, and the data rows on each."""

    path: Path
    sheets: list[str]
    rows: dict[str, int]


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
    return vietnam_wall(stamp)


def _extra(conn: Connection, program: str | None) -> dict[tuple[str, int], tuple[Any, Any]]:
    """(unit, phase) -> (ineligible, benefit): the last roll-up's, or another program's counted now."""
    if program not in (None, default_program(conn)):
        from sangkien.pipeline import reconcile

        counts = reconcile.unit_counts(conn, reconcile.open_scope(conn, program=program))
        return {(r.unit_code, int(r.phase)): (r.ineligible, r.benefit_vnd) for r in counts.itertuples()}
    c = store.unit_counts
    return {(code, phase): (ineligible, benefit) for code, phase, ineligible, benefit in
            conn.execute(sa.select(c.c.unit_code, c.c.phase, c.c.ineligible, c.c.benefit_vnd))}


def _phase_rows(conn: Connection, program: str | None = None) -> dict[int, list[dict[str, Any]]]:
    """report_rows per phase (of ``program``), with ineligible, benefit, basis, kind and parent added."""
    _, rows = report_rows(conn, every_target=False, program=program)  # a sheet ranks one target a unit
    u = store.org_units
    extra = _extra(conn, program)
    units = {code: (kind, parent)
             for code, kind, parent in conn.execute(sa.select(u.c.code, u.c.kind, u.c.parent_code))}
    by_phase: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        key = (row["unit_code"], row["phase"])
        ineligible, benefit = extra.get(key, (0, 0.0))
        kind, parent = units.get(row["unit_code"], (None, None))
        by_phase[row["phase"]].append({**row, "ineligible": int(ineligible), "benefit_vnd": float(benefit or 0),
                                       "basis": row["basis"], "kind": kind, "parent_code": parent})
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
    under = [(KIND_ORDER.get(kind, 9), code) for code, kind, parent in tree if parent in set(national)]
    return sorted(national), [code for _, code in sorted(under)]


# --- building the sheets -------------------------------------------------------------------------

def _overview(labels: dict[str, Any], phases: Sequence[Phase | _UnnamedPhase],
              by_phase: dict[int, list[dict[str, Any]]],
              national: list[str], children: list[str], as_of: dt.datetime | None,
              notes: Sequence[str]) -> SheetPlan:
    plan = SheetPlan(labels["sheet_overview"], pages_tall=2)
    lookup = {(r["unit_code"], p): r for p, rows in by_phase.items() for r in rows}
    written_at = _local(dt.datetime.now(dt.UTC))
    plan.parts += [Line([labels["overview_title"]], style="title"),
                   Line([labels["as_of"], as_of or labels["never_synced"], labels["written_at"], written_at],
                        style="label")]
    national_rows = []
    for phase in phases:
        for code in national:
            r = lookup.get((code, phase.phase), {})  # no row: nothing counted and no target in that phase
            national_rows.append([phase.phase, phase.name, phase.starts_on, phase.ends_on,
                                  *(r.get(k, None if k in ("target", "completion") else 0) for k in NATIONAL_KEYS[4:])])
    plan.parts.append(Block(NATIONAL_KEYS, [labels["columns"][k] for k in NATIONAL_KEYS], national_rows))
    keys = ["unit_code", "unit_name", "kind"]
    headers = [labels["columns"][k] for k in keys]
    for phase in phases:
        keys += [f"{m}:{phase.phase}" for m in CHILD_MEASURES]
        headers += [f"{phase.name}: {labels['columns'][m]}" for m in CHILD_MEASURES]
    child_rows = []
    for code in children:
        known = [lookup[(code, p.phase)] for p in phases if (code, p.phase) in lookup]
        if not known:
            continue
        row = [code, known[0]["unit_name"], labels["kinds"].get(known[0]["kind"], known[0]["kind"])]
        for phase in phases:
            r = lookup.get((code, phase.phase), {})
            row += [r.get(m, None if m in ("target", "completion") else 0) for m in CHILD_MEASURES]
        child_rows.append(row)
    plan.parts += [Line([labels["children_title"]], style="title"), Block(keys, headers, child_rows, filtered=True),
                   Line([labels["notes_title"]], style="title"), *(Line([note]) for note in [*labels["notes"], *notes])]
    plan.data_rows = len(national_rows) + len(child_rows)
    return plan


def _phase_sheet(labels: dict[str, Any], title: str, rows: list[dict[str, Any]]) -> SheetPlan:
    kinds, bases = labels["kinds"], labels["bases"]
    values = [[kinds.get(r[k], r[k]) if k == "kind" else bases.get(r[k], r[k]) if k == "basis" else r[k]
               for k in PHASE_KEYS] for r in rows]
    block = Block(PHASE_KEYS, [labels["columns"][k] for k in PHASE_KEYS], values, filtered=True)
    return SheetPlan(title, [block], len(values))


# --- writing ------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """A value written as the right cell type: numbers stay numbers, text is made safe."""
    kind = type(value)
    if value is None or kind is int or kind is bool or kind is dt.date:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is str:
        return safe_cell(ILLEGAL_CHARACTERS_RE.sub("", value))
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    if isinstance(value, Decimal):
        return _plain(int(value) if value == value.to_integral_value() else float(value))
    if isinstance(value, dt.datetime):
        return _local(value) if value.tzinfo is not None else value
    if isinstance(value, int):  # subclasses: IntEnum and the like
        return int(value)
    if isinstance(value, float):
        return _plain(float(value))
    return _plain(str(value))


def _style(key: str, value: Any) -> str:
    """The cell style for ``value`` in column ``key`` (see sangkien.present.workbook.xlsx.STYLES)."""
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "default"
    if key.startswith("completion"):
        return "percent"
    if isinstance(value, float) and key == "counted":  # a share in percent, 10.99: not a whole number
        return "default"
    if key in ("rank", "group_size", "phase", "first_id", "initiative_id"):
        return "default"
    return "integer"


def _prepared(keys: Sequence[str], rows: list[list[Any]]) -> list[list[Cell]]:
    """Rows of (value, style) cells; the style depends only on the column and the value's type."""
    styles: dict[tuple[str, type], str] = {}
    out = []
    for values in rows:
        row: list[Cell] = []
        for key, raw in zip(keys, values, strict=False):
            value = _plain(raw)
            if value is None:
                row.append(None)
                continue
            style = styles.get((key, type(value)))
            if style is None:
                style = styles[(key, type(value))] = _style(key, value)
            row.append((value, style))
        out.append(row)
    return out


def _shown_width(cells: list[Cell]) -> int:
    """How many characters the widest of ``cells`` (one column) shows."""
    by_style: dict[str, list[Any]] = defaultdict(list)
    for cell in cells:
        if cell is not None:
            by_style[cell[1]].append(cell[0])
    width = 0
    for style, values in by_style.items():
        if style == "integer":
            shown = max(len(f"{max(values):,.0f}"), len(f"{min(values):,.0f}"))
        else:
            shown = FIXED_WIDTH.get(style) or max(len(str(v)) for v in values)
        width = max(width, shown)
    return width


def _widths(plan: SheetPlan) -> list[int]:
    """Column widths from the widest value shown in each column, bounded; notes run on to the right."""
    widths: list[int] = []
    for part in plan.parts:
        if isinstance(part, Line) and part.style != "label":
            continue
        rows = _line_cells(part) if isinstance(part, Line) else _block_cells(part)
        columns = max([len(part.keys) if isinstance(part, Block) else 0, *(len(r) for r in rows)])
        widths += [MIN_WIDTH] * (columns - len(widths))
        for i in range(columns):
            widths[i] = max(widths[i], _shown_width([r[i] for r in rows if i < len(r)]) + 2)
        if isinstance(part, Block):
            for i, header in enumerate(part.headers):
                widths[i] = max(widths[i], min(len(header), MAX_HEADER_WIDTH) + 2)
    return [min(w, MAX_WIDTH) for w in widths]


def _line_cells(line: Line) -> list[list[Cell]]:
    row: list[Cell] = []
    for i, raw in enumerate(line.cells):
        value = _plain(raw)
        is_value = line.style == "label" and i % 2 == 1
        row.append((value, _style("", value) if is_value else line.style))
    return [row]


def _block_cells(block: Block) -> list[list[Cell]]:
    if block.cells is None:
        block.cells = _prepared(block.keys, block.rows)
    return block.cells


def _layout(plan: SheetPlan) -> list[int]:
    """The first row of each part: a line takes one row, a block its header, rows and a blank row."""
    starts, row = [], 1
    for part in plan.parts:
        starts.append(row)
        row += 1 if isinstance(part, Line) else len(part.rows) + 2
    return starts


def _spec(plan: SheetPlan, heading: Heading) -> SheetSpec:
    """Widths, the frozen header (of the filtered block), its autofilter, the completion colour scales,
    and the page setup: the filtered block's header row is repeated on every printed page."""
    spec = SheetSpec(plan.title, _widths(plan))
    for part, start in zip(plan.parts, _layout(plan), strict=False):
        if not isinstance(part, Block):
            continue
        first, last = start + 1, start + len(part.rows)
        if part.filtered:
            spec.freeze_rows = start
            spec.autofilter = f"A{start}:{get_column_letter(len(part.keys))}{max(last, start)}"
        for i, key in enumerate(part.keys, start=1):
            if key.startswith("completion") and last >= first:
                letter = get_column_letter(i)
                spec.color_scales.append(ColorScale(f"{letter}{first}:{letter}{last}", *COMPLETION_SCALE))
    spec.page = heading.page_setup(plan, spec.freeze_rows or None)
    return spec


def _cells(plan: SheetPlan) -> Iterator[list[Cell]]:
    for part in plan.parts:
        if isinstance(part, Line):
            yield from _line_cells(part)
            continue
        yield [(_plain(h), "header") for h in part.headers]
        yield from _block_cells(part)
        yield []


def _save(plans: list[SheetPlan], out: Path, lang: str, heading: Heading) -> None:
    """Write next to ``out`` and rename, so a failed write never leaves half a workbook behind."""
    partial = out.with_name(out.name + ".part")
    try:
        writer = XlsxWriter(partial, date_format=DATE_FORMAT[lang], datetime_format=DATETIME_FORMAT[lang])
        for plan in plans:
            writer.add_sheet(_spec(plan, heading), _cells(plan))
        writer.close()
        os.replace(partial, out)
    except OSError as exc:
        if partial.exists():
            partial.unlink()
        raise UserError(f"cannot write the workbook to {out}: {exc.strerror or exc}; "
                        "give a writable path with --out FILE.xlsx") from None


def workbook_labels(lang: str) -> dict[str, Any]:
    """The workbook's words in ``lang``: its own labels with the catalogue's shared groups beside them."""
    texts = catalogue.texts(lang)
    return {**texts["workbook"], **{group: texts[group] for group in ("kinds", "bases", "statuses", "checks",
                                                                       "fields", "causes")}}


def write_workbook(conn: Connection, out: Path, *, lang: str = "vi", worklist: bool = True,
                   program: str | None = None) -> WorkbookSummary:
    """Write the workbook to ``out``: overview, one sheet per phase, where the sources disagree (summary and
    detail, from the summary the last roll-up kept), and the rows held back. ``program``: whose phases and
    targets (default: the default program); another program's workbook has no worklist or cluster sheet (those
    are the default program's) and says so.

    ``worklist=False`` leaves the two worklist sheets empty and says so on the overview, as does a
    store with no kept summary. Raises UserError for an unknown ``lang`` or a path that cannot be written.
    """
    labels = workbook_labels(lang)
    other = program not in (None, default_program(conn))
    worklist = worklist and not other
    by_phase = _phase_rows(conn, program)
    configured = get_phases(conn, program)
    known = {p.phase for p in configured}
    phases: list[Phase | _UnnamedPhase] = [*configured,
                                           *(_UnnamedPhase(p, str(p)) for p in sorted(set(by_phase) - known))]
    names = {p.phase: p.name for p in phases}
    national, children = _top_units(conn)
    as_of = _as_of(conn)
    shown_as_of = f"{labels['print_as_of']} {shown(as_of.replace(tzinfo=VIETNAM))}" if as_of else labels["never_synced"]
    heading = Heading(labels["print_title"], shown_as_of, labels["print_page"])
    explainer = Explainer(lang, board.portals(conn))
    notes: list[str] = [labels["note_program"].format(program=program)] if other else []
    if worklist and conn.execute(sa.select(store.summary_state.c.id)).first() is not None:
        summary_sheet = sheets.worklist_sheet(conn, labels, explainer, names)
        detail, total = sheets.detail_sheet(conn, labels, explainer, labels["statuses"], labels["causes"], names)
        if total > detail.data_rows:
            notes.append(labels["note_detail_cut"].format(shown=catalogue.number(lang, detail.data_rows),
                                                          total=catalogue.number(lang, total)))
    else:
        notes.append(labels["note_no_worklist"])
        summary_sheet, detail = sheets.empty_worklist(labels)
    clusters = sheets.cluster_sheet(conn, labels, names, program)
    targets = sheets.targets_sheet(conn, labels, names, program)
    notes += [labels["note_clusters"] if clusters else labels["note_no_clusters"],
              *([labels["note_targets"]] if targets else [])]
    taken = {labels["sheet_overview"], summary_sheet.title, detail.title, labels["sheet_held"],
             labels["sheet_clusters"], labels["sheet_targets"]}
    plans = [_overview(labels, phases, by_phase, national, children, as_of, notes),
             *(_phase_sheet(labels, sheet_title(p.name, taken), by_phase.get(p.phase, [])) for p in phases),
             *([targets] if targets else []), *([clusters] if clusters else []),
             summary_sheet, detail, sheets.held_sheet(conn, labels, labels["checks"], labels["fields"])]
    out = Path(out)
    _save(plans, out, lang, heading)
    return WorkbookSummary(path=out, sheets=[p.title for p in plans], rows={p.title: p.data_rows for p in plans})


@dataclass(frozen=True)
class _UnnamedPhase:
    """A phase that has counts but is missing from the phases table (kept, not dropped): no dates."""
    phase: int
    name: str
    starts_on: None = None
    ends_on: None = None

