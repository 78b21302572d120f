"""Vietnamese-formatted amounts ("1.500.000", "2,5", "1 500 000 đ") to floats plus a "bad" mask
(missing is not bad)."""

from __future__ import annotations

import decimal
import itertools
import math
import numbers
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from sangkien.text.display import _nfc_text
from sangkien.text.series import _factorize, _flags, _is_missing

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
    rest: Iterable[int]
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


