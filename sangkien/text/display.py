"""The display form of text: Unicode NFC, control and zero-width characters removed,
whitespace runs collapsed to one space, ends stripped. Missing stays missing."""

from __future__ import annotations

import unicodedata
from typing import overload

import numpy as np
import pandas as pd

from sangkien.text.chars import _UNDISPLAYED, _char_table
from sangkien.text.series import (
    _CTRL_RE,
    _NL,
    _SPACE,
    _as_text,
    _chunks,
    _is_missing,
    _line_numbers,
    _str_series,
    _units,
)


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


