"""Read one exported table file (CSV/TSV/XLSX) into rows of strings.

This is the parsing layer of the file-drop connector.  It knows nothing about
the schema of the rows: it promises only that

* every cell is a ``str`` (``""`` when empty), NFC-normalized and stripped;
* every kept row remembers the physical line (CSV) or sheet row (XLSX) it came
  from, in the ``_line`` column;
* rows that cannot be split into the header's columns are reported as
  :class:`RowError` and left out of the frame;
* a file that cannot be read at all raises :class:`FileFormatError`, whose
  message is one line for a person: the file name, what is wrong, how to fix it.

Text files are decoded once (auto-detecting UTF-8 / UTF-8 BOM / UTF-16 /
Windows-1258), NFC-normalized and re-encoded as UTF-8, then parsed by pandas'
C engine, which skips (and reports) lines with too many fields; those lines are
re-checked with the :mod:`csv` module.  Physical line numbers are derived from
the parsed rows and verified against the file's line count.  Only when that
cannot be done (quoted fields spanning lines *and* skipped lines, a quote left
open, ...) is the whole file parsed again with the :mod:`csv` module.

XLSX files are read with openpyxl (read-only, cached formula values), first
non-empty sheet. In both, title rows and blank rows above the header are skipped:
the header is the row the source names (``header_row``), else the row holding the
most mapped column names, else the first row filled about as wide as those below.

By job: ``decode`` (binary refusal, encoding detection, NFC), ``dialect`` (delimiter
and header record), ``csv`` (the fast and slow parsers), ``xlsx`` (workbooks), and
``table`` (the Table they all return, and the header rules they share).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from connectors.tabular.csv import read_csv_text
from connectors.tabular.decode import decoded_file
from connectors.tabular.table import ZIP, FileFormatError, HeaderRule, RowError, Table, is_auto
from connectors.tabular.xlsx import read_xlsx

__all__ = ["FileFormatError", "RowError", "Table", "file_digest", "read_table", "read_tables"]
TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})


def file_digest(path: Path) -> str:
    """Return the SHA-256 hex digest of the file's bytes, read in a streaming fashion."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def read_table(
    path: Path,
    *,
    encoding: str = "auto",
    delimiter: str = "auto",
    date_format: str = "%d/%m/%Y",
    header_row: int | None = None,
    header_names: Iterable[str] = (),
    date_columns: Iterable[str] = (),
) -> Table:
    """Read one CSV/TSV/XLSX export into a :class:`Table` of stripped NFC strings.

    ``encoding``/``delimiter`` are ``"auto"`` or an explicit value (ignored for XLSX).
    ``date_format`` renders XLSX date cells (CSV cells are returned as written).
    The header is line (sheet row) ``header_row`` when given, else the row holding the most of ``header_names``,
    else the first row filled about as wide as the rows under it (title and blank rows above it are skipped).
    In XLSX, numbers in ``date_columns`` are Excel date serials (a date column formatted as General).
    Raises :class:`FileFormatError` when the content cannot be read as a table;
    ``OSError`` (missing file, permissions, I/O) propagates unchanged.
    """
    return read_tables(path, encoding=encoding, delimiter=delimiter, date_format=date_format, header_row=header_row,
                       header_names=header_names, date_columns=date_columns)[0]


def read_tables(
    path: Path,
    *,
    encoding: str = "auto",
    delimiter: str = "auto",
    date_format: str = "%d/%m/%Y",
    header_row: int | None = None,
    header_names: Iterable[str] = (),
    date_columns: Iterable[str] = (),
    sheets: Sequence[str] | None = None,
) -> list[Table]:
    """Like :func:`read_table`, one Table per sheet read: a workbook's first non-empty sheet (``sheets`` None),
    every non-empty sheet (``["*"]``) or the sheets named; a CSV file is one Table whatever ``sheets`` says."""
    path = Path(path)
    head = _read_head(path)
    if not head:
        raise FileFormatError(f"{path.name} is empty (0 bytes); export the table again")
    rule = HeaderRule(header_row, frozenset(unicodedata.normalize("NFC", n).strip() for n in header_names))
    if _is_workbook(path, head, encoding):
        return read_xlsx(path, head, date_format, rule, frozenset(date_columns), sheets)
    data, used = decoded_file(path, encoding)
    return [read_csv_text(path, data, used, delimiter, rule)]


def _read_head(path: Path, size: int = 16) -> bytes:
    """Return the first bytes of the file (OSError propagates: it is not a format problem)."""
    with open(path, "rb") as handle:
        return handle.read(size)


def _is_workbook(path: Path, head: bytes, encoding: str) -> bool:
    """Whether the file is to be read as XLSX: by extension, or a ZIP signature on a non-text name."""
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return True
    if suffix in TEXT_SUFFIXES:
        return False
    return is_auto(encoding) and head.startswith(ZIP)
