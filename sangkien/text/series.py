"""Bulk text machinery shared by the text modules: missing values, distinct values worked once,
and many values joined into one blob for C-level string methods.

Pure functions; results never depend on the module's memo or tables."""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import re
import sys
import unicodedata
from collections.abc import Callable, Collection, Iterator
from typing import Any, TypeVar

import numpy as np
import pandas as pd

_T = TypeVar("_T")

#: The dtype of text results: pandas' default string dtype (``str``, NaN for
#: missing, on pandas 3; ``object`` on pandas 2 without ``future.infer_string``).
STR_DTYPE = pd.Series(["x"]).dtype


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


def _flags(method: Callable[..., bool], texts: Collection[Any], *args: str) -> np.ndarray:
    """Boolean array of ``method(text, *args)`` per text (one C-level pass)."""
    return np.fromiter(map(method, texts, *(itertools.repeat(a) for a in args)), dtype=bool, count=len(texts))


