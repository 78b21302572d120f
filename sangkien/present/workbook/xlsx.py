"""A small streaming XLSX writer: the few features the report workbook needs, fast.

openpyxl's write-only mode spends ~25 µs a cell serialising XML element by element; the
national workbook has ~800,000 cells (20 s). This writes each worksheet's XML as text
straight into the zip (~1 µs a cell). It knows: numbers, booleans, text (inline
strings), dates and datetimes (serial numbers with a date format), a fixed set of cell
styles, column widths, a frozen top, an autofilter, colour-scale conditional formats, and the
page setup for printing (A4 landscape, fit to the page width, repeated header rows, a print
area, a page header and footer).
Reading the result back is openpyxl's job (the tests do).
"""
from __future__ import annotations

import datetime as dt
import math
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from openpyxl.utils import get_column_letter

# style name -> index into cellXfs below; "integer" uses Excel's built-in "#,##0" (numFmtId 3)
STYLES = ("default", "header", "title", "label", "note", "integer", "percent", "date", "datetime")
_STYLE_ID = {name: i for i, name in enumerate(STYLES)}
_EPOCH = dt.datetime(1899, 12, 30)


@dataclass
class ColorScale:
    """A three-colour scale on a cell range: low, mid and high values and their RGB colours."""

    ref: str
    values: tuple[float, float, float]
    colors: tuple[str, str, str]


@dataclass
class SheetSpec:
    """What goes around a sheet's rows: widths, the frozen top rows, the filter and colour scales."""

    title: str
    widths: Sequence[float] = ()
    freeze_rows: int = 0
    autofilter: str | None = None
    color_scales: list[ColorScale] = field(default_factory=list)
    page: PageSetup | None = None  # None: no page setup (the spreadsheet program's defaults)


@dataclass
class PageSetup:
    """How a sheet prints: A4 landscape, one page wide and ``pages_tall`` high (0: as many as needed).

    ``title_rows`` (first, last) repeat at the top of every page; the print area runs from A1 to
    the last written row and column. ``header`` and ``footer`` are (left, centre, right) texts in
    Excel's header codes (&P page, &N pages, &A sheet name); a literal ``&`` is written ``&&``.
    """

    header: tuple[str, str, str] = ("", "", "")
    footer: tuple[str, str, str] = ("", "", "")
    title_rows: tuple[int, int] | None = None
    pages_tall: int = 0
    landscape: bool = True


Cell = tuple[Any, str] | None  # (value, style name); None for an empty cell


def _styles_xml(date_format: str, datetime_format: str) -> str:
    fmts = {164: "0.0%", 165: date_format, 166: datetime_format}
    numfmts = "".join(f'<numFmt numFmtId="{i}" formatCode={quoteattr(code)}/>' for i, code in fmts.items())
    # fonts: 0 default, 1 bold, 2 bold larger, 3 italic grey; fills: 0 none, 1 gray125 (required), 2 header blue
    xfs = [(0, 0, 0, ""), (0, 1, 2, '<alignment wrapText="1" vertical="top"/>'), (0, 2, 0, ""), (0, 1, 0, ""),
           (0, 3, 0, ""), (3, 0, 0, ""), (164, 0, 0, ""), (165, 0, 0, ""), (166, 0, 0, "")]
    cell_xfs = "".join(
        f'<xf numFmtId="{fmt}" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"'
        + (' applyNumberFormat="1"' if fmt else "") + (' applyFont="1"' if font else "")
        + (' applyFill="1"' if fill else "") + (f' applyAlignment="1">{align}</xf>' if align else "/>")
        for fmt, font, fill, align in xfs)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<numFmts count="{len(fmts)}">{numfmts}</numFmts>'
        '<fonts count="4"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
        '<font><b/><sz val="13"/><name val="Calibri"/><family val="2"/></font>'
        '<font><i/><sz val="11"/><color rgb="FF595959"/><name val="Calibri"/><family val="2"/></font></fonts>'
        '<fills count="3"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill>'
        '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill>'
        '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        f'<cellXfs count="{len(xfs)}">{cell_xfs}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        '</styleSheet>')


def _text(value: str) -> str:
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    return f"<is><t{space}>{escape(value)}</t></is>"


def _cell_xml(ref: str, value: Any, style: str) -> str:
    s = _STYLE_ID[style]
    attr = f' s="{s}"' if s else ""
    if value is None:
        return f'<c r="{ref}"{attr}/>' if s else ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{attr} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return f'<c r="{ref}"{attr}><v>{value!r}</v></c>'
    if isinstance(value, dt.datetime):
        delta = value.replace(tzinfo=None) - _EPOCH
        return f'<c r="{ref}"{attr}><v>{delta.days + delta.seconds / 86400:.10g}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}"{attr}><v>{(value - _EPOCH.date()).days}</v></c>'
    return f'<c r="{ref}"{attr} t="inlineStr">{_text(str(value))}</c>'


