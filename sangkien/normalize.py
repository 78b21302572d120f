"""Text, name, number and date normalization for initiative records.

Pure functions: no I/O; the only module state is compiled patterns, a lazily
built character table and a bounded word-folding memo (results never depend
on it). Every ``*_series`` function is built for 2,000,000-row
batches: the expensive Python work is done once per *distinct* value
(``pandas.factorize``) and the results are spread back with a single vectorized
``take``. All series functions keep the input's index and name.

Missing values are ``None``, ``float('nan')``, ``pandas.NA`` and ``pandas.NaT``
(whatever ``pandas.isna`` recognizes).

Promises, in short:

* :func:`nfc` / :func:`nfc_series` -- the display form: Unicode NFC, control
  and zero-width characters removed, whitespace runs collapsed to one space,
  ends stripped. Missing stays missing.
* :func:`fold` / :func:`fold_series` -- the *matching* form: no diacritics,
  ``đ``/``Đ`` (and the look-alikes ``Ð``/``ð``) become ``d``, case-folded, every
  run of non-letter/non-digit characters becomes one space. ``"Hoà Bình"``,
  ``"Hòa Bình"``, ``"HOA BINH"`` and ``"hoa-binh"`` all fold to ``"hoa binh"``.
* :func:`name_key` / :func:`author_keys_series` -- order-insensitive person keys.
* :func:`parse_vn_number_series` -- Vietnamese-formatted amounts to floats plus
  a "bad" mask (missing is *not* bad).
* :func:`parse_date_series` -- strict dates under a declared format plus a
  "bad" mask (missing is *not* bad).
* :func:`strip_markup` / :func:`strip_markup_series` -- HTML removed, then NFC.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import decimal
import functools
import gc
import html
import math
import numbers
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any, overload

import numpy as np
import pandas as pd

__all__ = [
    "nfc",
    "nfc_series",
    "fold",
    "fold_series",
    "name_key",
    "name_key_series",
    "split_authors",
    "author_keys_series",
    "parse_vn_number",
    "parse_vn_number_series",
    "parse_date_series",
    "strip_markup",
    "strip_markup_series",
    "VN_UTC_OFFSET",
    "STR_DTYPE",
]

#: The dtype of text results: pandas' default string dtype (``str``, NaN for
#: missing, on pandas 3; ``object`` on pandas 2 without ``future.infer_string``).
STR_DTYPE = pd.Series(["x"]).dtype

#: Vietnam has used UTC+7 without daylight saving since 1975; timezone-aware
#: timestamps are converted to this wall-clock time and made naive.
VN_UTC_OFFSET = pd.Timedelta(hours=7)

# --------------------------------------------------------------------------
# internal helpers
# --------------------------------------------------------------------------

# Characters deleted by nfc(): C0 controls other than the whitespace ones
# (\t \n \v \f \r become spaces), DEL, C1 controls other than NEL (U+0085,
# a line break), soft hyphen, zero-width space/non-joiner/joiner, LRM/RLM and
# the other bidi controls, word joiner and invisible operators, BOM.
_CTRL_RE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff]"
)
_NON_ALNUM_RE = re.compile(r"[\W_]+")


def _is_missing(value: Any) -> bool:
    """True for None / NaN / NA / NaT (scalar only)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # list-likes are never "missing" scalars
        return False


