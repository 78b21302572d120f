"""Person names and author lists: order-insensitive name keys, authors split and kept as JSON."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pandas as pd

from sangkien.text.display import _nfc_many, _nfc_text
from sangkien.text.persons import person_key, person_keys
from sangkien.text.series import (
    _LINE,
    _as_text,
    _distinct,
    _factorize,
    _flags,
    _gc_paused,
    _is_missing,
    _on_texts,
    _spread,
    _str_series,
)


def name_key(name: str | None) -> str:
    """Key of a person's name: :func:`sangkien.text.persons.person_key`.

    Promises: titles and honorifics stripped, folded, family name first and given name last,
    so ``"Nguyễn Văn An"``, ``"An Nguyễn Văn"``, ``"ThS. NGUYEN VAN AN"`` share the key
    ``"nguyen van an"``. Missing or blank -> ``""``.
    """
    if _is_missing(name):
        return ""
    return person_key(_as_text(name))


def name_key_series(s: pd.Series) -> pd.Series:
    """Vectorized :func:`name_key` (``str`` dtype; missing -> ``""``)."""
    return _str_series(s, _name_keys_many, missing="")


def _name_keys_many(names: list[str]) -> list[str]:
    """:func:`name_key` of each name (a name recurs on many records: each distinct one parsed once)."""
    return person_keys(names)


def split_authors(s: pd.Series, sep: str) -> pd.Series:
    """Split an author-list column into lists of names.

    Promises: an object Series of ``list[str]`` (a fresh list per row, safe to
    mutate), each name in :func:`nfc` form, empty pieces removed, source order
    kept (duplicates are *not* removed here). The raw text is split on ``sep``
    before whitespace is collapsed, so ``sep="\\n"`` works; a line break always
    separates names, whatever ``sep`` is. Missing or blank cells give ``[]``.
    """
    if not sep:
        raise ValueError("split_authors: sep must be a non-empty string")
    codes, uniques = _factorize(s)
    with _gc_paused():  # millions of new lists would trigger full collections
        per_unique: list[list[str]] = [
            [p for p in map(_nfc_text, _breaks_split([_as_text(u)], sep)[0].split(sep)) if p] for u in uniques
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


#: A line break inside an author cell, kept as this mark through markup stripping (which turns
#: line breaks into spaces): a name never spans two lines, so a line break separates two authors
#: whatever separator the source declares (an Excel cell with Alt+Enter between the names).
LINE_BREAK = "\u241e"
_BREAKS = re.compile("\r\n|\r|\n|" + LINE_BREAK)


def mark_line_breaks(s: pd.Series) -> pd.Series:
    """``s`` with each line break inside a text cell replaced by :data:`LINE_BREAK` (other cells as they are)."""
    texts = s.to_numpy(dtype=object)
    broken = [k for k, t in enumerate(texts.tolist()) if isinstance(t, str) and ("\n" in t or "\r" in t)]
    if not broken:
        return s
    texts = texts.copy()
    for k in broken:
        texts[k] = _BREAKS.sub(LINE_BREAK, texts[k])
    return pd.Series(texts, index=s.index, name=s.name, dtype=object)


def _breaks_split(texts: list[str], sep: str) -> list[str]:
    """``texts`` with every line break (or :data:`LINE_BREAK`) turned into ``sep``."""
    broken = _flags(str.__contains__, texts, "\n") | _flags(str.__contains__, texts, "\r") \
        | _flags(str.__contains__, texts, LINE_BREAK)
    if not broken.any():
        return texts
    texts = list(texts)
    for k in np.flatnonzero(broken).tolist():  # a sep may hold a line break: split on it first
        texts[k] = sep.join(p for part in texts[k].split(sep) for p in _BREAKS.split(part))
    return texts


#: Candidate joints for splitting many texts at once: the first not in the separator is used.
_JOINTS = ("\n", "\x1f", "\x1e", "\x00")


def _pieces(texts: list[str], sep: str) -> tuple[list[str], np.ndarray]:
    """Every ``text.split(sep)`` piece, in order, and the number of the text each comes from."""
    if not texts:
        return [], np.zeros(0, dtype=np.intp)
    texts = _breaks_split(texts, sep)
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


