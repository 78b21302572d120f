"""Vietnamese personal names: titles and honorifics stripped, family / middle / given names found.

A name reaches us typed many ways: "PGS.TS. Nguyễn Văn An", "Đ/c Nguyễn Văn An",
"NGUYEN VAN AN", "An Nguyễn Văn" (given name moved to the front), "Văn An Nguyễn"
(family name moved to the end), "Nguyễn An" (middle name left out), "Nguyễn V. An"
(an initial). :func:`person_key` turns each into one canonical folded key,
"family middle... given" ("nguyen van an"); :func:`family_given` of a key keeps only
the family and given names ("nguyen an"), so keys that differ only in their middle names
(left out, or written as an initial) share it.

The family name is recognised from a list of common Vietnamese surnames (:data:`SURNAMES`,
most frequent first); a name with no known surname is taken as written (family first).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np
import pandas as pd

from sangkien.text.fold import fold

#: Common Vietnamese family names, folded, most frequent first (the rank breaks ties when a
#: name holds two: "Hoàng Nam Nguyễn" is a Nguyễn).
SURNAMES: tuple[str, ...] = (
    "nguyen", "tran", "le", "pham", "hoang", "huynh", "phan", "vu", "vo", "dang", "bui", "do",
    "ho", "ngo", "duong", "ly", "dao", "dinh", "trinh", "truong", "luong", "luu", "doan", "cao",
    "ta", "quach", "chu", "tong", "trieu", "lai", "vuong", "ton", "mac", "nghiem", "thach",
    "khuc", "quan", "kieu", "diep", "giap", "nong", "hua", "tang", "bach", "lieu", "khong",
    "khuat", "phung", "trac", "ung", "vi", "thieu", "tieu", "banh", "dam", "han", "hau", "kha",
    "luc", "ninh", "phi", "than", "au", "lo", "ong",
)
#: Family names that are also common given or middle names: a family name only where no
#: name of :data:`SURNAMES` is found.
WEAK_SURNAMES: tuple[str, ...] = (
    "mai", "ha", "lam", "thai", "la", "kim", "giang", "an", "cu", "to", "tu", "phuong", "quang",
    "dong", "lang", "sam", "yen", "tan",
)
_RANK = {s: r for r, s in enumerate(SURNAMES)} | {s: 100 + r for r, s in enumerate(WEAK_SURNAMES)}

#: Academic and professional titles, folded, as word sequences. Abbreviations that are no
#: Vietnamese syllable ("ths", "pgs", "bs", ...) are stripped wherever they stand at either
#: end of a name; spelled-out titles ("thac si") only before a name of two words or more.
TITLE_ABBREVIATIONS: frozenset[str] = frozenset({
    "ths", "thsbs", "ts", "tskh", "pgs", "pgsts", "gs", "gsts", "bs", "bsck", "bscki", "bsckii",
    "bsck1", "bsck2", "bsnt", "ck", "cki", "ckii", "ck1", "ck2", "ks", "kts", "cn", "ds", "dsck",
    "dscki", "dsckii", "ncs", "ktv", "gv", "gvc", "gvcc", "ngut", "ngnd", "nsut", "nsnd", "ttut",
    "ttnd", "dd", "ls", "dc", "cv", "cvc", "cvcc", "tgd", "gd", "pgd", "tp", "pp", "cndd", "bsdk", "dsdh",
})
TITLE_PHRASES: tuple[tuple[str, ...], ...] = tuple(sorted((tuple(p.split()) for p in (
    "th s", "t s", "p gs", "d c", "thac si", "tien si", "tien si khoa hoc", "pho giao su",
    "giao su", "bac si", "bac si noi tru", "duoc si", "ky su", "kien truc su", "cu nhan",
    "dieu duong", "dieu duong vien", "ky thuat vien", "nha giao uu tu", "nha giao nhan dan",
    "thay thuoc uu tu", "thay thuoc nhan dan", "nghe si uu tu", "luong y", "dong chi", "luat su",
    "giang vien", "giao vien", "chuyen vien", "nghien cuu sinh", "chuyen khoa",
)), key=len, reverse=True))
#: Grades that follow a title ("BS. CK II", "Bác sĩ chuyên khoa I"): stripped after one.
_GRADES = frozenset({"ck", "cki", "ckii", "ck1", "ck2", "i", "ii", "1", "2", "chuyen", "khoa"})
#: Honorifics that are also names ("Chi", "Ba", "Anh"): stripped before a known family
#: name; where the text carries diacritics (``"chị"``, ``"bà"``) before two more words,
#: else (``"chi"``, ``"anh"``) only before three.
HONORIFICS: dict[str, str] = {"ong": "ông", "ba": "bà", "anh": "anh", "chi": "chị", "co": "cô",
                              "thay": "thầy", "em": "em", "cu": "cụ"}
#: Words that are middle names far more often than given names (where a name is written
#: family-last, the given name is the other end).
_MIDDLE_WORDS = frozenset({"thi", "van", "huu", "duc", "dinh", "ngoc", "xuan", "cong", "quoc"})

_SPLIT_RE = re.compile(r"[\W_]+")
_ROLE_RE = re.compile(r"\s[-–—]\s")
_ASIDE_RE = re.compile(r"\([^)]*\)|\[[^]]*\]")  # "(chủ nhiệm)", "[đồng tác giả]": roles, not names
#: Trailing words that say "and others", folded: dropped from the end of a name.
_AND_OTHERS = (("va", "cong", "su"), ("va", "cs"), ("vcs",), ("cs",), ("va", "nnk"), ("nnk",))


def _unglue(name: str) -> str:
    """A title glued to the name split off at the capital that starts the name: "KSPhan Minh",
    "BS.CKIIĐinh Nhung" -> "KS Phan Minh", "BS.CKII Đinh Nhung" (a capital run, then a
    capital and a small letter). Names in capitals alone, or in title case, are unchanged."""
    cut = [k for k in range(1, len(name) - 1)
           if name[k].isupper() and name[k - 1].isupper() and name[k + 1].islower()]
    for k in reversed(cut):
        name = name[:k] + " " + name[k:]
    return name


def _raw_tokens(name: str) -> list[str]:
    """The name's words, lower-cased, with diacritics (NFC), split at every non-letter."""
    text = _ASIDE_RE.sub(" ", _unglue(unicodedata.normalize("NFC", name)).casefold())
    text = text.rpartition(":")[2] or text  # "Tác giả: Nguyễn Văn An"
    text = _ROLE_RE.split(text, maxsplit=1)[0] or text  # "Nguyễn Văn An - Trưởng phòng": the name only
    return [t for t in _SPLIT_RE.split(text) if t]