@functools.cache
def _mark_re() -> re.Pattern[str]:
    """Regex matching every combining mark (category M*) and format char (Cf).

    Built once, lazily (scanning the code space takes ~0.15 s).
    """
    cps = [
        cp
        for cp in range(sys.maxunicode + 1)
        if unicodedata.category(chr(cp))[0] == "M" or unicodedata.category(chr(cp)) == "Cf"
    ]
    ranges: list[tuple[int, int]] = []
    for cp in cps:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    parts = [
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    ]
    return re.compile("[" + "".join(parts) + "]+")


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while allocating many containers.

    Creating millions of lists triggers repeated full collections (about 7x
    slower here); the lists cannot form cycles, so nothing is lost. Restores
    the previous state.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _factorize(s: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Codes (-1 for missing) and the distinct non-missing values of ``s``."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.intp), list(uniques)


def _str_series_per_unique(
    s: pd.Series, func: Callable[[Any], str | None], missing: str | None = None
) -> pd.Series:
    """Apply ``func`` once per distinct non-missing value; result dtype ``STR_DTYPE``.

    Missing inputs give ``missing`` (None: stay missing); ``func`` may also
    return None for missing.
    """
    codes, uniques = _factorize(s)
    results = [func(u) for u in uniques]
    if missing is None:
        arr = pd.array(results, dtype=STR_DTYPE).take(codes, allow_fill=True)
    else:
        results.append(missing)
        arr = pd.array(results, dtype=STR_DTYPE).take(np.where(codes < 0, len(results) - 1, codes))
    return pd.Series(arr, index=s.index, name=s.name, copy=False)


def _as_text(value: Any) -> str:
    """A non-missing cell value as text (non-strings via ``str()``)."""
    return value if isinstance(value, str) else str(value)


# --------------------------------------------------------------------------
# NFC / display form
# --------------------------------------------------------------------------


def _nfc_text(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if text.isprintable():  # fast path: no controls, no whitespace but " "
        if "  " in text:
            return " ".join(text.split())
        return text.strip(" ")
    # str.split() splits on exactly the characters str.isspace() accepts.
    return " ".join(_CTRL_RE.sub("", text).split())


@overload
def nfc(text: str) -> str: ...
@overload
def nfc(text: None) -> None: ...
def nfc(text: str | None) -> str | None:
    """Return the display form of ``text``.

    Promises: Unicode NFC (so precomposed and decomposed input compare equal);
    C0/C1 control characters, DEL, zero-width characters and the BOM removed;
    every whitespace run (including tabs, newlines, NBSP) replaced by a single
    space; leading/trailing whitespace stripped. Case and diacritics are kept.
    A missing value (None/NaN) is returned as None. Non-string values are
    converted with ``str()`` first. A blank input gives ``""``.
    """
    if _is_missing(text):
        return None
    return _nfc_text(_as_text(text))


def nfc_series(s: pd.Series) -> pd.Series:
    """Vectorized :func:`nfc`: a ``str``-dtype Series, missing stays missing.

    Same index and name as ``s``; work is done once per distinct value.
    """
    return _str_series_per_unique(s, lambda v: _nfc_text(_as_text(v)))


# --------------------------------------------------------------------------
# folding / matching form
# --------------------------------------------------------------------------


def _fold_token(token: str) -> str:
    """Fold one whitespace-free token (uncached)."""
    token = token.casefold()
    if token.isascii():
        if token.isalnum():
            return token
    else:
        token = unicodedata.normalize("NFD", token)
        token = _mark_re().sub("", token)
        # casefold maps Đ->đ and Ð->ð; both are the Vietnamese d.
        token = token.replace("đ", "d").replace("ð", "d")
    return " ".join(_NON_ALNUM_RE.sub(" ", token).split())


class _Memo(dict[str, str]):
    """Memo ``str -> str`` of a pure function, holding at most ``limit`` entries.

    Text in this domain repeats at the word and name level (a few thousand
    distinct Vietnamese syllables; each person's name on many records), so
    memoizing the per-word / per-name work makes even all-distinct columns
    cheap. Results are identical to calling ``func``. Once full, new keys are
    computed but not stored (the early, frequent keys stay).
    """

    __slots__ = ("func", "limit")

    def __init__(self, func: Callable[[str], str], limit: int) -> None:
        super().__init__()
        self.func = func
        self.limit = limit

    def __missing__(self, key: str) -> str:
        value = self.func(key)
        if len(self) < self.limit:
            self[key] = value
        return value


#: Bound of a word memo. The frequent words (syllables) come early; unique
#: words (numbers, codes) past the bound are folded without being stored,
#: which keeps the memo cache-friendly (measured faster than unbounded).
_TOKEN_MEMO_LIMIT = 100_000


def _token_memo(limit: int = _TOKEN_MEMO_LIMIT) -> _Memo:
    """token (no whitespace) -> folded token. Folding is context-free per
    whitespace-separated token, so folding token by token gives the result of
    folding the whole text."""
    return _Memo(_fold_token, limit)


#: Shared, small memo for the scalar functions (fold, name_key, vocab lookups).
_SHARED_TOKENS = _token_memo()


def _fold_text(text: str, tokens: _Memo) -> str:
    folded = " ".join(map(tokens.__getitem__, text.split()))
    if "  " in folded or folded[:1] == " " or folded[-1:] == " ":
        folded = " ".join(folded.split())  # a token folded to nothing
    return folded


@overload
def fold(text: str) -> str: ...
@overload
def fold(text: None) -> None: ...
def fold(text: str | None) -> str | None:
    """Return the matching form of ``text``.

    Promises: NFD then all combining marks (and invisible format characters)
    dropped; ``đ``/``Đ`` and the look-alikes ``ð`` (U+00F0) / ``Ð`` (U+00D0)
    mapped to ``d``; case-folded; every run of characters that are not a
    letter or digit (punctuation, ``_``, whitespace, controls) replaced by one
    space; ends stripped. The result contains only lowercase letters, digits
    and single spaces. ``"Hoà Bình"``, ``"Hòa Bình"``, ``"HOA BINH"``,
    ``"hoa-binh"`` -> ``"hoa binh"``; ``"Đắk Lắk"`` -> ``"dak lak"``.
    Missing -> None; non-strings go through ``str()``. Idempotent.
    """
    if _is_missing(text):
        return None
    return _fold_text(_as_text(text), _SHARED_TOKENS)


def fold_series(s: pd.Series) -> pd.Series:
    """Vectorized :func:`fold`: a ``str``-dtype Series, missing stays missing."""
    tokens = _token_memo()
    return _str_series_per_unique(s, lambda v: _fold_text(_as_text(v), tokens))


# --------------------------------------------------------------------------
# names and authors
# --------------------------------------------------------------------------


def _name_key_text(name: str, tokens: _Memo) -> str:
    # re-split: a token like "an-binh" folds to two words, "-" to none
    words = " ".join(map(tokens.__getitem__, name.split())).split()
    words.sort()
    return " ".join(words)


def name_key(name: str | None) -> str:
    """Order-insensitive key of a person's name.

    Promises: the folded tokens of ``name`` sorted and joined by one space, so
    ``"Nguyễn Văn An"``, ``"An Nguyễn Văn"`` and ``"NGUYEN VAN AN"`` share a
    key. Missing or blank -> ``""``.
    """
    if _is_missing(name):
        return ""
    return _name_key_text(_as_text(name), _SHARED_TOKENS)


def name_key_series(s: pd.Series) -> pd.Series:
    """Vectorized :func:`name_key` (``str`` dtype; missing -> ``""``)."""
    tokens = _token_memo()
    return _str_series_per_unique(s, lambda v: _name_key_text(_as_text(v), tokens), missing="")


def split_authors(s: pd.Series, sep: str) -> pd.Series:
    """Split an author-list column into lists of names.

    Promises: an object Series of ``list[str]`` (a fresh list per row, safe to
    mutate), each name in :func:`nfc` form, empty pieces removed, source order
    kept (duplicates are *not* removed here). The raw text is split on ``sep``
    before whitespace is collapsed, so ``sep="\\n"`` works. Missing or blank
    cells give ``[]``.
    """
    if not sep:
        raise ValueError("split_authors: sep must be a non-empty string")
    codes, uniques = _factorize(s)
    with _gc_paused():  # millions of new lists would trigger full collections
        per_unique: list[list[str]] = [
            [p for p in map(_nfc_text, _as_text(u).split(sep)) if p] for u in uniques
        ]
        per_unique.append([])  # code -1 (missing) picks this one
        rows = [per_unique[c].copy() for c in codes.tolist()]
    return pd.Series(rows, index=s.index, name=s.name, dtype=object)


def author_keys_series(s: pd.Series, sep: str) -> pd.Series:
    """Order-insensitive key of each row's author set.

    Promises: for each row, the :func:`name_key` of every author (split on
    ``sep``), de-duplicated, sorted and joined by ``"|"``; so the same people
    listed in another order, case, word order or without diacritics give the
    same string. ``str`` dtype; rows with no authors (missing/blank) give
    ``""``.
    """
    if not sep:
        raise ValueError("author_keys_series: sep must be a non-empty string")
    fold_word = _token_memo().__getitem__

    def keys_of(value: Any) -> str:
        # _name_key_text inlined: this loop runs once per distinct author list
        keys: set[str] = set()
        for piece in _as_text(value).split(sep):
            words = " ".join(map(fold_word, piece.split())).split()
            if words:
                words.sort()
                keys.add(" ".join(words))
        return "|".join(sorted(keys))

    return _str_series_per_unique(s, keys_of, missing="")


# --------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------

# Currency marks allowed after the number (checked on the casefolded NFC text).
_CURRENCY_SUFFIX_RE = re.compile(r"\s*(?:vnđ|vnd|vnð|đồng|dong|đ|ð|d|₫)\.?$")
_SIGN_RE = re.compile(r"^([+\-\u2212])\s*")
_INT_RE = re.compile(r"[0-9]+")
_DOT_THOUSANDS_RE = re.compile(r"[1-9][0-9]{0,2}(?:\.[0-9]{3})+(?:,[0-9]+)?")  # 1.500.000,5
_SPACE_THOUSANDS_RE = re.compile(r"[1-9][0-9]{0,2}(?: [0-9]{3})+(?:,[0-9]+)?")  # 1 500 000,5
_COMMA_THOUSANDS_RE = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3})+")  # 1,500,000
_COMMA_DECIMAL_RE = re.compile(r"[0-9]+,[0-9]+")  # 2,5
_DOT_DECIMAL_RE = re.compile(r"[0-9]+\.[0-9]+")  # 12.5 (not 3 digits after the dot)

