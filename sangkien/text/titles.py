"""Titles compared as titles: form words dropped, abbreviations expanded, tokens weighed by rarity.

Works on folded titles (:func:`sangkien.text.fold.fold`: lower case, no diacritics, every run
of punctuation one space), so quotes of any kind and a trailing full stop are already gone.

* :func:`clean_titles` drops the form words a title may open with ("Sáng kiến:",
  "Giải pháp:", "Đề tài:", "SK:", ...) and expands abbreviations from
  :data:`ABBREVIATIONS`, extended by a user's file (:func:`load_abbreviations`,
  ``$SANGKIEN_TITLE_ABBREVIATIONS``).
* :class:`TitleWeights` gives each token a weight by how common it is among the store's
  titles (an IDF), so template words ("nang cao hieu qua", "tai don vi") count little.
* :func:`weighted_similarity` is the weighted Jaccard of two titles' token sets, and
  :func:`number_signature` the numbers a title holds ("giai doan 2", "lan II"): copies
  share them, a second initiative's "(lần 2)" does not.
"""

from __future__ import annotations

import csv
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sangkien.text.fold import fold

#: Folded words a title may open with that name the form, not the initiative; dropped
#: (repeatedly) from the start of every title.
FORM_WORDS: tuple[str, ...] = (
    "ten sang kien", "ten giai phap", "ten de tai", "sang kien kinh nghiem", "sang kien",
    "giai phap", "de tai", "skkn", "sk", "v v", "ve viec",
)

#: Common abbreviations in titles (folded) and their folded expansions. Extend it with a
#: CSV file of ``abbreviation,expansion`` lines named by ``$SANGKIEN_TITLE_ABBREVIATIONS``
#: (or passed to :func:`load_abbreviations`); both sides are folded when read.
ABBREVIATIONS: dict[str, str] = {
    "cntt": "cong nghe thong tin", "atvsld": "an toan ve sinh lao dong",
    "atld": "an toan lao dong", "vsld": "ve sinh lao dong", "nld": "nguoi lao dong",
    "cnvc": "cong nhan vien chuc", "cnvcld": "cong nhan vien chuc lao dong",
    "cbcnv": "can bo cong nhan vien", "cbcc": "can bo cong chuc", "cbnv": "can bo nhan vien",
    "cd": "cong doan", "cdcs": "cong doan co so", "ldld": "lien doan lao dong",
    "tld": "tong lien doan", "khkt": "khoa hoc ky thuat", "khcn": "khoa hoc cong nghe",
    "sxkd": "san xuat kinh doanh", "nsld": "nang suat lao dong", "cchc": "cai cach hanh chinh",
    "tthc": "thu tuc hanh chinh", "qlcl": "quan ly chat luong", "pccc": "phong chay chua chay",
    "bhxh": "bao hiem xa hoi", "bhyt": "bao hiem y te", "dn": "doanh nghiep",
    "dvhc": "don vi hanh chinh", "ubnd": "uy ban nhan dan", "hdnd": "hoi dong nhan dan",
    "gd": "giao duc", "gddt": "giao duc dao tao", "thpt": "trung hoc pho thong",
    "thcs": "trung hoc co so", "th": "tieu hoc", "mn": "mam non", "hs": "hoc sinh",
    "sv": "sinh vien", "gv": "giao vien", "bv": "benh vien", "yt": "y te",
    "kcb": "kham chua benh", "xn": "xet nghiem", "cl": "chat luong", "hq": "hieu qua",
    "nv": "nghiep vu", "ql": "quan ly", "ud": "ung dung", "pm": "phan mem",
    "csdl": "co so du lieu", "ht": "he thong", "tb": "thiet bi", "kt": "ky thuat",
    "vn": "viet nam", "tp": "thanh pho", "hcm": "ho chi minh", "hn": "ha noi",
}

#: Roman numerals read as numbers in :func:`number_signature`.
_ROMAN = {"ii": "2", "iii": "3", "iv": "4", "vii": "7", "viii": "8", "ix": "9"}  # not "vi": a syllable ("don vi")

_FORM_INITIALS = frozenset(w[0] for w in FORM_WORDS)
_FORM_RE = re.compile(r"^(?:(?:{})(?: |$))+".format("|".join(re.escape(w) for w in FORM_WORDS)))


