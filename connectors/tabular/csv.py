"""Parsing a decoded CSV export into a Table: pandas' C engine when it can vouch for every line, else the csv module.

NFC UTF-8 text is parsed by pandas' C engine, which skips (and reports) lines with too
many fields; those lines are re-checked with the :mod:`csv` module. Physical line numbers
are derived from the parsed rows and verified against the file's line count. Only when
that cannot be done (quoted fields spanning lines *and* skipped lines, a quote left
open, ...) is the whole file parsed again with the :mod:`csv` module.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from connectors.tabular.dialect import choose_delimiter, find_header, head_sample, raise_csv_limit
from connectors.tabular.table import (
    ANY_HEADER,
    LINE_COLUMN,
    FileFormatError,
    HeaderRule,
    RowError,
    Table,
    check_header_fits,
    clean_headers,
    frame_of,
)


def read_csv_text(path: Path, data: bytes, encoding: str, delimiter: str,
                  rule: HeaderRule = ANY_HEADER) -> Table:
    """Parse NFC UTF-8 ``data`` into a Table (header from a sample, found by ``rule``; body fast or slow)."""
    sample, whole = head_sample(data)
    delim = choose_delimiter(path.name, sample, whole, delimiter)
    header, header_end = find_header(path.name, data, delim, rule)
    headers = clean_headers(path.name, header)
    parsed = parse_fast(data, delim, headers, header_end)
    if parsed is None:
        parsed = parse_slow(path.name, data, delim, headers, header_end)
    frame, errors = parsed
    check_header_fits(path.name, f"line {header_end}", headers, len(frame), errors)
    return Table(path, headers, frame, encoding, delim, errors)


# ---- fast path: pandas C engine


_SKIPPED = re.compile(r"Skipping line (\d+): expected \d+ fields, saw \d+")


def parse_fast(
    data: bytes, delim: str, headers: list[str], header_end: int
) -> tuple[pd.DataFrame, list[RowError]] | None:
    """Parse with pandas' C engine; None when it cannot vouch for fields and line numbers.

    Every record becomes a row (blank lines included); lines with too many fields
    are skipped and reported by pandas, then re-checked with the csv module (see
    :func:`_recheck_lines`).  Line numbers come from :func:`_start_lines`, which
    must account for every physical line of the file, or the slow path decides.
    """
    parsed = _c_engine(data, delim)
    if parsed is None or parsed[0].shape[1] != len(headers):
        return None
    raw, bad = parsed
    numbers = _start_lines(raw, bad, _count_lines(data))
    if numbers is None:
        return None
    keep = numbers > header_end
    body = raw.iloc[np.flatnonzero(keep)]
    frame = pd.DataFrame({h: _stripped(body[i]) for i, h in enumerate(headers)})
    frame[LINE_COLUMN] = numbers[keep]
    rechecked = _recheck_lines(data, delim, headers, [n for n in bad if n > header_end])
    if rechecked is None:
        return None
    rescued, errors = rechecked
    return _without_blank_rows(_merged(frame, rescued), headers), errors


def _merged(frame: pd.DataFrame, rescued: pd.DataFrame) -> pd.DataFrame:
    """``frame`` plus the rescued rows, in line order."""
    if not len(rescued):
        return frame
    return pd.concat([frame, rescued], ignore_index=True).sort_values(LINE_COLUMN, kind="stable")


def _start_lines(raw: pd.DataFrame, bad: list[int], lines: int) -> np.ndarray | None:
    """Physical start line of each parsed row, or None if that cannot be established.

    One row per line when rows plus skipped lines add up to the line count.  Else
    quoted fields span lines: each row then starts after the line breaks inside the
    cells of the rows before it (only trusted when pandas skipped no line, as its
    skipped-line numbers count records, not lines).
    """
    if len(raw) + len(bad) == lines:
        every = np.arange(1, lines + 1, dtype="int64")
        return np.delete(every, np.asarray(bad, dtype="int64") - 1)
    if bad:
        return None
    inner = _inner_breaks(raw)
    if len(raw) + int(inner.sum()) != lines:
        return None
    return np.arange(1, len(raw) + 1, dtype="int64") + np.concatenate(([0], np.cumsum(inner)[:-1]))


def _inner_breaks(raw: pd.DataFrame) -> np.ndarray:
    """Number of line breaks inside each row's cells (CRLF, LF or lone CR count once)."""
    inner = np.zeros(len(raw), dtype="int64")
    for column in raw.columns:
        values = raw[column].to_numpy(dtype=object)
        joined = "".join(values)
        if "\n" in joined or "\r" in joined:
            inner += _BREAKS(values).astype("int64")
    return inner


