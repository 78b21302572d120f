"""What every reader of a table file returns and shares: the Table, its row errors, the header rules."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

LINE_COLUMN = "_line"
ZIP = b"PK\x03\x04"


class FileFormatError(Exception):
    """A whole file cannot be read; str(e) is one line for a person: file name, what is wrong, how to fix."""


@dataclass(frozen=True)
class RowError:
    """One row that could not be split into the header's columns (it is not in the frame)."""

    line: int       # physical line where the record starts (CSV) or sheet row (XLSX)
    message: str    # e.g. "line 17 has 15 fields, the header has 13"
    raw: str        # the record's text as in the file (XLSX: cells joined by tabs)


@dataclass
class Table:
    """One file read into strings: ``frame`` has one str column per header plus ``_line``."""

    path: Path
    headers: list[str]
    frame: pd.DataFrame
    encoding: str
    delimiter: str | None
    row_errors: list[RowError] = field(default_factory=list)
    sheet: str | None = None  # the worksheet it came from, when a workbook's sheets were named or all read


def is_auto(setting: str) -> bool:
    """Whether a configured encoding/delimiter asks for detection."""
    return setting.strip().lower() == "auto"


HEADER_SEARCH = 30  # non-blank rows looked at to find the header under title rows


@dataclass(frozen=True)
class HeaderRule:
    """How to find the header row: ``row`` (1-based line or sheet row) when the source says, else the row holding
    the most of ``names`` (the mapped column names), else the first row filled at least half as wide as the
    widest row near the top: title rows ("BÁO CÁO SÁNG KIẾN QUÝ 3/2022") and blank rows above it are skipped."""

    row: int | None = None
    names: frozenset[str] = frozenset()


ANY_HEADER = HeaderRule()  # no header_row, no mapped names: the first row filled about as wide as those below


def pick_header(name: str, records: list[tuple[int, list[str]]], rule: HeaderRule) -> int:
    """The index in ``records`` ((line, cells) of the first non-blank rows) of the header row."""
    if rule.row is not None:
        for i, (line, _) in enumerate(records):
            if line == rule.row:
                return i
        raise FileFormatError(f"{name}: header_row {rule.row} is blank or beyond the rows looked at "
                              f"(the first non-blank rows are {', '.join(str(line) for line, _ in records[:5])}); "
                              "fix header_row, or leave it out to find the header by the column names")
    if rule.names:
        hits = [sum(unicodedata.normalize("NFC", c).strip() in rule.names for c in cells) for _, cells in records]
        if hits and max(hits) > 0:
            return hits.index(max(hits))
    filled = [sum(bool(c.strip()) for c in cells) for _, cells in records]
    widest = max(filled, default=0)
    enough = max(2, (widest + 1) // 2)
    return next((i for i, n in enumerate(filled) if n >= enough), 0)


def clean_headers(name: str, fields: list[str]) -> list[str]:
    """Strip/NFC header names, name empty ones column_N; raise on duplicates or '_line'."""
    headers = [unicodedata.normalize("NFC", f).strip() or f"column_{i}" for i, f in enumerate(fields, 1)]
    positions: dict[str, list[int]] = {}
    for i, header in enumerate(headers, 1):
        positions.setdefault(header, []).append(i)
    repeated = {h: p for h, p in positions.items() if len(p) > 1}
    if repeated:
        listed = ", ".join(f"{h!r} (columns {', '.join(map(str, p))})" for h, p in repeated.items())
        raise FileFormatError(
            f"{name}: the header has duplicated column names {listed}; rename them so every column name is unique"
        )
    if LINE_COLUMN in positions:
        raise FileFormatError(f"{name}: the header has a column named {LINE_COLUMN!r}, which is reserved; rename it")
    return headers


def check_header_fits(name: str, where: str, headers: list[str], rows: int, errors: list[RowError]) -> None:
    """Raise if a 1-column header sits above rows that are mostly wider (a title, not a header)."""
    total = rows + len(errors)
    if len(headers) == 1 and len(errors) >= 2 and len(errors) >= 0.8 * total:
        raise FileFormatError(
            f"{name}: the header {headers[0]!r} ({where}) has 1 column but {len(errors)} of {total} rows "
            "have more; delete any title rows above the header row, or check the delimiter"
        )


def frame_of(headers: list[str], rows: list[list[str]], lines: list[int]) -> pd.DataFrame:
    """Build the Table frame: one str column per header, then ``_line`` (int64)."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in headers]
    frame = pd.DataFrame({h: pd.Series(col, dtype=str) for h, col in zip(headers, columns, strict=True)})
    frame[LINE_COLUMN] = pd.Series(lines, dtype="int64")
    return frame