_BAD = (math.nan, True)
_MISSING = (math.nan, False)


def _parse_number_text(text: str) -> tuple[float, bool]:
    t = text.strip()
    # fast paths for the two most common spellings: "1500000", "1.500.000"
    if t.isdigit() and t.isascii():
        return (float(t), False)
    if _DOT_THOUSANDS_RE.fullmatch(t):
        return (float(t.replace(".", "").replace(",", ".")), False)
    t = _nfc_text(t).casefold()
    if not t:
        return _MISSING
    t = _CURRENCY_SUFFIX_RE.sub("", t)
    sign = 1.0
    m = _SIGN_RE.match(t)
    if m:
        if m.group(1) != "+":
            sign = -1.0
        t = t[m.end():]
    if not t:
        return _BAD
    if _INT_RE.fullmatch(t):
        body = t
    elif _DOT_THOUSANDS_RE.fullmatch(t):
        body = t.replace(".", "").replace(",", ".")
    elif _SPACE_THOUSANDS_RE.fullmatch(t):
        body = t.replace(" ", "").replace(",", ".")
    elif _COMMA_THOUSANDS_RE.fullmatch(t):
        body = t.replace(",", "")
    elif _COMMA_DECIMAL_RE.fullmatch(t):
        body = t.replace(",", ".")
    elif _DOT_DECIMAL_RE.fullmatch(t):
        body = t
    else:
        return _BAD
    return (sign * float(body), False)


