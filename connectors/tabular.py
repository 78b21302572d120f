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
non-empty sheet, first non-empty row as the header.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import math
import re
import unicodedata
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

import numpy as np
import pandas as pd

__all__ = ["FileFormatError", "RowError", "Table", "file_digest", "read_table"]

LINE_COLUMN = "_line"
DELIMITERS = (",", ";", "\t", "|")
TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})

_CHUNK = 1 << 22            # bytes decoded at a time
_SAMPLE = 1 << 16           # bytes looked at to find the header and delimiter
_SNIFF_RECORDS = 200        # records looked at to choose the delimiter
_ZIP = b"PK\x03\x04"
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (_ZIP, "a ZIP archive (an XLSX workbook?)",
     "if it is an Excel workbook, rename it to .xlsx, or save it from Excel as 'CSV UTF-8'"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls (OLE) file",
     "open it in Excel and save it as .xlsx or 'CSV UTF-8'"),
    (b"%PDF", "a PDF document", "export the table itself as CSV or XLSX"),
    (b"\x89PNG", "a PNG image", "export the table itself as CSV or XLSX"),
    (b"\xff\xd8\xff", "a JPEG image", "export the table itself as CSV or XLSX"),
    (b"GIF8", "a GIF image", "export the table itself as CSV or XLSX"),
    (b"\x1f\x8b", "a gzip archive", "unpack it and drop the CSV inside"),
    (b"Rar!", "a RAR archive", "unpack it and drop the CSV inside"),
    (b"7z\xbc\xaf", "a 7-Zip archive", "unpack it and drop the CSV inside"),
)
_MARKUP = (b"<!doctype html", b"<html", b"<table", b"<?xml")


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


class _BadBytes(Exception):
    """Text could not be decoded: ``offset`` is absolute in the file."""

    def __init__(self, offset: int, byte: int, reason: str) -> None:
        super().__init__(f"byte 0x{byte:02X} at offset {offset}: {reason}")
        self.offset, self.byte, self.reason = offset, byte, reason


# --------------------------------------------------------------------------- public API


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
) -> Table:
    """Read one CSV/TSV/XLSX export into a :class:`Table` of stripped NFC strings.

    ``encoding``/``delimiter`` are ``"auto"`` or an explicit value (ignored for XLSX).
    ``date_format`` renders XLSX date cells (CSV cells are returned as written).
    Raises :class:`FileFormatError` when the content cannot be read as a table;
    ``OSError`` (missing file, permissions, I/O) propagates unchanged.
    """
    path = Path(path)
    head = _read_head(path)
    if not head:
        raise FileFormatError(f"{path.name} is empty (0 bytes); export the table again")
    if _is_workbook(path, head, encoding):
        return _read_xlsx(path, head, date_format)
    data, used = _decoded_file(path, encoding)
    return _read_csv_text(path, data, used, delimiter)


# --------------------------------------------------------------------------- file kind


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
    return _is_auto(encoding) and head.startswith(_ZIP)


def _is_auto(setting: str) -> bool:
    """Whether a configured encoding/delimiter asks for detection."""
    return setting.strip().lower() == "auto"


def _check_not_binary(name: str, raw: bytes, utf16: bool) -> None:
    """Raise FileFormatError when the bytes are clearly not a text table."""
    for signature, what, fix in _SIGNATURES:
        if raw.startswith(signature):
            raise FileFormatError(f"{name} looks like a binary file, not CSV: it starts like {what}; {fix}")
    if not utf16:
        nul = raw.find(b"\x00")
        if nul >= 0:
            raise FileFormatError(
                f"{name} looks like a binary file, not CSV: it contains NUL bytes (first at byte {nul}); "
                "export the table as CSV or XLSX"
            )
    start = raw[:512].lstrip(codecs.BOM_UTF8 + b" \t\r\n").lower()
    if start.startswith(_MARKUP):
        raise FileFormatError(
            f"{name} looks like an HTML/XML page, not CSV; open it in Excel and save it as .xlsx or 'CSV UTF-8'"
        )


