"""``--noise real``: copies varied the ways Vietnamese offices type names and titles.

On top of the kinds of ``hard`` noise (a title without diacritics or with a typo, authors
in another order, a co-author dropped, a date a few days off, the unit typed by name):

* ``author_title``: a title or honorific before authors' names ("ThS.", "PGS.TS.",
  "BS.CKI", "KS.", "CN.", "Đ/c", "Ông", "Bà", ...);
* ``middle_dropped``: middle names left out ("Võ Thùy Dũng" -> "Võ Dũng");
* ``middle_initial``: middle names as initials ("Nguyễn T. Lan");
* ``given_first``: the given name moved to the front ("Lan Nguyễn Thị");
* ``title_form``: a form word before the title ("Sáng kiến:", "Giải pháp:", "Đề tài:"),
  quotes around it, a full stop after it, all of it in capitals;
* ``title_abbreviated``: common phrases abbreviated ("công nghệ thông tin" -> "CNTT").

``real:KIND`` keeps only that kind (every noisy copy gets it): the worlds of the
leave-one-out table in ``bench/er_compare.py``.
"""

from __future__ import annotations

import numpy as np

BASE_KINDS = ("title_plain", "title_typo", "authors_swapped", "coauthor_dropped", "date_shifted", "unit_variant")
REAL_KINDS = BASE_KINDS + ("author_title", "middle_dropped", "middle_initial", "given_first", "title_form",
                           "title_abbreviated")
REAL_SHARE = 0.35

_TITLES = ("ThS. ", "TS. ", "PGS.TS. ", "GS.TS. ", "BS.CKI ", "BS.CKII ", "BS. ", "KS. ", "CN. ", "DS. ", "Đ/c ",
           "Ông ", "Bà ", "ThS.BS ", "Th.S ", "Kỹ sư ", "Thạc sĩ ")
_FORMS = ("Sáng kiến: ", "Giải pháp: ", "Đề tài: ", "SK: ", "Tên sáng kiến: ")
_QUOTES = (("“", "”"), ('"', '"'), ("'", "'"), ("«", "»"), ("", ""))
_ABBREVIATIONS = (("công nghệ thông tin", "CNTT"), ("an toàn vệ sinh lao động", "ATVSLĐ"),
                  ("người lao động", "NLĐ"), ("công đoàn cơ sở", "CĐCS"), ("công đoàn", "CĐ"),
                  ("sản xuất kinh doanh", "SXKD"), ("khoa học kỹ thuật", "KHKT"), ("năng suất lao động", "NSLĐ"),
                  ("cải cách hành chính", "CCHC"), ("bệnh viện", "BV"), ("giáo viên", "GV"), ("học sinh", "HS"))


def kinds_of(noise: str) -> tuple[str, ...]:
    """The kinds a ``real`` noise level draws from: every kind, or the one named after ``real:``."""
    if noise == "real":
        return REAL_KINDS
    kind = noise.partition(":")[2]
    if kind not in REAL_KINDS:
        raise ValueError(f"noise real:KIND takes one of {', '.join(REAL_KINDS)}; got {kind!r}")
    return (kind,)


def real_flags(rng: np.random.Generator, copies: np.ndarray, noise: str) -> dict[str, np.ndarray]:
    """Which rows get which kind: a share of rows whose initiative has >= 2 copies, one to three kinds each."""
    kinds = kinds_of(noise)
    n = len(copies)
    noisy = (copies >= 2) & (rng.random(n) < REAL_SHARE)
    how_many = 1 + (rng.random(n) < 0.4) + (rng.random(n) < 0.15)
    picks = rng.integers(0, len(kinds), size=(n, 3))
    flags = {kind: np.zeros(n, dtype=bool) for kind in REAL_KINDS}
    for k, kind in enumerate(kinds):
        for slot in range(3):
            flags[kind] |= noisy & (picks[:, slot] == k) & (slot < how_many)
    return flags


def vary_name(name: str, kind: str, r: float) -> str:
    """One author's name varied by ``kind`` (``r`` in [0, 1) picks among the ways)."""
    words = name.split()
    if kind == "author_title":
        return _TITLES[int(r * len(_TITLES))] + name
    if len(words) < 3:
        return name if kind != "given_first" else " ".join(words[1:] + words[:1])
    if kind == "middle_dropped":
        return f"{words[0]} {words[-1]}"
    if kind == "middle_initial":
        return " ".join([words[0], *(w[0] + "." for w in words[1:-1]), words[-1]])
    if kind == "given_first":  # "Lan Nguyễn Thị", or western order "Thị Lan Nguyễn"
        return " ".join([words[-1], *words[:-1]]) if r < 0.6 else " ".join([*words[1:], words[0]])
    return name


def vary_title(title: str, kind: str, r: float) -> str:
    """A title varied by ``kind`` (``r`` in [0, 1) picks among the ways)."""
    if kind == "title_form":
        form = _FORMS[int(r * len(_FORMS))] if r < 0.7 else ""
        left, right = _QUOTES[int(r * 7919) % len(_QUOTES)]
        text = f"{form}{left}{title}{right}" + ("." if int(r * 104729) % 2 else "")
        return text.upper() if int(r * 15485863) % 3 == 0 else text
    if kind == "title_abbreviated":
        lowered = title.lower()
        for phrase, short in _ABBREVIATIONS:
            at = lowered.find(phrase)
            if at >= 0:
                return title[:at] + short + title[at + len(phrase):]
    return title


def apply_real(title: np.ndarray, names: list[np.ndarray], flags: dict[str, np.ndarray],
               rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
    """Titles and per-author-slot names with the real kinds of ``flags`` applied (new arrays)."""
    title = title.copy()
    for kind in ("title_form", "title_abbreviated"):
        rows = np.flatnonzero(flags[kind])
        picks = rng.random(len(rows))
        title[rows] = [vary_title(str(title[i]), kind, float(r)) for i, r in zip(rows, picks)]
    names = [a.copy() for a in names]
    for kind in ("author_title", "middle_dropped", "middle_initial", "given_first"):
        rows = np.flatnonzero(flags[kind])
        for slot, col in enumerate(names):
            touched = rows[rng.random(len(rows)) < (0.8 if slot == 0 else 0.6)]
            picks = rng.random(len(touched))
            col[touched] = [vary_name(str(col[i]), kind, float(r)) for i, r in zip(touched, picks)]
    return title, names
