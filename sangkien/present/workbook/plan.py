"""A sheet as planned before it is written: blocks of rows (tables), single lines, the page setup."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sangkien.present.workbook.xlsx import Cell, PageSetup


@dataclass
class Block:
    """A table on a sheet: column keys (for formats), header labels and rows of values."""

    keys: Sequence[str]
    headers: Sequence[str]
    rows: list[list[Any]]
    filtered: bool = False  # the block the autofilter and the frozen header belong to
    cells: list[list[Cell]] | None = None  # rows as (value, style), prepared once for widths and writing


@dataclass
class Line:
    """One row outside a table: a title, a note, or labels each followed by its value."""

    cells: Sequence[Any]
    style: str = "note"  # title, note, label (cells alternate label, value)


@dataclass
class SheetPlan:
    title: str
    parts: list[Block | Line] = field(default_factory=list)
    data_rows: int = 0
    pages_tall: int = 0  # printed: as many pages as the rows need (the overview asks for at most two)


@dataclass(frozen=True)
class Heading:
    """What every printed page says: the workbook's title, the as-of time, and the page number."""

    title: str
    as_of: str
    page: str

    def page_setup(self, plan: SheetPlan, title_row: int | None) -> PageSetup:
        def code(text: str) -> str:
            return text.replace("&", "&&")

        return PageSetup(header=(code(self.title), "&A", code(self.as_of)), footer=("", self.page, ""),
                         title_rows=(title_row, title_row) if title_row else None, pages_tall=plan.pages_tall)


FORBIDDEN_IN_TITLES = str.maketrans({c: "-" for c in "[]:*?/\\"})
MAX_TITLE = 31  # Excel's limit on a sheet name


def sheet_title(name: str, taken: set[str]) -> str:
    """``name`` as a sheet name Excel accepts: ``[ ] : * ? / \\`` become "-", at most 31 characters,
    and not one of ``taken`` (compared without case, as Excel does): a number is added then."""
    title = name.translate(FORBIDDEN_IN_TITLES).strip().strip("'")[:MAX_TITLE] or "-"
    candidate, n = title, 2
    while candidate.lower() in {t.lower() for t in taken}:
        suffix = f" ({n})"
        candidate, n = title[:MAX_TITLE - len(suffix)] + suffix, n + 1
    taken.add(candidate)
    return candidate