# --------------------------------------------------------------------------- decoding


def _decoded_file(path: Path, encoding: str) -> tuple[bytes, str]:
    """Read the file and return (NFC UTF-8 bytes, possibly with a BOM; the encoding used)."""
    raw = path.read_bytes()
    utf16 = _utf16_codec(raw)
    _check_not_binary(path.name, raw, utf16 is not None)
    if _is_auto(encoding):
        return _decode_auto(path.name, raw, utf16)
    return _decode_explicit(path.name, raw, encoding, utf16)


def _utf16_codec(raw: bytes) -> str | None:
    """Return 'utf-16' for a UTF-16 BOM, 'utf-16-le'/'-be' for BOM-less UTF-16 text, else None."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = raw[: 4096 - 4096 % 2] if len(raw) >= 4 else b""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.3 * half and even == 0:
        return "utf-16-le"
    if even > 0.3 * half and odd == 0:
        return "utf-16-be"
    return None


def _decode_auto(name: str, raw: bytes, utf16: str | None) -> tuple[bytes, str]:
    """Decode by BOM, else strict UTF-8, else cp1258; raise FileFormatError if nothing fits."""
    if raw.startswith(codecs.BOM_UTF8):
        codec = "utf-8-sig"
    else:
        codec = utf16 or "utf-8"
    try:
        return _nfc_utf8(raw, codec), codec
    except _BadBytes as bad:
        if codec != "utf-8":
            raise FileFormatError(
                f"{name} is not valid {codec} text: {_where(raw, bad, codec)}; re-export it as 'CSV UTF-8'"
            ) from None
        _check_single_encoding(name, raw, bad)
    try:
        return _nfc_utf8(raw, "cp1258"), "cp1258"
    except _BadBytes as bad:
        raise FileFormatError(
            f"{name} is neither UTF-8 nor Windows-1258 (cp1258) text: {_where(raw, bad, 'cp1258')}; "
            "re-export it as 'CSV UTF-8' or set encoding: to the file's encoding"
        ) from None


def _check_single_encoding(name: str, raw: bytes, bad: _BadBytes) -> None:
    """Refuse a file whose first lines are UTF-8 with accents and a later line is not.

    Reading such a file as cp1258 would garble the UTF-8 part silently, so it is named.
    """
    line_start = raw.rfind(b"\n", 0, bad.offset) + 1
    before = raw[:line_start]
    if before.isascii():
        return
    try:
        before.decode("utf-8")
    except UnicodeDecodeError:
        return
    line = before.count(b"\n") + 1
    raise FileFormatError(
        f"{name} mixes encodings: lines 1-{line - 1} are UTF-8 but line {line} is not "
        f"({_where(raw, bad, 'utf-8')}); re-export the whole file in one encoding ('CSV UTF-8')"
    )


def _decode_explicit(name: str, raw: bytes, encoding: str, utf16: str | None) -> tuple[bytes, str]:
    """Decode with the configured encoding; a decode error names it and suggests a fix."""
    try:
        codec = codecs.lookup(encoding.strip()).name
    except LookupError:
        raise FileFormatError(
            f"{name}: unknown encoding {encoding!r}; set encoding: auto, utf-8, utf-16 or cp1258"
        ) from None
    if codec == "utf-16" and utf16 in ("utf-16-le", "utf-16-be"):
        codec = utf16  # BOM-less UTF-16: Python's incremental 'utf-16' decoder insists on a BOM
    try:
        return _nfc_utf8(raw, codec), codec
    except _BadBytes as bad:
        likely = _likely_codec(raw, utf16)
        hint = "set encoding: auto" + (f" (the file looks like {likely})" if likely and likely != codec else "")
        raise FileFormatError(f"{name} is not valid {codec} text: {_where(raw, bad, codec)}; {hint}") from None


def _likely_codec(raw: bytes, utf16: str | None) -> str | None:
    """Name the encoding auto-detection would use, or None if it would fail."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if utf16:
        return utf16
    for codec in ("utf-8", "cp1258"):
        try:
            raw.decode(codec)
            return codec
        except UnicodeDecodeError:
            continue
    return None


