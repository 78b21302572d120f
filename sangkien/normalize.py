"""Text, name, number and date normalization for initiative records.

Pure functions: no I/O; the only module state is compiled patterns, lazily
built character tables and a bounded word-folding memo (results never depend
on them). Every ``*_series`` function is built for 2,000,000-row batches: the
values are worked on all at once -- joined into one text for C-level string
methods and numpy table lookups (see "many values at once") -- once per
*distinct* value where values repeat (``pandas.factorize``, results spread back
with one ``take``). Values those bulk paths cannot vouch for take the
one-value functions, so results are exactly the scalar functions'. All series
functions keep the input's index and name.

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
* :func:`authors_json_series` -- each row's :func:`split_authors` list as JSON text.
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
import itertools
import json
import math
import numbers
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, overload

import numpy as np
import pandas as pd

__all__ = [
    "nfc",
    "nfc_series",
    "fold",
    "fold_series",
    "nfc_and_fold_series",
    "name_key",
    "name_key_series",
    "split_authors",
    "author_keys_series",
    "authors_json_series",
    "author_keys_and_json_series",
    "parse_vn_number",
    "parse_vn_number_series",
    "parse_date_series",
    "strip_markup",
    "strip_markup_series",
    "VN_UTC_OFFSET",
    "STR_DTYPE",
]

_T = TypeVar("_T")

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


def _distinct(s: pd.Series) -> tuple[np.ndarray | None, list[Any]]:
    """Codes (-1 for missing; None: one value per row) and the values to work on once each.

    The values are the distinct non-missing ones; but when a sample shows that nearly every
    value is distinct (titles, change timestamps), hashing them all costs more than it saves, so
    the non-missing values are returned as they are (repeats are then computed again, with the
    same result: every function using this is pure).
    """
    if len(s) >= 2 * _DEDUPE_SAMPLE and _mostly_distinct(s.iloc[:_DEDUPE_SAMPLE]):
        values = s.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(values, skipna=False) == "string":  # cheaper than isna: stops early
            return None, values.tolist()
        missing = pd.isna(values)
        return np.where(missing, -1, np.cumsum(~missing) - 1), values[~missing].tolist()
    return _factorize(s)


def _mostly_distinct(sample: pd.Series) -> bool:
    return len(pd.unique(sample)) > 0.9 * len(sample)


def _spread(results: list[Any], codes: np.ndarray | None, s: pd.Series, missing: str | None) -> pd.Series:
    """A ``STR_DTYPE`` Series like ``s`` holding ``results[code]`` per row (``missing`` where code is -1)."""
    if codes is None:
        arr = pd.array(results, dtype=STR_DTYPE)
    elif missing is None:
        arr = pd.array(results, dtype=STR_DTYPE).take(codes, allow_fill=True)
    else:
        results.append(missing)
        arr = pd.array(results, dtype=STR_DTYPE).take(np.where(codes < 0, len(results) - 1, codes))
    return pd.Series(arr, index=s.index, name=s.name, copy=False)


def _str_series(s: pd.Series, many: Callable[[list[str]], list[str]], missing: str | None = None) -> pd.Series:
    """Apply ``many`` (texts -> one result each) to the values of ``s``; result dtype ``STR_DTYPE``.

    Non-string values are converted with ``str()`` first. Missing inputs give ``missing``
    (None: stay missing).
    """
    codes, values = _distinct(s)
    return _spread(_on_texts(many, values), codes, s, missing)


def _as_text(value: Any) -> str:
    """A non-missing cell value as text (non-strings via ``str()``)."""
    return value if isinstance(value, str) else str(value)


def _on_texts(many: Callable[[list[str]], _T], values: list[Any]) -> _T:
    """``many(values)``, the values first turned into text if some are not strings.

    The bulk functions fail fast with TypeError on a non-string (``str`` methods refuse
    it), so strings, the usual case, are not checked one by one beforehand.
    """
    try:
        return many(values)
    except TypeError:
        return many([_as_text(v) for v in values])


# --------------------------------------------------------------------------
# many values at once
# --------------------------------------------------------------------------
# Calling a Python function per value costs microseconds; calling a C method per value
# (``map(str.isprintable, texts)``) or working on all values joined into one blob costs
# nanoseconds. The helpers below do the latter and fall back to the one-value functions
# for the rare values that need them, so results are exactly those of the scalar functions.

#: Joins values into one blob; a value containing it takes the one-value path.
_LINE = "\n"
_NL, _SPACE = ord(_LINE), ord(" ")
#: Values per blob: small enough for the blob and its numpy temporaries to stay in the CPU
#: cache (measured faster than larger chunks), large enough to amortize the per-chunk calls.
_CHUNK_VALUES = 10_000
#: Rows sampled to decide whether deduplicating a column pays (see ``_distinct``).
_DEDUPE_SAMPLE = 5_000


def _chunks(texts: list[str]) -> Iterator[tuple[list[str], str, list[int]]]:
    """``(part, blob, holders)`` for each chunk of ``texts``: the part's texts joined by ``_LINE``,
    with a blank line standing for each text that holds ``_LINE`` itself (their numbers in ``holders``)."""
    for start in range(0, len(texts), _CHUNK_VALUES):
        part = texts[start:start + _CHUNK_VALUES]
        blob = _LINE.join(part)
        holders: list[int] = []
        if blob.count(_LINE) != len(part) - 1:
            holders = [i for i, t in enumerate(part) if _LINE in t]
            blob = _LINE.join("" if _LINE in t else t for t in part)
        yield part, blob, holders


def _per_line(
    texts: list[str],
    blob_fn: Callable[[str], tuple[list[str], list[int]]],
    one_fn: Callable[[str], str],
) -> list[str]:
    """``one_fn`` of each text, computed as ``blob_fn`` of the texts joined by ``_LINE``.

    ``blob_fn`` returns one result per line and the numbers of the lines it declines; those,
    and texts containing ``_LINE`` themselves, are computed by ``one_fn``. Works in chunks.
    """
    out: list[str] = []
    for part, blob, holders in _chunks(texts):
        lines, declined = blob_fn(blob)
        for i in (*declined, *holders):
            lines[i] = one_fn(part[i])
        out += lines
    return out


def _units(blob: str) -> np.ndarray:
    """The UTF-16 code units of ``blob`` (astral characters as surrogate pairs)."""
    return np.frombuffer(blob.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)


def _line_numbers(units: np.ndarray, positions: np.ndarray) -> list[int]:
    """The distinct numbers of the lines holding the code units at ``positions``."""
    return np.unique(np.searchsorted(np.flatnonzero(units == _NL), positions)).tolist()


def _flags(method: Callable[..., bool], texts: list[str], *args: str) -> np.ndarray:
    """Boolean array of ``method(text, *args)`` per text (one C-level pass)."""
    return np.fromiter(map(method, texts, *(itertools.repeat(a) for a in args)), dtype=bool, count=len(texts))


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


def _nfc_many(texts: list[str]) -> list[str]:
    """``_nfc_text`` of each text; texts already in display form (most) are returned as they are."""
    out: list[str] = []
    for part, blob, holders in _chunks(texts):
        units = _units(blob)
        out += _display_part(part, blob, units, _char_table()[units], holders)[0]
    return out


def _display_part(part: list[str], blob: str, units: np.ndarray, classes: np.ndarray,
                  holders: list[int]) -> tuple[list[str], set[int]]:
    """The display form of each text of a chunk, and the numbers of those it changed (or may have).

    ``classes`` are the ``_char_table()`` entries of the chunk's code units.
    """
    changed = set(_undisplayed_lines(part, blob, units, classes)).union(holders)
    shown = part.copy()
    for i in changed:
        shown[i] = _nfc_text(part[i])
    return shown, changed


def _undisplayed_lines(part: list[str], blob: str, units: np.ndarray, classes: np.ndarray) -> list[int]:
    """Numbers of the lines that may not be in display form: holding a character marked
    ``_UNDISPLAYED`` (not printable, or maybe not NFC), or a space next to a space or a line's end
    (one numpy pass each, no per-text call)."""
    suspect = classes >= _UNDISPLAYED
    space = units == _SPACE
    gap_after = np.ones_like(space)  # the blob's end ends a line too
    gap_after[:-1] = space[1:] | (units[1:] == _NL)
    line_start = np.ones_like(space)
    line_start[1:] = units[:-1] == _NL
    suspect |= space & (gap_after | line_start)
    return _line_numbers(units, np.flatnonzero(suspect))


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
    return _str_series(s, _nfc_many)


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
    return _str_series(s, _fold_many)


def nfc_and_fold_series(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``(nfc_series(s), fold_series(nfc_series(s)))``, reading the text once for both."""
    codes, values = _distinct(s)
    shown, folded = _on_texts(_nfc_and_fold_many, values)
    return _spread(shown, codes, s, None), _spread(folded, codes, s, None)


