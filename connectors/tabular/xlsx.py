"""Reading an XLSX workbook: openpyxl, read-only, cached formula values; first non-empty sheet, first
non-empty row as the header; cells rendered as the text a CSV export would hold."""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import numpy as np

from connectors.tabular.table import ZIP, FileFormatError, RowError, Table, check_header_fits, clean_headers, frame_of


def read_xlsx(path: Path, head: bytes, date_format: str) -> Table:
    """Read the first non-empty sheet of a workbook into a Table (encoding 'xlsx')."""
    with open(path, "rb") as handle:  # a handle, so openpyxl does not insist on the file's extension
        workbook = _open_workbook(path, handle, head)
        try:
            for sheet in workbook.worksheets:
                table = _read_sheet(path, sheet, date_format)
                if table is not None:
                    return table
        finally:
            workbook.close()
    raise FileFormatError(f"{path.name} is empty: no sheet has any data; export the table again")


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


def _read_sheet(path: Path, sheet: Any, date_format: str) -> Table | None:
    """Read one worksheet (header = first non-empty row); None if it has no non-empty row."""
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()  # exporters often write a wrong <dimension>
    rows = _sheet_rows(sheet, date_format)
    first = next(rows, None)
    if first is None:
        return None
    header_row, header_cells = first
    headers = clean_headers(path.name, header_cells)
    width, kept, lines, errors = len(headers), [], [], []
    for number, cells in rows:
        if len(cells) > width:
            message = f"row {number} has {len(cells)} cells, the header has {width}"
            errors.append(RowError(number, message, "\t".join(cells)))
        else:
            kept.append(cells + [""] * (width - len(cells)))
            lines.append(number)
    check_header_fits(path.name, f"row {header_row}", headers, len(kept), errors)
    return Table(path, headers, frame_of(headers, kept, lines), "xlsx", None, errors)


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
