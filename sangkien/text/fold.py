"""The matching form of text: no diacritics, đ/Đ (and the look-alikes Ð/ð) become ``d``,
case-folded, every run of non-letter/non-digit characters one space.
``"Hoà Bình"``, ``"Hòa Bình"``, ``"HOA BINH"`` and ``"hoa-binh"`` all fold to ``"hoa binh"``."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import overload

import numpy as np
import pandas as pd

from sangkien.text.chars import _DROP, _ESCAPE, _UNDISPLAYED, _char_table
from sangkien.text.display import _display_part
from sangkien.text.series import (
    _LINE,
    _NL,
    _NON_ALNUM_RE,
    _SPACE,
    _as_text,
    _chunks,
    _distinct,
    _is_missing,
    _line_numbers,
    _mark_re,
    _on_texts,
    _per_line,
    _spread,
    _str_series,
    _units,
)


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
@overload
def fold(text: object) -> str | None: ...
def fold(text: object) -> str | None:
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