def _where(raw: bytes, bad: _BadBytes, codec: str) -> str:
    """Describe a decode failure for a person: byte value, offset and line."""
    line = raw[: bad.offset].decode(codec, errors="replace").count("\n") + 1
    return f"byte 0x{bad.byte:02X} at offset {bad.offset} (line {line}) cannot be decoded"


def _nfc_utf8(raw: bytes, codec: str) -> bytes:
    """Decode ``raw`` strictly with ``codec`` and return it NFC-normalized as UTF-8.

    Returns ``raw`` itself (no copy) when it already is NFC UTF-8.  A BOM survives
    as a UTF-8 BOM; readers downstream decode with 'utf-8-sig'.  Raises _BadBytes.
    """
    utf8 = codecs.lookup(codec).name in ("utf-8", "utf-8-sig")
    if utf8 and (raw.isascii() or _is_nfc_utf8(raw, codec)):
        return raw
    out = io.BytesIO()
    for piece in _text_pieces(raw, codec):
        out.write(unicodedata.normalize("NFC", piece).encode("utf-8"))  # returns NFC input as is
    return out.getvalue()


def _is_nfc_utf8(raw: bytes, codec: str) -> bool:
    """Whether ``raw`` decodes strictly as UTF-8 and is NFC throughout (raises _BadBytes)."""
    return all(unicodedata.is_normalized("NFC", piece) for piece in _text_pieces(raw, codec))


def _text_pieces(raw: bytes, codec: str) -> Iterator[str]:
    """Decode ``raw`` incrementally; yield text pieces that each end at a line break.

    Cutting at line breaks keeps every base letter with its combining marks, so
    each piece can be NFC-normalized on its own.  Raises _BadBytes on bad input.
    """
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    view, carry = memoryview(raw), ""
    for start in range(0, len(raw), _CHUNK):
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(view[start : start + _CHUNK], final=start + _CHUNK >= len(raw))
        except UnicodeDecodeError as exc:
            raise _BadBytes(start - pending + exc.start, exc.object[exc.start], exc.reason) from None
        except UnicodeError as exc:  # e.g. "UTF-16 stream does not start with BOM"
            raise _BadBytes(start, raw[start], str(exc)) from None
        text = carry + text
        cut = max(text.rfind("\n"), text.rfind("\r")) + 1
        carry = text[cut:]
        if cut:
            yield text[:cut]
    if carry:
        yield carry


# --------------------------------------------------------------------------- CSV


def _read_csv_text(path: Path, data: bytes, encoding: str, delimiter: str) -> Table:
    """Parse NFC UTF-8 ``data`` into a Table (header from a sample, body fast or slow)."""
    sample, whole = _sample(data)
    delim = _choose_delimiter(path.name, sample, whole, delimiter)
    header, header_end = _find_header(path.name, data, delim)
    headers = _clean_headers(path.name, header)
    parsed = _parse_fast(data, delim, headers, header_end)
    if parsed is None:
        parsed = _parse_slow(path.name, data, delim, headers, header_end)
    frame, errors = parsed
    _check_header_fits(path.name, f"line {header_end}", headers, len(frame), errors)
    return Table(path, headers, frame, encoding, delim, errors)


def _sample(data: bytes, size: int = _SAMPLE) -> tuple[str, bool]:
    """Return (text of the first complete lines of ``data``, whether that is the whole file)."""
    while True:
        if size >= len(data):
            return data.decode("utf-8-sig"), True
        text = data[:size].decode("utf-8-sig", errors="ignore")
        cut = max(text.rfind("\n"), text.rfind("\r"))
        # at least two complete lines: the last record of a partial sample is not trusted, so a
        # sample holding only the header (a huge first row follows) would leave nothing to sniff
        if cut > 0 and text[:cut].strip() and ("\n" in text[:cut] or "\r" in text[:cut]):
            return text[: cut + 1], False
        size *= 4