_BREAKS = np.frompyfunc(lambda cell: cell.count("\n") + cell.count("\r") - cell.count("\r\n"), 1, 1)


def _c_engine(data: bytes, delim: str) -> tuple[pd.DataFrame, list[int]] | None:
    """Run pandas' C parser: (one row per record with <= header fields, lines it skipped), or None.

    Skipped lines are only reported as warnings.  ``catch_warnings`` is process-wide:
    a warning lost to (or taken from) another thread breaks the line-count check
    or the re-check of skipped lines, which then hands the file to the slow path.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            raw = pd.read_csv(
                io.BytesIO(data), sep=delim, header=None, dtype=str, engine="c", encoding="utf-8",
                keep_default_na=False, na_filter=False, skip_blank_lines=False, quotechar='"',
                doublequote=True, on_bad_lines="warn",
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
            return None
    bad: set[int] = set()
    for warning in caught:
        if issubclass(warning.category, pd.errors.ParserWarning):
            for line in str(warning.message).splitlines():
                match = _SKIPPED.fullmatch(line.strip())
                if match is None:
                    return None
                bad.add(int(match[1]))
    return raw, sorted(bad)


_STRIP = np.frompyfunc(str.strip, 1, 1)


def _stripped(column: pd.Series) -> pd.api.extensions.ExtensionArray:
    """The column's cells with surrounding whitespace removed, as a str array."""
    return pd.array(_STRIP(column.to_numpy(dtype=object)), dtype="str")


def _recheck_lines(
    data: bytes, delim: str, headers: list[str], numbers: list[int]
) -> tuple[pd.DataFrame, list[RowError]] | None:
    """Split the lines pandas skipped with the csv module.

    Returns (rows whose extra fields are all empty, RowErrors for the others), or
    None if a line turns out not to have too many fields (pandas and the csv module
    disagree, so the slow path must decide).
    """
    width, texts = len(headers), _physical_lines(data, numbers)
    rows, lines, errors = [], [], []
    for number in numbers:
        fields = next(csv.reader([texts[number]], delimiter=delim, quotechar='"', strict=False), [])
        if len(fields) <= width:
            return None
        cells = _fit_row(fields, width)
        if cells is None:
            errors.append(RowError(number, _too_many(number, len(fields), width), texts[number]))
        else:
            rows.append(cells)
            lines.append(number)
    return frame_of(headers, rows, lines), errors


def _physical_lines(data: bytes, numbers: list[int]) -> dict[int, str]:
    """Text (without line break) of the given 1-based physical lines."""
    wanted, found = set(numbers), dict[int, str]()
    if not wanted:
        return found
    last = max(wanted)
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    for number, line in enumerate(stream, 1):
        if number in wanted:
            found[number] = line.rstrip("\r\n")
        if number >= last:
            break
    return found


def _too_many(line: int, fields: int, width: int) -> str:
    """The RowError message for a line with more fields than the header."""
    return f"line {line} has {fields} fields, the header has {width}"


def _count_lines(data: bytes) -> int:
    """Number of physical lines; a line ends at CRLF, LF or a lone CR."""
    lf, cr = data.count(b"\n"), data.count(b"\r")
    breaks = lf + cr - (data.count(b"\r\n") if lf and cr else 0)
    return breaks + (0 if data.endswith((b"\n", b"\r")) else 1)