class XlsxWriter:
    """Write sheets one after another into ``path``; ``close`` adds the workbook parts."""

    def __init__(self, path: Path, *, date_format: str = "yyyy-mm-dd", datetime_format: str = "yyyy-mm-dd hh:mm"):
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5)
        self._sheets: list[SheetSpec] = []
        self._formats = (date_format, datetime_format)
        self._extents: list[tuple[int, int]] = []  # per sheet: (last column, last row) written

    def add_sheet(self, spec: SheetSpec, rows: Iterable[Sequence[Cell]]) -> None:
        """Stream ``rows`` (lists of (value, style) or None) into the next worksheet."""
        self._sheets.append(spec)
        letters: list[str] = []
        last_row = 0
        with self._zip.open(f"xl/worksheets/sheet{len(self._sheets)}.xml", "w", force_zip64=True) as raw:
            out: list[str] = [self._sheet_head(spec, first=len(self._sheets) == 1), "<sheetData>"]
            for r, row in enumerate(rows, start=1):
                while len(letters) < len(row):
                    letters.append(get_column_letter(len(letters) + 1))
                cells = "".join(_cell_xml(f"{letters[i]}{r}", c[0], c[1]) for i, c in enumerate(row) if c is not None)
                if cells:
                    out.append(f'<row r="{r}">{cells}</row>')
                    last_row = r
                if len(out) >= 2000:
                    raw.write("".join(out).encode())
                    out.clear()
            out.append("</sheetData>")
            if spec.autofilter:
                out.append(f'<autoFilter ref="{spec.autofilter}"/>')
            for priority, scale in enumerate(spec.color_scales, start=1):
                cfvo = "".join(f'<cfvo type="num" val="{v!r}"/>' for v in scale.values)
                colors = "".join(f'<color rgb="FF{c}"/>' for c in scale.colors)
                out.append(f'<conditionalFormatting sqref="{scale.ref}"><cfRule type="colorScale" '
                           f'priority="{priority}"><colorScale>{cfvo}{colors}</colorScale></cfRule>'
                           '</conditionalFormatting>')
            out.append(_page_xml(spec.page))
            raw.write("".join(out).encode())
        self._extents.append((max(len(letters), len(spec.widths), 1), max(last_row, 1)))

    @staticmethod
    def _sheet_head(spec: SheetSpec, first: bool) -> str:
        selected = ' tabSelected="1"' if first else ""
        if spec.freeze_rows:
            top = f"A{spec.freeze_rows + 1}"
            view = (f'<sheetView{selected} workbookViewId="0"><pane ySplit="{spec.freeze_rows}" topLeftCell="{top}" '
                    f'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="{top}" '
                    f'sqref="{top}"/></sheetView>')
        else:
            view = f'<sheetView{selected} workbookViewId="0"/>'
        cols = "".join(f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>'
                       for i, w in enumerate(spec.widths, start=1))
        fit = '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>' if spec.page else ""
        return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                f'{fit}<sheetViews>{view}</sheetViews><sheetFormatPr defaultRowHeight="15"/>'
                + (f"<cols>{cols}</cols>" if cols else ""))

    def close(self) -> None:
        """Write the workbook, its relationships, the styles and the content types; close the file."""
        n = len(self._sheets)
        sheets = "".join(f'<sheet name={quoteattr(s.title)} sheetId="{i}" r:id="rId{i}"/>'
                         for i, s in enumerate(self._sheets, start=1))
        names = "".join(_defined_names(i, s, self._extents[i]) for i, s in enumerate(self._sheets))
        self._zip.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<bookViews><workbookView activeTab="0"/></bookViews>'
            f"<sheets>{sheets}</sheets>" + (f"<definedNames>{names}</definedNames>" if names else "")
            + "</workbook>"))
        rels = "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                       f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, n + 1))
        self._zip.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'{rels}<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/styles" Target="styles.xml"/></Relationships>'))
        self._zip.writestr("xl/styles.xml", _styles_xml(*self._formats))
        self._zip.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
                            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, n + 1))
        self._zip.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            f'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>{overrides}</Types>'))
        self._zip.close()


def _defined_names(index: int, spec: SheetSpec, extent: tuple[int, int]) -> str:
    """The sheet's filter range, print area and print titles as workbook-level defined names."""
    sheet = escape(_quoted(spec.title))
    names = []
    if spec.autofilter:
        names.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{index}" hidden="1">'
                     f"{sheet}!{_absolute(spec.autofilter)}</definedName>")
    if spec.page:
        area = f"A1:{get_column_letter(extent[0])}{extent[1]}"
        names.append(f'<definedName name="_xlnm.Print_Area" localSheetId="{index}">{sheet}!{_absolute(area)}'
                     "</definedName>")
        if spec.page.title_rows:
            first, last = spec.page.title_rows
            names.append(f'<definedName name="_xlnm.Print_Titles" localSheetId="{index}">{sheet}!${first}:${last}'
                         "</definedName>")
    return "".join(names)


def _header_codes(parts: tuple[str, str, str]) -> str:
    return "".join(f"&{side}{text}" for side, text in zip("LCR", parts, strict=True) if text)


def _page_xml(page: PageSetup | None) -> str:
    """printOptions, pageMargins, pageSetup and headerFooter, in the order the schema wants them."""
    margins = '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
    if page is None:
        return margins + "</worksheet>"
    margins = '<pageMargins left="0.4" right="0.4" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
    orientation = "landscape" if page.landscape else "portrait"
    return ('<printOptions horizontalCentered="1" gridLines="1"/>' + margins
            + f'<pageSetup paperSize="9" orientation="{orientation}" fitToWidth="1" fitToHeight="{page.pages_tall}"/>'
            + f"<headerFooter><oddHeader>{escape(_header_codes(page.header))}</oddHeader>"
            f"<oddFooter>{escape(_header_codes(page.footer))}</oddFooter></headerFooter></worksheet>")


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _absolute(ref: str | None) -> str:
    """A1:Q9 -> $A$1:$Q$9."""
    parts = []
    for corner in (ref or "").split(":"):
        letters = "".join(ch for ch in corner if ch.isalpha())
        parts.append(f"${letters}${corner[len(letters):]}")
    return ":".join(parts)
