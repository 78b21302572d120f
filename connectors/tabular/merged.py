"""Merged header cells in a workbook: a group header over two rows becomes one name per column.

Offices lay a header out as in print: "Ngày" merged across two columns with "nộp" and "công nhận"
under it, and "Mã hồ sơ" merged down over both header rows. Read as rows, the first holds "Ngày"
once and the second looks like a data row. With the sheet's merged ranges the two rows read as the
columns "Ngày nộp" and "Ngày công nhận" beside "Mã hồ sơ", and the data starts under them. openpyxl's
read-only sheets do not expose merged ranges, so they are read from the sheet's XML, streamed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Merge:
    """A merged range, 1-based and inclusive."""

    min_row: int
    min_col: int
    max_row: int
    max_col: int


def _column(letters: bytes) -> int:
    number = 0
    for char in letters.decode("ascii"):
        number = number * 26 + ord(char) - 64
    return number


def merged_ranges(sheet: Any) -> list[Merge]:
    """The merged ranges of a read-only worksheet ([] when its XML cannot be reached)."""
    archive, member = getattr(getattr(sheet, "parent", None), "_archive", None), getattr(sheet, "_worksheet_path", None)
    if archive is None or member is None:
        return []
    found: list[Merge] = []
    tail = b""
    with archive.open(member) as xml:
        while chunk := xml.read(_CHUNK):
            text = tail + chunk
            last = 0
            for match in _MERGE.finditer(text):
                a, r1, b, r2 = match.groups()
                found.append(Merge(int(r1), _column(a), int(r2), _column(b)))
                last = match.end()
            tail = text[max(last, len(text) - 200):]  # a tag cut between two chunks is read with the next one
    return found


def header_names(row: int, cells: list[str], below: tuple[int, list[str]] | None,
                 merges: list[Merge]) -> tuple[list[str], bool]:
    """The header's names when its cells are merged, and whether the row below is part of the header.

    A group header (merged across columns) with names under it, or cells merged down over the next row,
    make a two-row header: each column is named "group sub-name" (or its own name when merged down).
    """
    touching = [m for m in merges if m.min_row <= row <= m.max_row]
    if not touching:
        return cells, False
    width = max([len(cells), *(m.max_col for m in touching), len(below[1]) if below else 0])
    top = cells + [""] * (width - len(cells))
    groups = [m for m in touching if m.min_row == row and m.max_col > m.min_col]
    for m in groups:
        for col in range(m.min_col + 1, m.max_col + 1):
            top[col - 1] = top[m.min_col - 1]
    down = {col for m in touching if m.min_row <= row < m.max_row for col in range(m.min_col, m.max_col + 1)}
    sub = (below[1] + [""] * width)[:width] if below and below[0] == row + 1 else [""] * width
    grouped = {col for m in groups for col in range(m.min_col, m.max_col + 1)}
    # names under a group and nothing under the other columns: sub-names, not a data row (whose id is filled)
    two_rows = bool(down) or (any(sub[col - 1] for col in grouped)
                              and not any(sub[i] for i in range(width) if i + 1 not in grouped))
    if not two_rows:  # a group without names under it: its name once, the columns it spans column_N
        starts = {m.min_col for m in groups}
        return ["" if i + 1 in grouped and i + 1 not in starts else c for i, c in enumerate(top)], False
    names = [f"{top[i]} {sub[i]}".strip() if sub[i] and (i + 1) not in down else top[i] for i in range(width)]
    return names, True