def _strip_titles(raw: list[str], words: list[str]) -> list[str]:
    """``words`` (folded ``raw``) without the titles and honorifics around the name."""
    start, end = 0, len(words)
    after_title = False
    while end - start > 1:
        rest, word = end - start, words[start]
        if word in TITLE_ABBREVIATIONS or (after_title and word in _GRADES):
            start, after_title = start + 1, True
            continue
        k = next((len(p) for p in TITLE_PHRASES if tuple(words[start:start + len(p)]) == p), 0)
        if k and rest - k >= 2:
            start, after_title = start + k, True
            continue
        if word in HONORIFICS and rest >= 3 and words[start + 1] in _RANK:
            marked = raw[start] == HONORIFICS[word] and word != raw[start]
            if marked or rest >= 4:
                start = start + 1
                continue
        break
    for tail in _AND_OTHERS:
        if end - start > len(tail) + 1 and tuple(words[end - len(tail):end]) == tail:
            end -= len(tail)
            break
    while end - start > 2 and (words[end - 1] in TITLE_ABBREVIATIONS or words[end - 1] in _GRADES - {"chuyen", "khoa"}):
        end -= 1
    return words[start:end]


def _order(words: list[str]) -> list[str]:
    """``words`` as family, middle names, given name: the family name found by :data:`SURNAMES`."""
    n = len(words)
    if n < 2:
        return words
    spots = [0, 1, n - 1] if n >= 3 else [0, 1]
    ranked = [(_RANK.get(words[p], 1000), k, p) for k, p in enumerate(spots)]
    rank, _, at = min(ranked)
    if rank >= 1000 or at == 0:
        return words
    if at == n - 1:  # "Văn An Nguyễn" or "An Văn Nguyễn": family moved to the end
        rest = words[:-1]
        if len(rest) >= 2 and rest[-1] in _MIDDLE_WORDS and rest[0] not in _MIDDLE_WORDS:
            rest = rest[1:] + rest[:1]
        return [words[-1], *rest]
    return [words[1], *words[2:], words[0]]  # "An Nguyễn Văn": given name moved to the front


@lru_cache(maxsize=200_000)
def person_key(name: str | None) -> str:
    """Canonical key of one person's name: folded "family middle... given".

    Promises: titles and honorifics stripped (:data:`TITLE_ABBREVIATIONS`,
    :data:`TITLE_PHRASES`, :data:`HONORIFICS`), the words put family name first and given
    name last, folded (lower case, no diacritics), joined by one space. So
    ``"PGS.TS. Nguyễn Văn An"``, ``"An Nguyễn Văn"`` and ``"NGUYEN VAN AN"`` all give
    ``"nguyen van an"``. Missing or blank -> ``""``. Idempotent.
    """
    if not isinstance(name, str) or not name.strip():
        return ""
    raw = _raw_tokens(name)
    words = [w for t in raw for w in (fold(t) or "").split()]
    if len(words) != len(raw):  # a word that folds to two: no raw form to consult
        raw = words
    return " ".join(_order(_strip_titles(raw, words)))


def person_keys(names: list[str]) -> list[str]:
    """:func:`person_key` of each name (a name recurs on many records: each distinct one parsed once)."""
    return list(map(person_key, names))


def family_given(keys: np.ndarray) -> np.ndarray:
    """Of each :func:`person_key`, the family and given names only ("nguyen van an" -> "nguyen an").

    Keys of one word stay as they are; "" stays "". Object array in, object array out.
    """
    inverse, uniq = pd.factorize(pd.Series(keys, dtype=object).fillna(""))  # np.unique on strings is slow
    out = np.empty(len(uniq), dtype=object)
    for k, key in enumerate(uniq.tolist()):
        first, _, rest = key.partition(" ")
        out[k] = first + " " + rest.rpartition(" ")[2] if rest else first
    return out[inverse]