def _nfc_and_fold_many(texts: list[str]) -> tuple[list[str], list[str]]:
    """The display form of each text, and the fold of that: where the display form is the text
    itself (most), the text's code units serve both."""
    shown: list[str] = []
    folded: list[str] = []
    for part, blob, holders in _chunks(texts):
        units = _units(blob)
        classes = _char_table()[units]
        part_shown, changed = _display_part(part, blob, units, classes, holders)
        part_folded, declined = _fold_units(units, classes)
        for i in changed.union(declined):
            part_folded[i] = _fold_text(part_shown[i], _SHARED_TOKENS)
        shown += part_shown
        folded += part_folded
    return shown, folded


# Folding many texts at once. Before runs of spaces are squeezed, folding is a map from each
# character to zero or more characters (casefold, NFD and mark removal are all per character;
# canonical reordering only moves marks, which are removed). Almost every character of real
# text maps to at most one ASCII byte, so a 64K-entry table applied to the UTF-16 code units
# of the joined texts with numpy folds them all at C speed.

_ESCAPE = 0  # table byte: this character needs the one-value fold (multi-char, non-ASCII, astral)
_DROP = 1  # table byte: this character folds to nothing (combining marks, format characters)


def _fold_char(char: str) -> str:
    """What one character folds to before space runs are squeezed (" " for a separator)."""
    text = unicodedata.normalize("NFD", char.casefold())
    text = _mark_re().sub("", text).replace("đ", "d").replace("ð", "d")
    return "".join(c if c.isalnum() else " " for c in text)