def _parse_number_value(value: Any) -> tuple[float, bool]:
    if isinstance(value, str):
        return _parse_number_text(value)
    if isinstance(value, (bool, np.bool_)):
        return _BAD
    if isinstance(value, (numbers.Real, decimal.Decimal)):  # SQL NUMERIC -> Decimal
        f = float(value)
        return (f, False) if math.isfinite(f) else _BAD
    return _BAD


def parse_vn_number(value: Any) -> tuple[float, bool]:
    """Parse one Vietnamese-formatted number; returns ``(value, bad)``.

    See :func:`parse_vn_number_series` for the accepted forms.
    """
    if _is_missing(value):
        return _MISSING
    return _parse_number_value(value)


def parse_vn_number_series(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse Vietnamese-formatted numbers; returns ``(values, bad_mask)``.

    Accepted (after trimming, an optional leading ``+``/``-``, and an optional
    currency suffix ``đ``, ``VNĐ``/``VND``, ``đồng``, ``₫``, any case):

    * digits only: ``"1500000"``;
    * dots as thousands separators (groups of exactly 3 digits), optional
      decimal comma: ``"1.500.000"`` -> 1500000, ``"2.500,5"`` -> 2500.5;
      a single dot followed by exactly 3 digits is thousands (``"1.500"`` ->
      1500, the Vietnamese reading);
    * spaces (incl. NBSP) as thousands separators: ``"1 500 000"``;
    * commas as thousands separators only when there is no dot and every group
      after the first has exactly 3 digits: ``"1,500,000"`` -> 1500000,
      otherwise a comma is the decimal mark: ``"2,5"`` -> 2.5;
    * a single dot followed by other than 3 digits is a decimal point
      (``"12.5"``, ``"1500000.0"``), for machine-written values;
    * numeric cells (int, float, numpy numbers, ``Decimal``) are taken as
      they are.

    Promises: ``values`` is float64, ``bad_mask`` is bool, both with the input's
    index. Missing or blank -> NaN with bad False. Anything else that is not a
    number in these forms (``"1,5 tỷ"``, ``"abc"``, ``"1.5.0,0,1"``,
    ``"1,500,000.50"``, booleans, infinities) -> NaN with bad True. Negative
    numbers are returned negative (range checks belong to the caller).
    """
    codes, uniques = _factorize(s)
    parsed = [_parse_number_value(u) for u in uniques]
    parsed.append(_MISSING)  # code -1
    vals = np.fromiter((p[0] for p in parsed), dtype=np.float64, count=len(parsed))
    bad = np.fromiter((p[1] for p in parsed), dtype=np.bool_, count=len(parsed))
    return (
        pd.Series(vals[codes], index=s.index, name=s.name, copy=False),
        pd.Series(bad[codes], index=s.index, name=s.name, copy=False),
    )


# --------------------------------------------------------------------------
# dates
# --------------------------------------------------------------------------

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


def _strings_to_datetimes(texts: list[str], fmt: str) -> np.ndarray:
    """Parse strings strictly; NaT where not parseable. Returns datetime64[us]."""
    out = np.full(len(texts), np.datetime64("NaT"), dtype=_DT_UNIT)
    if not texts:
        return out
    arr = np.asarray(texts, dtype=object)
    if fmt.lower() == "iso":
        aware = np.fromiter((bool(_ISO_TZ_RE.search(t)) for t in texts), dtype=bool, count=len(texts))
        groups = [(~aware, "ISO8601", False), (aware, "ISO8601", True)]
    else:
        groups = [(np.ones(len(texts), dtype=bool), fmt, "%z" in fmt or "%Z" in fmt)]
    for mask, f, utc in groups:
        if mask.any():
            out[mask] = _parse_strings(arr[mask], f, utc)
    return out


def parse_date_series(s: pd.Series, fmt: str) -> tuple[pd.Series, pd.Series]:
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
    """
    if not fmt:
        raise ValueError("parse_date_series: fmt must be a strptime format or 'iso'")
    if isinstance(s.dtype, (np.dtype, pd.DatetimeTZDtype)) and pd.api.types.is_datetime64_any_dtype(s.dtype):
        # already datetimes (e.g. read_excel): nothing to parse
        values = pd.Series(_to_naive_vn_array(s), index=s.index, name=s.name, copy=False)
        return values, pd.Series(np.zeros(len(s), dtype=bool), index=s.index, name=s.name, copy=False)
    codes, uniques = _factorize(s)
    n = len(uniques)
    vals = np.full(n + 1, np.datetime64("NaT"), dtype=_DT_UNIT)  # last: code -1
    bad = np.zeros(n + 1, dtype=bool)
    str_pos: list[int] = []
    str_vals: list[str] = []
    for i, u in enumerate(uniques):
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
    if str_vals:
        parsed = _strings_to_datetimes(str_vals, fmt)
        pos = np.asarray(str_pos, dtype=np.intp)
        vals[pos] = parsed
        bad[pos] = np.isnat(parsed)
    return (
        pd.Series(vals[codes], index=s.index, name=s.name, copy=False),
        pd.Series(bad[codes], index=s.index, name=s.name, copy=False),
    )


# --------------------------------------------------------------------------
# markup
# --------------------------------------------------------------------------

_SCRIPT_RE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT_RE = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_BLOCK_TAG_RE = re.compile(
    r"</?(?:br|p|div|li|ul|ol|tr|td|th|table|thead|tbody|h[1-6]|hr|blockquote"
    r"|section|article|header|footer|pre|dd|dt|dl)\b[^<>]*>",
    re.IGNORECASE,
)
_TAG_RE = re.compile(r"<[/!?A-Za-z][^<>]*>")  # <b>, </b>, <!DOCTYPE ...>, <?xml ...>


def _strip_markup_text(text: str) -> str:
    if "<" in text:
        if "<s" in text or "<S" in text:  # cheap pre-checks skip rare patterns
            text = _SCRIPT_RE.sub(" ", text)
        if "<!" in text:
            text = _COMMENT_RE.sub(" ", text)
        text = _BLOCK_TAG_RE.sub(" ", text)
        text = _TAG_RE.sub("", text)
    if "&" in text:
        text = text.replace("&nbsp;", " ")  # the common entity, without a regex
        if "&" in text:
            text = html.unescape(text)
    return _nfc_text(text)


@overload
def strip_markup(text: str) -> str: ...
@overload
def strip_markup(text: None) -> None: ...
def strip_markup(text: str | None) -> str | None:
    """Remove HTML markup and control characters, then :func:`nfc`.

    Promises: ``<script>``/``<style>`` elements and comments removed with
    their content; block-level tags (``<br>``, ``<p>``, ``<div>``, ``<li>``,
    table cells, ...) become a space so words on either side stay apart;
    other tags (``<b>``, ``<span ...>``) are removed without a space; HTML
    entities (``&amp;``, ``&nbsp;``, ``&#7843;``) are decoded *after* tag
    removal, so an escaped ``&lt;b&gt;`` survives as the text ``<b>``. A
    ``<`` that does not start a tag (``"a < b"``) is kept. Control characters
    are removed except that tab/newline/CR/VT/FF become spaces (so lines do not
    run together), then the :func:`nfc` guarantees apply. Missing -> None.
    """
    if _is_missing(text):
        return None
    return _strip_markup_text(_as_text(text))


def strip_markup_series(s: pd.Series) -> pd.Series:
    """Vectorized :func:`strip_markup`: ``str`` dtype, missing stays missing."""
    return _str_series_per_unique(s, lambda v: _strip_markup_text(_as_text(v)))
