"""Strict dates under a declared format, plus a "bad" mask (missing is not bad); timezone-aware
timestamps become Vietnam wall-clock time, naive."""

from __future__ import annotations

import datetime as _dt
import functools
import re
from typing import Any

import numpy as np
import pandas as pd

from sangkien.text.display import _nfc_many, _nfc_text
from sangkien.text.series import _LINE, _NL, _chunks, _distinct, _flags, _units

#: Vietnam has used UTC+7 without daylight saving since 1975; timezone-aware
#: timestamps are converted to this wall-clock time and made naive.
VN_UTC_OFFSET = pd.Timedelta(hours=7)


_DT_UNIT = "datetime64[us]"
_PANDAS_SPECIAL_DATES = frozenset({"now", "today"})
# An offset only counts after a time of day ("2022-04-05" ends in "-05" too).
_ISO_TZ_RE = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|[+\-]\d{2}(?::?\d{2})?)$")


def _timestamp_to_naive_vn(ts: pd.Timestamp) -> pd.Timestamp:
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None) + VN_UTC_OFFSET
    return ts


def _to_naive_vn_array(parsed: pd.Series) -> np.ndarray:
    """A parsed datetime Series as naive Vietnam-time datetime64[us] values."""
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None) + VN_UTC_OFFSET
    return parsed.to_numpy(dtype=_DT_UNIT)


def _parse_strings(arr: np.ndarray, fmt: str, utc: bool) -> np.ndarray:
    """``pd.to_datetime`` with exact matching; NaT where not parseable."""
    kwargs: dict[str, Any] = {"format": fmt, "errors": "coerce", "utc": utc}
    if fmt != "ISO8601":
        kwargs["exact"] = True
    try:
        return _to_naive_vn_array(pd.to_datetime(pd.Series(arr, dtype=object), **kwargs))
    except (ValueError, TypeError, OverflowError):
        # e.g. an offset in a group thought to be naive ("Mixed timezones"):
        # fall back to one value at a time, which cannot mix.
        out = np.full(len(arr), np.datetime64("NaT"), dtype=_DT_UNIT)
        for i, t in enumerate(arr):
            try:
                one = pd.to_datetime(pd.Series([t], dtype=object), **kwargs)
                out[i] = _to_naive_vn_array(one)[0]
            except (ValueError, TypeError, OverflowError):
                pass
        return out


# strptime directives whose matches hold digits only (pandas allows one space before a
# one-digit %d); formats made of these and literal characters can be pre-screened.
_DIGIT_DIRECTIVES_RE = re.compile("%[dmYyHMS]")


@functools.lru_cache(maxsize=64)
def _foreign_chars(fmt: str) -> np.ndarray | None:
    """Table of the UTF-16 code units no text matching ``fmt`` can hold, if ``fmt`` allows telling
    (only digit directives, no whitespace, which strptime matches as any whitespace run)."""
    literal = _DIGIT_DIRECTIVES_RE.sub("", fmt)
    if "%" in literal or any(c.isspace() or ord(c) > 0xFFFF for c in literal):
        return None
    allowed = set(literal) | set("0123456789 +-")  # generous: signs, and the space of %d
    table = np.ones(0x10000, dtype=bool)
    table[[ord(c) for c in allowed]] = False
    return table


def _holding(texts: list[str], table: np.ndarray) -> np.ndarray:
    """Per text, whether it holds a character whose UTF-16 code unit ``table`` marks."""
    out = []
    for part, blob, holders in _chunks(texts):
        units = _units(blob + _LINE)  # every line, the last too, ends with _LINE: none is empty
        line_starts = np.concatenate(([0], np.flatnonzero(units == _NL)[:-1] + 1))
        flags = np.logical_or.reduceat(table[units] & (units != _NL), line_starts)
        for i in holders:
            flags[i] = table[_units(part[i])].any()
        out.append(flags)
    return np.concatenate(out) if out else np.zeros(0, dtype=bool)


def _iso_aware(texts: list[str]) -> np.ndarray:
    """Per text, whether ``_ISO_TZ_RE`` finds an offset; the regex runs only on texts ending in
    ``z``/``Z`` or with a sign among their last 6 characters (where an offset's sign must be)."""
    maybe = []
    for _, blob, holders in _chunks(texts):
        units = _units(blob + _LINE)
        ends = np.flatnonzero(units == _NL)  # each line's end
        firsts = np.concatenate(([0], ends[:-1] + 1))
        flagged = (units[ends - 1] | 0x20) == ord("z")  # z or Z (an empty line looks at a _LINE)
        for back in range(1, 7):
            at = ends - back
            flagged |= (at >= firsts) & ((units[at] == ord("+")) | (units[at] == ord("-")))
        flagged[holders] = True
        maybe.append(flagged)
    aware = np.zeros(len(texts), dtype=bool)
    for i in np.flatnonzero(np.concatenate(maybe) if maybe else aware).tolist():
        aware[i] = _ISO_TZ_RE.search(texts[i]) is not None
    return aware