#: ``_char_table`` bit: text holding the character may not be in display form (the character is
#: not printable, or text holding it may not be NFC); surrogate halves too, so astral text
#: takes the one-value path.
_UNDISPLAYED = 0x80


@functools.cache
def _char_table() -> np.ndarray:
    """Per UTF-16 code unit: the byte it folds to (or ``_ESCAPE`` / ``_DROP``) in the low 7 bits, and
    ``_UNDISPLAYED``. One table, so one lookup serves both the display form and the fold."""
    displayable = np.fromiter(map(str.isprintable, map(chr, range(0x10000))), dtype=bool, count=0x10000)
    displayable &= _nfc_stable()
    displayable[0xD800:0xE000] = False
    displayable[_NL] = True  # it joins the texts
    return _fold_table() | np.where(displayable, 0, _UNDISPLAYED).astype(np.uint8)


def _nfc_stable() -> np.ndarray:
    """Per BMP code point, whether text made only of such characters is certainly NFC: the
    character is NFC itself, has combining class 0 and never composes with the one before it
    (the NFC quick check's "Yes" with no reordering possible). Conservative: others are checked
    one text at a time."""
    stable = np.ones(0x10000, dtype=bool)
    for cp in range(0x10000):
        char = chr(cp)
        if unicodedata.combining(char) or unicodedata.normalize("NFC", char) != char:
            stable[cp] = False
    for cp in range(sys.maxunicode + 1):  # the second parts of canonical pairs may compose
        decomposition = unicodedata.decomposition(chr(cp))
        if decomposition and decomposition[0] != "<":
            for part in decomposition.split()[1:]:
                if int(part, 16) < 0x10000:
                    stable[int(part, 16)] = False
    stable[0x1161:0x1176] = False  # Hangul vowels and trailing consonants compose by rule
    stable[0x11A8:0x11C3] = False
    return stable


