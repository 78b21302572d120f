"""A CSV export's dialect: its delimiter (sniffed or configured) and where its header record ends."""

from __future__ import annotations

import csv
import io
import itertools
from collections import Counter
from collections.abc import Iterator

from connectors.tabular.table import ANY_HEADER, HEADER_SEARCH, FileFormatError, HeaderRule, is_auto, pick_header

DELIMITERS = (",", ";", "\t", "|")
_SAMPLE = 1 << 16           # bytes looked at to find the header and delimiter


_SNIFF_RECORDS = 200        # records looked at to choose the delimiter


def head_sample(data: bytes, size: int = _SAMPLE) -> tuple[str, bool]:
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


def _field_counts(text: str, whole: bool, delim: str) -> tuple[list[int], int, int]:
    """Field counts of the first non-blank records of the sample with ``delim`` from the header on, how many
    title records above the header were left out (see pick_header), and the first record's field count."""
    raise_csv_limit()
    records = list(_records(text, whole, delim, _SNIFF_RECORDS))
    start = pick_header("", records[:HEADER_SEARCH], ANY_HEADER) if records else 0
    return [len(fields) for _, fields in records[start:]], start, len(records[0][1]) if records else 0


def choose_delimiter(name: str, sample: str, whole: bool, requested: str) -> str:
    """Return the delimiter: sniffed among DELIMITERS for 'auto', else the requested one (checked)."""
    found = {d: _field_counts(sample, whole, d) for d in DELIMITERS}
    counts = {d: found[d][0] for d in DELIMITERS}
    if is_auto(requested):
        # fewer title rows to skip first: a header cut by the wrong delimiter looks like a title
        best = max(DELIMITERS, key=lambda d: _delimiter_score(counts[d], found[d][1]))
        if counts[best] and counts[best][0] < 2:
            _check_no_title_line(name, counts)
        return best
    delim = _delimiter_char(name, requested)
    mine, skipped, first = found.get(delim) or _field_counts(sample, whole, delim)
    if mine and (mine[0] == 1 or skipped):
        # a header the wrong delimiter cannot split, while another splits it with no title row to skip
        others = [d for d in DELIMITERS if d != delim and counts[d] and counts[d][0] > 1
                  and (mine[0] == 1 or found[d][1] < skipped)]
        if others:
            best = max(others, key=lambda d: _delimiter_score(counts[d], found[d][1]))
            raise FileFormatError(
                f"{name}: the header has {first} column{'' if first == 1 else 's'} with delimiter {delim!r} but "
                f"{counts[best][0]} with {best!r}; set delimiter: {best!r}"
            )
    return delim


def _delimiter_score(counts: list[int], skipped: int = 0) -> tuple[int, int, float, int]:
    """Rank a candidate: header splits into >1 fields, fewer title rows skipped, share of rows agreeing,
    field count."""
    if not counts:
        return (0, 0, 0.0, 0)
    header, rows = counts[0], counts[1:]
    if header < 2:
        return (0, -skipped, -sum(c > 1 for c in rows) / max(len(rows), 1), 0)
    agreeing = sum(c == header for c in rows) / len(rows) if rows else 1.0
    return (1, -skipped, agreeing, header)


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


def _delimiter_char(name: str, requested: str) -> str:
    """Turn a configured delimiter ('\\t', 'tab', ';' ...) into one character."""
    aliases = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    delim = aliases.get(requested.lower(), requested) if requested.strip() else requested
    if len(delim) != 1 or delim in '"\r\n':
        raise FileFormatError(
            f"{name}: delimiter {requested!r} is not a single character; set delimiter: auto, ',', ';', '\\t' or '|'"
        )
    return delim


def find_header(name: str, data: bytes, delim: str, rule: HeaderRule = ANY_HEADER) -> tuple[list[str], int]:
    """Return (header fields, last physical line of the header record); raise if the file is empty.

    The header is picked among the first non-blank records by ``rule`` (pick_header): the lines above it
    (titles, blank lines) are not part of the table.
    """
    size = _SAMPLE
    wanted = max(HEADER_SEARCH, rule.row or 0)
    while True:
        text, whole = head_sample(data, size)
        records = list(itertools.islice(_records(text, whole, delim), wanted))
        if records and (whole or len(records) >= wanted):
            end_line, fields = records[pick_header(name, records, rule)]
            return fields, end_line
        if whole:
            raise FileFormatError(f"{name} is empty (it has only blank lines); export the table again")
        size = max(size * 4, len(text.encode("utf-8")) * 4)


def raise_csv_limit() -> None:
    """Let the csv module read very large fields (its default limit is 128 KiB)."""
    if csv.field_size_limit() < 2**31 - 1:
        csv.field_size_limit(2**31 - 1)