def load_abbreviations(path: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """:data:`ABBREVIATIONS` extended (and overridden) by a user's CSV of ``abbreviation,expansion``.

    ``path`` defaults to ``$SANGKIEN_TITLE_ABBREVIATIONS`` (none: the built-in table).
    Lines starting with ``#`` and blank lines are skipped. A line without two fields
    raises ``ValueError`` naming the file and line.
    """
    path = path or os.environ.get("SANGKIEN_TITLE_ABBREVIATIONS")
    if not path:
        return ABBREVIATIONS
    return dict(_read_abbreviations(str(path), Path(path).stat().st_mtime_ns))


@functools.lru_cache(maxsize=8)
def _read_abbreviations(path: str, mtime_ns: int) -> dict[str, str]:
    """:data:`ABBREVIATIONS` extended by the file at ``path`` (read again when it changes)."""
    table = dict(ABBREVIATIONS)
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        for number, row in enumerate(csv.reader(fh), start=1):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            if len(row) < 2 or not (fold(row[0]) or "") or not (fold(row[1]) or ""):
                raise ValueError(f"{path}, line {number}: expected 'abbreviation,expansion'")
            table[fold(row[0]) or ""] = fold(row[1]) or ""
    return table


_SYLLABLE = re.compile(r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]+(?:ch|ng|nh|[cmnpt])?$")
#: Words that do not open or close what an abbreviation spells ("phap luat cho" is no "plc").
_EDGE_WORDS = frozenset({"cho", "va", "cua", "trong", "voi", "cac", "nhung", "de", "khi", "the", "la", "duoc", "theo",
                         "ve", "tren", "den", "nay", "mot"})


def _typo_like(word: str) -> bool:
    """Whether a vowel put back or two neighbours swapped make ``word`` a syllable ("tuhc", "snh")."""
    return any(_SYLLABLE.match(word[:k] + v + word[k:]) for k in range(len(word) + 1) for v in "aeiouy") or \
        any(_SYLLABLE.match(word[:k] + word[k + 1] + word[k] + word[k + 2:]) for k in range(len(word) - 1))


def learn_abbreviations(folded: np.ndarray | list[str], known: dict[str, str] | None = None,
                        sample: int = 40_000, min_titles: int = 3, dominance: float = 3.0,
                        share: float = 0.5, seed: int = 16) -> dict[str, str]:
    """Abbreviations the store's own titles spell out elsewhere: ``{"ksnk": "kiem soat nhiem khuan"}``.

    A candidate is a token of 2 to 6 letters that is no Vietnamese syllable ("ksnk", "nb", "hsba"),
    nor a syllable typed with a vowel lost or two letters swapped ("tuhc", "snh"), and not in
    ``known``, held by ``min_titles`` titles or more. Runs that open or close on a function
    word ("cho", "va", "tai", ...) are not read as expansions. Its expansion is the run of as
    many words whose initials spell it that most titles hold, taken only when ``min_titles``
    titles hold it, it is ``dominance`` times as common as the next run with the same
    initials ("kh": "khach hang" against "ke hoach" stays unexpanded when neither dominates),
    and it is written out at least ``share`` times as often as abbreviated (an abbreviation
    that is a name of its own, "qr" or "plc", is not the spelling of a rare run "qua ren").
    Deterministic: a seeded sample of at most ``sample`` distinct titles.
    """
    known = ABBREVIATIONS if known is None else known
    titles = pd.unique(pd.Series(folded, dtype=object).dropna())
    if len(titles) > sample:
        titles = titles[np.random.default_rng(seed).choice(len(titles), sample, replace=False)]
    held: dict[str, int] = {}
    split = [t.split() for t in titles.tolist() if t]
    for words in split:
        for w in set(words):
            if 2 <= len(w) <= 6 and w.isalpha() and w.isascii() and w not in known and not _SYLLABLE.match(w):
                held[w] = held.get(w, 0) + 1
    held = {w: c for w, c in held.items() if c >= min_titles and not _typo_like(w)}  # a typo is no abbreviation
    wanted = set(held)
    if not wanted:
        return {}
    by_length = [re.compile("(?=({}))".format("|".join(sorted(w for w in wanted if len(w) == n))))
                 for n in sorted({len(w) for w in wanted})]
    runs: dict[str, dict[str, int]] = {}
    for words in split:
        initials = "".join(w[0] for w in words)
        seen = set()
        for pattern in by_length:
            for found in pattern.finditer(initials):
                head, k = found.group(1), found.start()
                part = words[k:k + len(head)]
                run = " ".join(part)
                if run not in seen and part[0] not in _EDGE_WORDS and part[-1] not in _EDGE_WORDS \
                        and all(_SYLLABLE.match(w) for w in part):
                    seen.add(run)
                    counts = runs.setdefault(head, {})
                    counts[run] = counts.get(run, 0) + 1
    out = {}
    for abbreviation, counts in runs.items():
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        best, count = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0
        if count >= min_titles and count >= dominance * second and count >= share * held[abbreviation]:
            out[abbreviation] = best
    return dict(sorted(out.items()))


def clean_title(folded: str, abbreviations: dict[str, str] | None = None) -> str:
    """One folded title with its opening form words dropped and its abbreviations expanded.

    A title that is nothing but form words is kept as it is (``"sang kien"`` stays).
    """
    table = ABBREVIATIONS if abbreviations is None else abbreviations
    core = (_FORM_RE.sub("", folded) or folded) if folded[:1] in _FORM_INITIALS else folded
    words = core.split(" ")
    if not table.keys().isdisjoint(words):
        core = " ".join(table.get(w, w) for w in words)
    return core


def clean_titles(folded: np.ndarray | list[str], abbreviations: dict[str, str] | None = None) -> np.ndarray:
    """:func:`clean_title` of each folded title (each distinct title cleaned once), and an opening
    "sang kien" / "giai phap" typed one edit off dropped too. Object array."""
    codes, cleaned = clean_title_codes(folded, abbreviations)
    return cleaned[codes]


def clean_title_codes(folded: np.ndarray | list[str], abbreviations: dict[str, str] | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`clean_titles` as (a code per title, the cleaned distinct titles): ``cleaned[codes]``
    are the cleaned titles. Two distinct titles may clean to the same text."""
    codes, uniques = pd.factorize(pd.Series(folded, dtype=object).fillna(""))
    table = ABBREVIATIONS if abbreviations is None else abbreviations
    cleaned = [clean_title(t, table) for t in uniques.tolist()]
    _drop_misspelt_forms(cleaned)
    return codes, np.array(cleaned, dtype=object)


#: Form words also dropped when typed with one letter wrong ("giiai phap", "sang kein").
_FUZZY_FORMS = ("sang kien", "giai phap")


def _drop_misspelt_forms(titles: list[str]) -> None:
    """In place: titles opening with two words one edit away from a :data:`_FUZZY_FORMS` phrase
    (and three more words after them) lose those two words."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA  # a swap of two letters is one edit

    opening = [k for k, t in enumerate(titles) if t[:1] in ("s", "g")]
    heads = {k: titles[k].split(" ", 2) for k in opening}
    rows = [k for k in opening if len(heads[k]) == 3 and heads[k][2].count(" ") >= 2]
    if not rows:
        return
    pairs = [heads[k][0] + " " + heads[k][1] for k in rows]
    distance = process.cdist(pairs, _FUZZY_FORMS, scorer=OSA.distance, workers=-1).min(axis=1)
    for k, d in zip(rows, distance.tolist(), strict=False):
        if d == 1:
            titles[k] = heads[k][2]


_DIGIT = re.compile("[0-9]").search
_ROMAN_WORDS = "|".join(sorted(_ROMAN, key=len, reverse=True))
_NUMBER_WORDS = re.compile(rf"[0-9]+|(?<![a-z])(?:{_ROMAN_WORDS})(?![a-z])").findall
_NUMBER_MEMO: dict[str, str] = {}  # a title's signature, kept: the fit and the scoring read the same titles
_NUMBER_MEMO_LIMIT = 4_000_000


def _signature(title: str) -> str:
    """The number words of a title that may hold some (a digit, a word starting "i" or "vii")."""
    sig = " ".join(str(int(w)) if w.isdigit() else _ROMAN[w] for w in _NUMBER_WORDS(title))
    if len(_NUMBER_MEMO) < _NUMBER_MEMO_LIMIT:
        _NUMBER_MEMO[title] = sig
    return sig


def number_signature(cleaned: np.ndarray) -> np.ndarray:
    """Per title, its number words in order ("2", roman numerals read as numbers) joined by " "
    ("" when it holds none): a second initiative's "giai doan 2" or "(lan II)" shows here."""
    memo, digit = _NUMBER_MEMO, _DIGIT
    return np.array(["" if digit(t) is None and " i" not in t and " vii" not in t
                     else memo[t] if t in memo else _signature(t)
                     for t in np.asarray(cleaned, dtype=object).tolist()], dtype=object)


@dataclass(frozen=True)
class TitleWeights:
    """Token weights learned from a store's titles: ``log(titles / (1 + titles holding it))``.

    ``counts`` maps a token to how many of ``titles`` (cleaned) hold it; a token not
    listed is as rare as can be (held by none). Weights are at least ``floor``.
    """

    counts: dict[str, int]
    titles: int
    floor: float = 0.05

    @classmethod
    def fit(cls, cleaned: np.ndarray, sample: int = 200_000, seed: int = 16, keep_min: int = 2) -> TitleWeights:
        """Count tokens over a seeded sample of at most ``sample`` cleaned titles; only tokens
        held by ``keep_min`` titles or more are kept (the rest weigh as unseen)."""
        cleaned = np.asarray(cleaned, dtype=object)
        if len(cleaned) > sample:
            cleaned = cleaned[np.random.default_rng(seed).choice(len(cleaned), sample, replace=False)]
        rows, tokens = _tokens(cleaned)
        tok_id, vocab = pd.factorize(tokens)
        width = max(len(vocab), 1)
        key = np.sort(rows.astype(np.int64) * width + tok_id)
        key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key  # a token once per title
        held = np.bincount(key % width, minlength=len(vocab))
        keep = np.flatnonzero(held >= keep_min)
        return cls(dict(zip(np.asarray(vocab, dtype=object)[keep].tolist(), held[keep].tolist(), strict=False)),
                   len(cleaned))

    def weigh(self, tokens: np.ndarray) -> np.ndarray:
        """The weight of each token (object array of str)."""
        n = max(self.titles, 1)
        held = pd.Series(tokens, dtype=object).map(self.counts).fillna(0).to_numpy(dtype=np.float64)
        return np.maximum(np.log((n + 1) / (held + 1)), self.floor)


def _tokens(titles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (title position, token) of space-separated titles, in order."""
    texts = np.asarray(titles, dtype=object).tolist()
    counts = np.fromiter((t.count(" ") + 1 if t else 0 for t in texts), dtype=np.int64, count=len(texts))
    joined = " ".join(t for t in texts if t)
    tokens = np.array(joined.split(" ") if joined else [], dtype=object)
    return np.repeat(np.arange(len(texts)), counts), tokens


def weighted_similarity(a: np.ndarray, b: np.ndarray, weights: TitleWeights) -> np.ndarray:
    """Weighted Jaccard of the token sets of titles ``a[k]`` and ``b[k]`` (0..1; 1 for two empty)."""
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    codes, uniques = pd.factorize(np.concatenate([a, b]))
    return weighted_similarity_of(np.asarray(uniques, dtype=object), codes[: len(a)], codes[len(a):], weights)


def weighted_similarity_of(titles: np.ndarray, ca: np.ndarray, cb: np.ndarray, weights: TitleWeights,
                           containment: bool = False) -> Any:
    """Weighted Jaccard of the token sets of ``titles[ca[k]]`` and ``titles[cb[k]]``; with
    ``containment``, also the shared weight over the lighter title's (a title cut short
    is contained in the whole one): a tuple of the two arrays.

    Each title is tokenised once whatever the number of pairs; shared tokens are found by
    one sorted search; only the titles some pair names are read.
    """
    used = np.zeros(len(titles), dtype=bool)
    used[ca], used[cb] = True, True
    if not used.all():
        kept = np.flatnonzero(used)
        renumber = np.full(len(titles), -1, dtype=np.int64)
        renumber[kept] = np.arange(len(kept))
        titles, ca, cb = np.asarray(titles, dtype=object)[kept], renumber[ca], renumber[cb]
    rows, tokens = _tokens(titles)
    tok_id, vocab = pd.factorize(tokens)
    width = max(len(vocab), 1)
    key = np.sort(rows.astype(np.int64) * width + tok_id)  # each title's token set (np.unique is slow)
    key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key
    rows, tok_id = key // width, key % width
    w = weights.weigh(np.asarray(vocab, dtype=object))[tok_id] if len(vocab) else np.empty(0)
    n_titles = len(titles)
    total = np.bincount(rows, weights=w, minlength=n_titles)
    start = np.searchsorted(rows, np.arange(n_titles + 1))
    # every token of a's title, looked up among b's title's tokens
    length = start[ca + 1] - start[ca]
    pair = np.repeat(np.arange(len(ca)), length)
    offset = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    at = start[ca][pair] + offset
    wanted = cb[pair].astype(np.int64) * width + tok_id[at]
    found = np.searchsorted(key, wanted)
    hit = (found < len(key)) & (key[np.minimum(found, max(len(key) - 1, 0))] == wanted) if len(key) else found < 0
    inter = np.bincount(pair[hit], weights=w[at[hit]], minlength=len(ca))
    union = total[ca] + total[cb] - inter
    jaccard = np.where(union > 0, inter / np.where(union > 0, union, 1), 1.0)
    if not containment:
        return jaccard
    lighter = np.minimum(total[ca], total[cb])
    shorter = np.minimum(start[ca + 1] - start[ca], start[cb + 1] - start[cb])
    inside = np.where((lighter > 0) & (shorter >= 5), inter / np.where(lighter > 0, lighter, 1), 0.0)
    return jaccard, inside