def _fold_table() -> np.ndarray:
    """Byte each UTF-16 code unit folds to, or ``_ESCAPE`` / ``_DROP``. Takes ~0.2 s to build."""
    table = np.full(0x10000, _ESCAPE, dtype=np.uint8)
    for cp in itertools.chain(range(0xD800), range(0xE000, 0x10000)):  # surrogates stay _ESCAPE
        char = chr(cp)
        if unicodedata.combining(char) and unicodedata.category(char)[0] != "M":
            continue  # reordered by NFD but not removed: keep the one-value path exact
        folded = _fold_char(char)
        if not folded:
            table[cp] = _DROP
        elif len(folded) == 1 and folded.isascii():
            table[cp] = ord(folded)
    table[ord(_LINE)] = ord(_LINE)  # texts holding _LINE never reach the table
    return table


def _fold_blob(blob: str) -> tuple[list[str], list[int]]:
    """Fold each line of ``blob``; declines the lines holding a character marked ``_ESCAPE``."""
    units = _units(blob)
    return _fold_units(units, _char_table()[units])


def _fold_units(units: np.ndarray, classes: np.ndarray) -> tuple[list[str], list[int]]:
    """:func:`_fold_blob` of the blob with these UTF-16 code units and their ``_char_table()`` entries."""
    folded = classes & ~np.uint8(_UNDISPLAYED)
    declined: list[int] = []
    if not folded.all():  # some _ESCAPE (0) byte: find its lines
        declined = _line_numbers(units, np.flatnonzero(folded == _ESCAPE))
    dropped = folded == _DROP
    if dropped.any():
        folded = folded[~dropped]
    return _squeeze_spaces(folded).tobytes().decode("ascii").split(_LINE), declined


def _squeeze_spaces(folded: np.ndarray) -> np.ndarray:
    """Each run of spaces becomes one space; none is left at the start or end of a line.

    Bytes of ``_LINE``-separated lines in, the same out (numpy: a few passes at memory speed).
    """
    space = folded == _SPACE
    if not space.any():
        return folded
    gap_after = np.ones_like(space)  # the end of the blob ends a line too
    gap_after[:-1] = space[1:] | (folded[1:] == _NL)
    # keep only the last space of each run, and not even that one before a line end
    folded = folded[~(space & gap_after)]
    line_start = np.ones(len(folded), dtype=bool)
    line_start[1:] = folded[:-1] == _NL
    leading = line_start & (folded == _SPACE)  # what is left of a run that opened a line
    return folded[~leading] if leading.any() else folded


def _fold_many(texts: list[str]) -> list[str]:
    """:func:`fold` of each text (the table above; one value at a time where it declines)."""
    return _per_line(texts, _fold_blob, lambda t: _fold_text(t, _SHARED_TOKENS))


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
    return _str_series(s, _name_keys_many, missing="")


def _name_keys_many(names: list[str]) -> list[str]:
    """:func:`name_key` of each name: fold them all at once, then sort the words of each."""
    return [" ".join(sorted(f.split())) if " " in f else f for f in _fold_many(names)]


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
    codes, values = _distinct(s)
    return _spread(_on_texts(lambda texts: _AuthorLists(texts, sep).keys(), values), codes, s, missing="")


def authors_json_series(s: pd.Series, sep: str) -> pd.Series:
    """The JSON text of each row's :func:`split_authors` list.

    Promises: per row exactly ``json.dumps(names, ensure_ascii=False)`` of the
    list :func:`split_authors` gives (``'["Nguyễn Văn An", "Trần Thị Bình"]'``;
    ``"[]"`` for missing or blank cells), without building the lists. ``str``
    dtype, same index and name as ``s``.
    """
    if not sep:
        raise ValueError("authors_json_series: sep must be a non-empty string")
    codes, values = _distinct(s)
    return _spread(_on_texts(lambda texts: _AuthorLists(texts, sep).json(), values), codes, s, missing="[]")