def _strings_to_datetimes(texts: list[str], fmt: str) -> np.ndarray:
    """Parse strings strictly; NaT where not parseable. Returns datetime64[us]."""
    out = np.full(len(texts), np.datetime64("NaT"), dtype=_DT_UNIT)
    if not texts:
        return out
    arr = np.asarray(texts, dtype=object)
    if fmt.lower() == "iso":
        aware = _iso_aware(texts)
        groups = [(~aware, "ISO8601", False), (aware, "ISO8601", True)]
    else:
        foreign = _foreign_chars(fmt)
        # text holding a character the format can never match is NaT without asking strptime,
        # which is slow to fail (a change cursor like "2022-02-12T10:10:16" under "%d/%m/%Y")
        possible = ~_holding(texts, foreign) if foreign is not None else np.ones(len(texts), dtype=bool)
        groups = [(possible, fmt, "%z" in fmt or "%Z" in fmt)]
    for mask, f, utc in groups:
        if mask.any():
            out[mask] = _parse_strings(arr[mask], f, utc)
    return out


def parse_date_series(s: pd.Series, fmt: str, *, fallback: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Strictly parse dates/datetimes under a declared format; ``(values, bad_mask)``.

    ``fmt`` is a strptime format (``"%d/%m/%Y"``, ``"%Y-%m-%d %H:%M:%S"``, ...),
    matched exactly (after trimming surrounding whitespace), or ``"iso"`` for
    ISO 8601 dates/datetimes (``"2022-04-05"``, ``"2022-04-05T10:30:00"``,
    optionally with ``Z``/an offset).

    Promises:

    * ``values`` is ``datetime64[us]`` (pandas 3's default unit), timezone-naive,
      ``bad_mask`` is bool; both keep the input's index.
    * An ambiguous date is read as declared: ``"05/04/2022"`` under
      ``"%d/%m/%Y"`` is 5 April 2022.
    * A date that does not exist (``"31/02/2022"``), text in another format,
      ``"today"``/``"now"`` (*not* special, unlike plain pandas) and
      non-date cells (numbers, booleans) -> NaT with bad True.
    * Missing or blank -> NaT with bad False.
    * ``datetime``/``date``/``Timestamp``/``datetime64`` cells (e.g. from xlsx)
      are accepted as they are, whatever ``fmt`` says.
    * Timezone-aware values are converted to Vietnam time (UTC+7) and made
      naive, matching naive values, which are taken as Vietnam local time.
    * No range check: a typo like year 0202 parses (the caller rejects dates
      outside the program window).
    * ``fallback`` (a second format, e.g. ``"iso"``): text ``fmt`` refuses is
      read under it instead; the same as parsing the refused values again.
    """
    if not fmt:
        raise ValueError("parse_date_series: fmt must be a strptime format or 'iso'")
    if isinstance(s.dtype, (np.dtype, pd.DatetimeTZDtype)) and pd.api.types.is_datetime64_any_dtype(s.dtype):
        # already datetimes (e.g. read_excel): nothing to parse
        values = pd.Series(_to_naive_vn_array(s), index=s.index, name=s.name, copy=False)
        return values, pd.Series(np.zeros(len(s), dtype=bool), index=s.index, name=s.name, copy=False)
    codes, uniques = _distinct(s)
    n = len(uniques)
    vals = np.full(n + 1, np.datetime64("NaT"), dtype=_DT_UNIT)  # last: code -1
    bad = np.zeros(n + 1, dtype=bool)
    try:
        str_pos, str_vals = _date_texts(uniques, bad)
    except TypeError:  # not all strings (e.g. datetime cells from xlsx)
        str_pos, str_vals = _date_cells(uniques, vals, bad)
    for f in (fmt, fallback):
        if str_vals and f:
            parsed = _strings_to_datetimes(str_vals, f)
            pos = np.asarray(str_pos, dtype=np.intp)
            vals[pos] = parsed
            refused = np.isnat(parsed)
            bad[pos] = refused
            str_pos = pos[refused].tolist()  # what the fallback, if any, gets to read
            str_vals = np.asarray(str_vals, dtype=object)[refused].tolist()
    rows = slice(0, n) if codes is None else codes  # None: one value per row
    return (
        pd.Series(vals[rows], index=s.index, name=s.name, copy=False),
        pd.Series(bad[rows], index=s.index, name=s.name, copy=False),
    )


def _date_texts(texts: list[str], bad: np.ndarray) -> tuple[list[int], list[str]]:
    """Positions and NFC text of the texts to parse; marks "today"/"now" bad (blanks are skipped).

    TypeError (before anything is marked) when some value is not a string.
    """
    texts = _nfc_many(texts)
    special = _flags(_PANDAS_SPECIAL_DATES.__contains__, texts)
    bad[np.flatnonzero(special)] = True  # pandas would read these as the current time
    pos = np.flatnonzero(_flags(bool, texts) & ~special)
    return pos.tolist(), np.asarray(texts, dtype=object)[pos].tolist()


def _date_cells(cells: list[Any], vals: np.ndarray, bad: np.ndarray) -> tuple[list[int], list[str]]:
    """Like :func:`_date_texts` for mixed cells: datetime-like cells go to ``vals``, others are bad."""
    str_pos: list[int] = []
    str_vals: list[str] = []
    for i, u in enumerate(cells):
        if isinstance(u, str):
            t = _nfc_text(u)
            if not t:
                continue  # blank: missing, not bad
            if t in _PANDAS_SPECIAL_DATES:
                bad[i] = True  # pandas would read these as the current time
                continue
            str_pos.append(i)
            str_vals.append(t)
        elif isinstance(u, (_dt.date, np.datetime64)):  # datetime, Timestamp, date
            try:
                vals[i] = _timestamp_to_naive_vn(pd.Timestamp(u)).as_unit("us").to_datetime64()
            except (ValueError, OverflowError):
                bad[i] = True
        else:
            bad[i] = True
    return str_pos, str_vals


