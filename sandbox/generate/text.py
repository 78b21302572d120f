"""Vietnamese text helpers: strip diacritics, fold for comparison, rewrite for cp1258."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable

import numpy as np

_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")


@functools.cache
def _strip_table() -> dict[int, str | None]:
    """str.translate table: precomposed Latin letters -> base letter, đ/Đ -> d/D, combining marks -> ''."""
    table: dict[int, str | None] = {ord("đ"): "d", ord("Đ"): "D", ord("Ð"): "D"}
    for cp in range(0x00C0, 0x1F00):
        parts = unicodedata.normalize("NFD", chr(cp))
        if len(parts) > 1 and parts[0].isascii() and all(unicodedata.combining(c) for c in parts[1:]):
            table[cp] = parts[0]
    for cp in range(0x0300, 0x0370):
        table[cp] = None
    return table


def strip_diacritics(text: str) -> str:
    """Return ``text`` without Vietnamese diacritics (đ -> d), keeping case; NFC or NFD input."""
    return unicodedata.normalize("NFC", text).translate(_strip_table())


def fold_text(text: str) -> str:
    """Fold Vietnamese text for comparison: no diacritics, đ -> d, lowercase, single spaces."""
    return " ".join(strip_diacritics(text).lower().split())


@functools.cache
def _cp1258_table() -> dict[int, str]:
    """str.translate table for letters cp1258 lacks: base (with circumflex/breve/horn) + combining tone mark."""
    table: dict[int, str] = {}
    for cp in range(0x00C0, 0x1F00):
        ch = chr(cp)
        try:
            ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        nfd = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in nfd if c in _TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONE_MARKS))
        candidate = base + tones
        try:
            candidate.encode("cp1258")
        except UnicodeEncodeError:
            continue
        if unicodedata.normalize("NFC", candidate) == ch:
            table[cp] = candidate
    return table


def to_cp1258_form(text: str) -> str:
    """Rewrite NFC Vietnamese ``text`` so that it encodes in cp1258; NFC of the result equals the input.

    cp1258 holds â ê ô ơ ư ă đ and a few toned vowels precomposed, and the five tone
    marks as combining characters, so e.g. "ễ" is written as "ê" + U+0303 (what
    Windows-1258 software produces).
    """
    return unicodedata.normalize("NFC", text).translate(_cp1258_table())


def _map_text(fn: Callable[[str], str], values: np.ndarray) -> np.ndarray:
    return np.array([fn(v) for v in values], dtype=object)