def _without_blank_rows(frame: pd.DataFrame, headers: list[str]) -> pd.DataFrame:
    """``frame`` without rows whose every cell is empty, re-indexed 0..n-1."""
    blank = frame[headers[0]].to_numpy(dtype=object) == ""
    candidates = np.flatnonzero(blank)  # only these rows need their other cells checked
    if len(candidates) and len(headers) > 1:
        rest = frame.iloc[candidates][headers[1:]]
        blank[candidates] = (rest == "").all(axis=1).to_numpy(dtype=bool)
    return frame.loc[~blank].reset_index(drop=True)


# ---- slow path: csv module, with physical line numbers and row errors


class _LineTap:
    """Iterator over text lines that remembers the lines handed out since the last take()."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self._taken: list[str] = []

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._taken.append(line)
        return line

    def take(self) -> list[str]:
        """Return and forget the lines read since the previous call."""
        taken, self._taken = self._taken, []
        return taken


def parse_slow(
    name: str, data: bytes, delim: str, headers: list[str], header_end: int
) -> tuple[pd.DataFrame, list[RowError]]:
    """Parse with the csv module; return the frame and the rows with too many fields."""
    width = len(headers)
    rows: list[list[str]] = []
    lines: list[int] = []
    errors: list[RowError] = []
    for start, fields, taken in _physical_records(name, data, delim):
        if start <= header_end:
            continue
        cells = _fit_row(fields, width)
        if cells is None:
            raw = "".join(taken).rstrip("\r\n")
            errors.append(RowError(start, _too_many(start, len(fields), width), raw))
        elif any(cells):
            rows.append(cells)
            lines.append(start)
    return frame_of(headers, rows, lines), errors


def _physical_records(name: str, data: bytes, delim: str) -> Iterator[tuple[int, list[str], list[str]]]:
    """Yield (start line, fields, physical lines) of every record, by csv-module rules.

    Raises FileFormatError (after the last record) if that record is a quoted
    field left open that swallowed the rest of the file.
    """
    raise_csv_limit()
    tap = _LineTap(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""))
    reader = csv.reader(tap, delimiter=delim, quotechar='"', strict=False)
    start, taken = 1, list[str]()
    try:
        for fields in reader:
            start, taken = start + len(taken), tap.take()
            yield start, fields, taken
    except csv.Error as exc:
        raise FileFormatError(
            f"{name}: line {reader.line_num} cannot be split into fields ({exc}); fix the quoting there"
        ) from None
    _check_closed_quotes(name, taken, start, delim)


def _fit_row(fields: list[str], width: int) -> list[str] | None:
    """Strip cells and pad to ``width``; None if non-empty cells lie beyond the header."""
    cells = [cell.strip() for cell in fields]
    if len(cells) > width:
        if any(cells[width:]):
            return None
        del cells[width:]
    elif len(cells) < width:
        cells.extend([""] * (width - len(cells)))
    return cells


def _check_closed_quotes(name: str, last: list[str], start: int, delim: str) -> None:
    """Raise if the last record is an unclosed quoted field that swallowed the rest of the file."""
    if len(last) > 1 and _ends_inside_quotes("".join(last), delim):
        raise FileFormatError(
            f"{name}: a quoted field on line {start} is never closed, so the remaining {len(last)} lines "
            f"would become one cell; fix the stray '\"' on line {start}"
        )


def _ends_inside_quotes(text: str, delim: str) -> bool:
    """Whether CSV ``text`` ends inside an open quoted field (csv-module rules, strict=False)."""
    stops = re.compile("[" + re.escape(delim) + "\r\n]")
    pos, end = 0, len(text)
    while pos < end:
        if text[pos] == '"':
            pos += 1
            while True:
                quote = text.find('"', pos)
                if quote < 0:
                    return True
                pos = quote + (2 if text.startswith('"', quote + 1) else 1)
                if pos == quote + 1:
                    break
        found = stops.search(text, pos)
        if found is None:
            return False
        pos = found.end()
    return False
