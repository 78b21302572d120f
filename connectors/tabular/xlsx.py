"""Reading an XLSX workbook: openpyxl, read-only, cached formula values; the first non-empty sheet, its header
found under any title rows (table.pick_header); cells rendered as the text a CSV export would hold."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import numpy as np

from connectors.tabular.merged import header_names, merged_ranges
from connectors.tabular.table import (
    ANY_HEADER,
    HEADER_SEARCH,
    ZIP,
    FileFormatError,
    HeaderRule,
    RowError,
    Table,
    check_header_fits,
    clean_headers,
    frame_of,
    pick_header,
)


def read_xlsx(path: Path, head: bytes, date_format: str, rule: HeaderRule = ANY_HEADER,
              date_columns: frozenset[str] = frozenset(), sheets: Sequence[str] | None = None) -> list[Table]:
    """Read a workbook's sheets into Tables (encoding 'xlsx'), each header found by ``rule``; numbers in
    ``date_columns`` are Excel date serials (a date column formatted as General), rendered as dates.

    ``sheets``: None, the first non-empty sheet; ``["*"]``, every non-empty sheet; else the sheets named, in
    that order (a name the workbook lacks is a FileFormatError listing the sheets it has)."""
    tables = []
    with open(path, "rb") as handle:  # a handle, so openpyxl does not insist on the file's extension
        workbook = _open_workbook(path, handle, head)
        try:
            for sheet in _chosen_sheets(path, workbook, sheets):
                table = _read_sheet(path, sheet, date_format, rule, date_columns)
                if table is not None:
                    table.sheet = sheet.title if sheets else None
                    tables.append(table)
                    if not sheets:
                        break
        finally:
            workbook.close()
    if not tables:
        raise FileFormatError(f"{path.name} is empty: no sheet {'named ' if sheets and sheets != ['*'] else ''}"
                              "has any data; export the table again")
    return tables


def _chosen_sheets(path: Path, workbook: Any, sheets: Sequence[str] | None) -> list[Any]:
    if not sheets or list(sheets) == ["*"]:
        return list(workbook.worksheets)
    by_title = {unicodedata.normalize("NFC", s.title).strip(): s for s in workbook.worksheets}
    missing = [n for n in sheets if unicodedata.normalize("NFC", n).strip() not in by_title]
    if missing:
        raise FileFormatError(f"{path.name} has no sheet {', '.join(map(repr, missing))}; its sheets are "
                              f"{', '.join(map(repr, by_title))}; fix `sheets`")
    return [by_title[unicodedata.normalize("NFC", n).strip()] for n in sheets]


def _open_workbook(path: Path, handle: IO[bytes], head: bytes) -> Any:
    """Open the workbook read-only with cached formula values, or raise FileFormatError."""
    import openpyxl

    if not head.startswith(ZIP):
        textual = b"\x00" not in head
        fix = "rename it to .csv if it is a CSV export" if textual else "save it from Excel as .xlsx or 'CSV UTF-8'"
        raise FileFormatError(f"{path.name} is named {path.suffix} but is not an XLSX workbook; {fix}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileFormatError(
            f"{path.name} cannot be opened as an XLSX workbook ({exc}); save it again from Excel as .xlsx"
        ) from None
    except Exception as exc:  # openpyxl raises assorted errors on broken workbooks
        raise FileFormatError(
            f"{path.name} cannot be opened as an XLSX workbook ({type(exc).__name__}: {exc}); "
            "save it again from Excel as .xlsx"
        ) from None


def _read_sheet(path: Path, sheet: Any, date_format: str, rule: HeaderRule,
                date_columns: frozenset[str] = frozenset()) -> Table | None:
    """Read one worksheet (the header found by ``rule`` among its first non-empty rows, title rows above it
    skipped); None if it has no non-empty row."""
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()  # exporters often write a wrong <dimension>
    rows = _sheet_rows(sheet, date_format)
    top = list(itertools.islice(rows, max(HEADER_SEARCH, rule.row or 0)))
    if not top:
        return None
    at = pick_header(path.name, top, rule)
    header_row, header_cells = top[at]
    below = top[at + 1] if at + 1 < len(top) else None
    names, two_rows = header_names(header_row, header_cells, below, merged_ranges(sheet))
    headers = clean_headers(path.name, names)
    width, kept, lines, errors = len(headers), [], [], []
    for number, cells in itertools.chain(top[at + 1 + two_rows:], rows):
        if len(cells) > width:
            message = f"row {number} has {len(cells)} cells, the header has {width}"
            errors.append(RowError(number, message, "\t".join(cells)))
        else:
            kept.append(cells + [""] * (width - len(cells)))
            lines.append(number)
    check_header_fits(path.name, f"row {header_row}", headers, len(kept), errors)
    for i in (i for i, h in enumerate(headers) if h in date_columns):
        for cells in kept:
            cells[i] = _serial_date(cells[i], date_format)
    return Table(path, headers, frame_of(headers, kept, lines), "xlsx", None, errors)


_SERIAL = re.compile(r"\d{5}(\.\d+)?")  # 10000..99999: 1927-05-18..2173-10-14


def _serial_date(text: str, date_format: str) -> str:
    """An Excel date serial (44805, 44805.5) as a date in ``date_format``; any other text as it is."""
    if not _SERIAL.fullmatch(text):
        return text
    from openpyxl.utils.datetime import from_excel

    return _cell_text(from_excel(float(text)), date_format)


def _sheet_rows(sheet: Any, date_format: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (sheet row number, rendered cells without trailing empties) of non-empty rows."""
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = _trimmed([_cell_text(v, date_format) for v in values])
        if cells:
            yield number, cells


def _trimmed(cells: list[str]) -> list[str]:
    """Drop trailing empty cells (sheets pad rows to the used range)."""
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    return cells[:end]


def _cell_text(value: Any, date_format: str) -> str:
    """Render one cell value as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().strftime(date_format)  # the date part, like a date cell
    if isinstance(value, dt.date):
        return value.strftime(date_format)
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating, Decimal)):
        return _number_text(float(value))
    return unicodedata.normalize("NFC", str(value)).strip()


def _number_text(value: float) -> str:
    """Render a float like Excel shows it: 15 significant digits, no '.0', no exponent."""
    if not math.isfinite(value):
        return str(value)
    value = float(f"{value:.15g}")
    if value.is_integer():
        return str(int(value))
    return np.format_float_positional(value, trim="-")