def _records(text: str, whole: bool, delim: str, limit: int | None = None) -> Iterator[tuple[int, list[str]]]:
    """Yield (end line, fields) of the non-blank records in ``text``.

    The last record of a partial sample is left out: it may be cut short.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, quotechar='"', strict=False)
    previous: tuple[int, list[str]] | None = None
    count = 0
    for fields in reader:
        if not _is_blank(fields):
            if previous is not None:
                yield previous
                count += 1
                if limit is not None and count >= limit:
                    return
            previous = (reader.line_num, fields)
    if previous is not None and whole:
        yield previous


def _is_blank(fields: list[str]) -> bool:
    """Whether a record has no non-whitespace cell (blank line, or only delimiters)."""
    return not any(cell.strip() for cell in fields)


def _field_counts(text: str, whole: bool, delim: str) -> list[int]:
    """Field counts of the first non-blank records of the sample with ``delim``."""
    _raise_csv_limit()
    return [len(fields) for _, fields in _records(text, whole, delim, _SNIFF_RECORDS)]


def _choose_delimiter(name: str, sample: str, whole: bool, requested: str) -> str:
    """Return the delimiter: sniffed among DELIMITERS for 'auto', else the requested one (checked)."""
    counts = {d: _field_counts(sample, whole, d) for d in DELIMITERS}
    if _is_auto(requested):
        best = max(DELIMITERS, key=lambda d: _delimiter_score(counts[d]))
        if counts[best] and counts[best][0] < 2:
            _check_no_title_line(name, counts)
        return best
    delim = _delimiter_char(name, requested)
    mine = counts.get(delim) or _field_counts(sample, whole, delim)
    if mine and mine[0] == 1:
        others = [d for d in DELIMITERS if d != delim and counts[d] and counts[d][0] > 1]
        if others:
            best = max(others, key=lambda d: _delimiter_score(counts[d]))
            raise FileFormatError(
                f"{name}: the header has 1 column with delimiter {delim!r} but {counts[best][0]} "
                f"with {best!r}; set delimiter: {best!r}"
            )
    return delim


def _delimiter_score(counts: list[int]) -> tuple[int, float, int]:
    """Rank a candidate: header splits into >1 fields, share of rows agreeing, field count."""
    if not counts:
        return (0, 0.0, 0)
    header, rows = counts[0], counts[1:]
    if header < 2:
        return (0, -sum(c > 1 for c in rows) / max(len(rows), 1), 0)
    agreeing = sum(c == header for c in rows) / len(rows) if rows else 1.0
    return (1, agreeing, header)


def _check_no_title_line(name: str, counts: dict[str, list[int]]) -> None:
    """Raise if a 1-field first line sits above rows that agree on >1 fields (a title line)."""
    for delim, found in counts.items():
        rows = found[1:]
        if len(rows) < 2:
            continue
        width, agreeing = Counter(rows).most_common(1)[0]
        if width > 1 and agreeing >= 0.8 * len(rows):
            raise FileFormatError(
                f"{name}: the first line has 1 column but the lines after it have {width} "
                f"(delimiter {delim!r}); delete any title lines above the header row"
            )


def _check_header_fits(name: str, where: str, headers: list[str], rows: int, errors: list[RowError]) -> None:
    """Raise if a 1-column header sits above rows that are mostly wider (a title, not a header)."""
    total = rows + len(errors)
    if len(headers) == 1 and len(errors) >= 2 and len(errors) >= 0.8 * total:
        raise FileFormatError(
            f"{name}: the header {headers[0]!r} ({where}) has 1 column but {len(errors)} of {total} rows "
            "have more; delete any title rows above the header row, or check the delimiter"
        )


def _delimiter_char(name: str, requested: str) -> str:
    """Turn a configured delimiter ('\\t', 'tab', ';' ...) into one character."""
    aliases = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    delim = aliases.get(requested.lower(), requested) if requested.strip() else requested
    if len(delim) != 1 or delim in '"\r\n':
        raise FileFormatError(
            f"{name}: delimiter {requested!r} is not a single character; set delimiter: auto, ',', ';', '\\t' or '|'"
        )
    return delim


def _find_header(name: str, data: bytes, delim: str) -> tuple[list[str], int]:
    """Return (header fields, last physical line of the header record); raise if the file is empty."""
    size = _SAMPLE
    while True:
        text, whole = _sample(data, size)
        first = next(_records(text, whole, delim), None)
        if first is not None:
            end_line, fields = first
            return fields, end_line
        if whole:
            raise FileFormatError(f"{name} is empty (it has only blank lines); export the table again")
        size = max(size * 4, len(text.encode("utf-8")) * 4)


def _clean_headers(name: str, fields: list[str]) -> list[str]:
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


# ---- fast path: pandas C engine

_SKIPPED = re.compile(r"Skipping line (\d+): expected \d+ fields, saw \d+")


def _parse_fast(
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


_BREAKS = np.frompyfunc(lambda cell: cell.count("\n") + cell.count("\r") - cell.count("\r\n"), 1, 1)


def _inner_breaks(raw: pd.DataFrame) -> np.ndarray:
    """Number of line breaks inside each row's cells (CRLF, LF or lone CR count once)."""
    inner = np.zeros(len(raw), dtype="int64")
    for column in raw.columns:
        values = raw[column].to_numpy(dtype=object)
        joined = "".join(values)
        if "\n" in joined or "\r" in joined:
            inner += _BREAKS(values).astype("int64")
    return inner


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
    return _frame(headers, rows, lines), errors


