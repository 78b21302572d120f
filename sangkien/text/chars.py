"""Character tables: what each UTF-16 code unit folds to, and whether text holding it may not be
in display form. One 64K-entry table serves both, applied with numpy at C speed."""

from __future__ import annotations

import functools
import itertools
import sys
import unicodedata

import numpy as np

from sangkien.text.series import _LINE, _NL, _mark_re

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