def author_keys_and_json_series(s: pd.Series, sep: str) -> tuple[pd.Series, pd.Series]:
    """``(author_keys_series(s, sep), authors_json_series(s, sep))``, splitting the lists once."""
    if not sep:
        raise ValueError("author_keys_and_json_series: sep must be a non-empty string")
    codes, values = _distinct(s)
    lists = _on_texts(lambda texts: _AuthorLists(texts, sep), values)
    return _spread(lists.keys(), codes, s, missing=""), _spread(lists.json(), codes, s, missing="[]")


#: Candidate joints for splitting many texts at once: the first not in the separator is used.
_JOINTS = ("\n", "\x1f", "\x1e", "\x00")


def _pieces(texts: list[str], sep: str) -> tuple[list[str], np.ndarray]:
    """Every ``text.split(sep)`` piece, in order, and the number of the text each comes from."""
    if not texts:
        return [], np.zeros(0, dtype=np.intp)
    counts = np.fromiter(map(str.count, texts, itertools.repeat(sep)), dtype=np.intp, count=len(texts)) + 1
    joint = next((j for j in _JOINTS if j not in sep), None)
    blob = joint.join(texts) if joint else ""
    if joint and blob.count(joint) == len(texts) - 1:
        # sep cannot match across a joint it does not contain: replacing in the blob splits each text
        pieces = blob.replace(sep, joint).split(joint)
    else:  # some text holds the joint itself
        pieces = [p for t in texts for p in t.split(sep)]
    return pieces, np.repeat(np.arange(len(texts)), counts)