def _physical_lines(data: bytes, numbers: list[int]) -> dict[int, str]:
    """Text (without line break) of the given 1-based physical lines."""
    wanted, found = set(numbers), {}
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

    def __iter__(self) -> "_LineTap":
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._taken.append(line)
        return line

    def take(self) -> list[str]:
        """Return and forget the lines read since the previous call."""
        taken, self._taken = self._taken, []
        return taken


def _parse_slow(
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
    return _frame(headers, rows, lines), errors


def _physical_records(name: str, data: bytes, delim: str) -> Iterator[tuple[int, list[str], list[str]]]:
    """Yield (start line, fields, physical lines) of every record, by csv-module rules.

    Raises FileFormatError (after the last record) if that record is a quoted
    field left open that swallowed the rest of the file.
    """
    _raise_csv_limit()
    tap = _LineTap(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""))
    reader = csv.reader(tap, delimiter=delim, quotechar='"', strict=False)
    start, taken = 1, []
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


def _raise_csv_limit() -> None:
    """Let the csv module read very large fields (its default limit is 128 KiB)."""
    if csv.field_size_limit() < 2**31 - 1:
        csv.field_size_limit(2**31 - 1)


def _frame(headers: list[str], rows: list[list[str]], lines: list[int]) -> pd.DataFrame:
    """Build the Table frame: one str column per header, then ``_line`` (int64)."""
    columns = list(zip(*rows)) if rows else [() for _ in headers]
    frame = pd.DataFrame({h: pd.Series(col, dtype=str) for h, col in zip(headers, columns)})
    frame[LINE_COLUMN] = pd.Series(lines, dtype="int64")
    return frame


# --------------------------------------------------------------------------- XLSX


def _read_xlsx(path: Path, head: bytes, date_format: str) -> Table:
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

    if not head.startswith(_ZIP):
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
    headers = _clean_headers(path.name, header_cells)
    width, kept, lines, errors = len(headers), [], [], []
    for number, cells in rows:
        if len(cells) > width:
            message = f"row {number} has {len(cells)} cells, the header has {width}"
            errors.append(RowError(number, message, "\t".join(cells)))
        else:
            kept.append(cells + [""] * (width - len(cells)))
            lines.append(number)
    _check_header_fits(path.name, f"row {header_row}", headers, len(kept), errors)
    return Table(path, headers, _frame(headers, kept, lines), "xlsx", None, errors)


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
