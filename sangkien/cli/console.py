"""The terminal: tables fitted to its width (cells cut with an ellipsis), colour and live progress only on a TTY.

Piped or redirected, output is plain text: no colour, no cursor movement, tables at their natural width
(unless $COLUMNS says otherwise), so `sangkien runs | grep` and a log file read as they print.
rich is imported here, when a command prints, not when `sangkien` starts.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

NATURAL_WIDTH = 400  # a pipe has no width: tables take what they need, up to this
SEPARATOR = 2  # characters between two columns


def _ascii_head() -> Any:
    from rich.box import Box

    return Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)


def is_tty() -> bool:
    return sys.stdout.isatty()


def console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr): the terminal's width on a TTY; plain and wide when piped."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    width = None if tty or os.environ.get("COLUMNS", "").isdigit() else NATURAL_WIDTH
    return Console(file=stream, width=width, no_color=not tty or "NO_COLOR" in os.environ, highlight=False,
                   emoji=False, markup=False, force_terminal=tty, soft_wrap=False)


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[str] = (),
          wide: Sequence[str] = (), title: str | None = None) -> None:
    """Print ``rows`` under ``columns``, one line per row: ``numeric`` columns right-aligned; when the table is
    wider than the terminal the ``wide`` columns (free text) shrink first, then the other text columns, and every
    cut cell ends in an ellipsis."""
    from rich import box
    from rich.table import Table

    out = console()
    cells = [["" if c is None else f"{c:,}" if isinstance(c, int) and not isinstance(c, bool) else str(c)
              for c in row] for row in rows]
    widths = _fitted_widths(list(columns), cells, numeric, wide, out.width)
    grid = Table(box=box.SIMPLE_HEAD if is_tty() else _ascii_head(), title=title, title_justify="left",
                 show_edge=False, pad_edge=False, collapse_padding=True, header_style="bold" if is_tty() else "")
    for name, width in zip(columns, widths, strict=True):
        grid.add_column(name, justify="right" if name in numeric else "left", overflow="ellipsis", no_wrap=True,
                        max_width=width)
    for row in cells:
        grid.add_row(*row)
    out.print(grid)


def _fitted_widths(columns: list[str], cells: list[list[str]], numeric: Sequence[str], wide: Sequence[str],
                   room: int) -> list[int]:
    """Each column's width: its widest cell, shrunk to fit ``room``: the wide columns first, then the other text
    columns (to 8 characters at least), then the headers of number columns (never a number itself)."""
    from rich.cells import cell_len

    values = [max([0, *(cell_len(row[i]) for row in cells)]) for i in range(len(columns))]
    widths = [max(cell_len(name), values[i]) for i, name in enumerate(columns)]
    excess = sum(widths) + SEPARATOR * (len(columns) - 1) - room
    groups = ([(i, 8) for i, c in enumerate(columns) if c in wide],
              [(i, 8) for i, c in enumerate(columns) if c not in wide and c not in numeric],
              [(i, max(values[i], 2)) for i, c in enumerate(columns) if c in numeric])
    for group in groups:
        for i, floor in sorted(group, key=lambda g: -widths[g[0]]):
            if excess <= 0:
                break
            cut = min(excess, max(widths[i] - floor, 0))
            widths[i] -= cut
            excess -= cut
    return widths