class _AuthorLists:
    """The author lists of many texts, split once: each piece's text and its distinct name."""

    def __init__(self, texts: list[str], sep: str) -> None:
        pieces, self.owner = _pieces(texts, sep)
        self.size = len(texts)
        # both the key and the display form of a name ignore the spaces around it: dropped here,
        # " Trần Lan" and "Trần Lan" become one name, already in display form
        pieces = list(map(str.strip, pieces, itertools.repeat(" ")))
        codes, names = pd.factorize(np.asarray(pieces, dtype=object))  # a name recurs on many records
        self.codes: np.ndarray = codes
        self.names: list[str] = list(names)

    def keys(self) -> list[str]:
        """Each text's sorted set of :func:`name_key` joined by ``"|"``."""
        keys = _name_keys_many(self.names)
        vocabulary = sorted(set(keys) - {""})
        width = max(len(vocabulary), 1)
        rank = dict(zip(vocabulary, itertools.count()))
        key_rank = np.fromiter(map(rank.get, keys, itertools.repeat(-1)), dtype=np.int64, count=len(keys))
        piece_rank = key_rank[self.codes]
        named = piece_rank >= 0
        # sorting (text, key rank) pairs and dropping repeats gives each text's sorted set of keys
        pairs = np.sort(self.owner[named] * width + piece_rank[named])
        if len(pairs):
            pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]
        return _join_runs(pairs // width, pairs % width, vocabulary, "|", self.size)

    def json(self) -> list[str]:
        """Each text's ``json.dumps(names, ensure_ascii=False)``: the NFC names, empty ones dropped."""
        clean = _nfc_many(self.names)
        kept = np.fromiter(map(bool, clean), dtype=bool, count=len(clean))[self.codes]
        return _join_runs(self.owner[kept], self.codes[kept], _json_strings(clean), ", ", self.size, ends=("[", "]"))


def _json_strings(names: list[str]) -> list[str]:
    """``json.dumps(name, ensure_ascii=False)`` of each NFC name.

    :func:`nfc` leaves no character below U+0020 and no line break, so only ``\\`` and ``"``
    need escaping: done on the joined names at once (``json.dumps`` per name otherwise).
    """
    blob = _LINE.join(names)
    if blob.count(_LINE) != len(names) - 1 or _JSON_CONTROL_RE.search(blob):
        return [json.dumps(n, ensure_ascii=False) for n in names]
    escaped = blob.replace("\\", "\\\\").replace('"', '\\"')
    return ('"' + escaped.replace(_LINE, '"' + _LINE + '"') + '"').split(_LINE)


_JSON_CONTROL_RE = re.compile("[\x00-\x09\x0b-\x1f]")  # what json.dumps escapes, but _LINE


def _join_runs(rows: np.ndarray, words: np.ndarray, vocabulary: list[str], sep: str, n: int,
               ends: tuple[str, str] = ("", "")) -> list[str]:
    """For each of ``n`` rows, its words joined by ``sep`` between ``ends`` (just the ends for a row
    without words).

    ``rows`` (non-decreasing) gives each word's row, ``words`` its number in ``vocabulary``.
    No entry of the vocabulary, ``sep`` or end holds ``_LINE``.
    """
    opening, closing = ends
    if not len(rows):
        return [opening + closing] * n
    last = np.ones(len(rows), dtype=bool)
    last[:-1] = rows[1:] != rows[:-1]
    # each word together with what follows it (sep, or the end of its row and the opening of the
    # next): one join and one split then build every row's string at C speed
    followed = np.asarray([*map(str.__add__, vocabulary, itertools.repeat(sep)),
                           *map(str.__add__, vocabulary, itertools.repeat(closing + _LINE + opening))], dtype=object)
    lines = (opening + "".join(followed[words + last * len(vocabulary)].tolist())).split(_LINE)[:-1]
    if len(lines) == n:  # every row has words
        return lines
    out = np.full(n, opening + closing, dtype=object)
    out[rows[last]] = lines
    return out.tolist()


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


def _parse_common_numbers(texts: list[str], vals: np.ndarray) -> list[int]:
    """Parse the two common spellings (``"1500000"``, ``"1.500.000"``) into ``vals`` at C speed,
    as :func:`_parse_number_text`'s fast paths do; returns the positions left for it.

    TypeError when some value is not a string.
    """
    stripped = np.asarray(list(map(str.strip, texts)), dtype=object)
    plain = _flags(str.isdigit, stripped) & _flags(str.isascii, stripped)
    vals[np.flatnonzero(plain)] = np.fromiter(map(float, stripped[plain]), dtype=np.float64, count=plain.sum())
    dotted = np.zeros(len(texts), dtype=bool)
    dotted[~plain] = _flags(bool, list(map(_DOT_THOUSANDS_RE.fullmatch, stripped[~plain])))
    digits = map(str.replace, map(str.replace, stripped[dotted], itertools.repeat("."), itertools.repeat("")),
                 itertools.repeat(","), itertools.repeat("."))
    vals[np.flatnonzero(dotted)] = np.fromiter(map(float, digits), dtype=np.float64, count=dotted.sum())
    return np.flatnonzero(~plain & ~dotted).tolist()


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
    vals = np.full(len(uniques) + 1, math.nan)  # last: code -1 (missing)
    bad = np.zeros(len(uniques) + 1, dtype=bool)
    try:
        rest = _parse_common_numbers(uniques, vals)
    except TypeError:  # not all strings (numeric cells)
        rest = range(len(uniques))
    for i in rest:
        vals[i], bad[i] = _parse_number_value(uniques[i])
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
    return _nfc_text(_unmarkup(text))


def _unmarkup(text: str) -> str:
    """``text`` with tags removed and entities decoded (not yet in NFC form)."""
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
    return text


def _strip_markup_many(texts: list[str]) -> list[str]:
    """:func:`strip_markup` of each text: markup removed where a ``<`` or ``&`` says there may be some."""
    marked = _flags(str.__contains__, texts, "<") | _flags(str.__contains__, texts, "&")
    if marked.any():
        texts = texts.copy()
        for i in np.flatnonzero(marked).tolist():
            texts[i] = _unmarkup(texts[i])
    return _nfc_many(texts)


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
    return _str_series(s, _strip_markup_many)
