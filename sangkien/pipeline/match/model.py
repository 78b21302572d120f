"""The match model: feature levels and their weights, and records prepared (coded) for matching."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sangkien.text.persons import family_given
from sangkien.text.titles import TitleWeights, clean_title_codes, load_abbreviations

# Feature levels, in order; each level's weight is log2(m/u) from calibration.
LEVELS: dict[str, tuple[str, ...]] = {
    # titles cleaned (sangkien.text.titles): form words dropped, abbreviations expanded;
    # "similar" levels by rapidfuzz ratio or the token-rarity-weighted Jaccard
    "title": ("exact", "numbers differ", "near", "similar", "related", "different"),
    # authors parsed as Vietnamese names (sangkien.text.persons): "same but middle names"
    # when family and given names agree and only middle names differ (left out, an initial)
    "authors": ("same", "same but middle names", "subset", "overlap", "different", "missing"),
    "unit": ("same", "related", "different"),
    # applied_on, recognized_on and submitted_at together: copies share them (they are not
    # independent evidence, so they are one feature rather than three)
    # one date far off is a typo's mark (a day and month swapped); two or more far off is a
    # second initiative filed months later by the same people
    "dates": ("all same", "two same, one within 3 days", "some same, rest within 31 days",
              "all within 31 days", "one more than 31 days apart", "two or more over 31 days apart"),
    "portal_id": ("same", "conflict", "missing"),
}
FEATURES = tuple(LEVELS)

# log2(m/u) per level (same order as LEVELS), and the prior log2-odds of a candidate pair
# being a match: the priors of the weights each store learns at a full run
# (sangkien.pipeline.match.fit), and the weights of a store too small to learn from.
# Set by hand from bench/er_calibrate.py on a --noise hard world, then moderated
# (docs/matching.md): no author level is a veto (names are typed too many ways), identical
# dates are capped at +12 (units submit in batches), two portal ids are evidence, not proof.
DEFAULT_WEIGHTS: dict[str, tuple[float, ...]] = {
    "title": (14.0, -5.5, 9.0, 3.0, -3.0, -12.0),
    "authors": (4.3, 3.5, -1.0, -4.0, -6.0, 0.0),
    "unit": (0.0, -2.0, -9.0),
    "dates": (12.0, 9.0, 0.0, -8.0, -8.0, -15.0),
    "portal_id": (16.6, -6.0, 0.4),
}
DEFAULT_PRIOR = -4.4

# Levels that say "a different initiative": a second one by the same people, filed months
# later, has its own dates; another initiative of the same people, recognized in the same
# batch, has its own title; an unrelated unit is another office. Their learned weight is never
# above the prior's: where such pairs are common, EM takes them for copies (they agree on
# the other features: authors, unit, a batch's dates) and would learn the contradiction as
# weak; the data may sharpen it, never excuse it. (Title "numbers differ" is learned freely:
# copies too gain a year or a unit's name with a number in it, "... năm 2023", "... - Trung
# tâm 115"; the dates tell them apart. No author level is capped: names are typed too many ways.)
CONTRADICTIONS: dict[str, tuple[str, ...]] = {
    "title": ("different",),
    "unit": ("different",),
    "dates": ("two or more over 31 days apart",),
}


@dataclass(frozen=True)
class MatchModel:
    """Weights and thresholds of the decision (log2-odds units)."""

    weights: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    prior: float = DEFAULT_PRIOR
    threshold: float = 0.0       # merge at or above (posterior 0.5)
    review_low: float = -4.0     # pairs in [review_low, review_high) go to the review queue
    review_high: float = 4.0
    split_below: float = -10.0   # a pair this unlikely inside a group splits the group
    max_block: int = 300
    title_chars: int = 24        # blocking on the first / last characters of the folded title
    title_weights: TitleWeights | None = None  # token rarity in the store (None: every token alike)
    abbreviations: dict[str, str] | None = None  # learned from the store's titles, beside the built-in table
    fitted: dict[str, Any] | None = None       # how the weights were learned (None: the priors)

    def level_weights(self, name: str) -> np.ndarray:
        return np.asarray(self.weights[name], dtype=np.float64)


DEFAULT_MODEL = MatchModel()


@dataclass
class Prepared:
    """Coded arrays of a frame of records, ready for blocking and comparison.

    Every code is a stable 63-bit hash of the value (:func:`hash_codes`; -1 when missing):
    equal values get equal codes in every run and process, so the arrays of records
    prepared on different nights (the persisted match index, :mod:`sangkien.pipeline.match.index`)
    can be compared and blocked together.
    """

    n: int
    unit: np.ndarray            # codes of unit_code
    unit_parents: np.ndarray    # (n, 2) codes of the geographic and sector parent, -1 if none
    title: np.ndarray           # folded titles (object)
    title_code: np.ndarray
    head: np.ndarray            # code of the title's first ``title_chars`` characters (-1 if under 8 long)
    tail: np.ndarray            # and of its last ones
    authors: np.ndarray         # (n, k) codes of author keys, -1 padded
    n_authors: np.ndarray
    days: dict[str, np.ndarray]  # date columns as int day numbers, NO_DAY when missing
    portal: np.ndarray          # codes, -1 when missing
    author_set: np.ndarray | None = None  # code of the whole author set (full names), -1 if none

    def parent_matrix(self) -> np.ndarray:
        """``unit_parents`` as an (n, 2) int64 array; all -1 where this frame was prepared without them."""
        if self.unit_parents.ndim == 2 and self.unit_parents.shape == (self.n, 2):
            return self.unit_parents.astype(np.int64, copy=False)
        return np.full((self.n, 2), -1, dtype=np.int64)

    def take(self, rows: np.ndarray) -> Prepared:
        """The prepared arrays of ``rows`` only."""
        return Prepared(len(rows), self.unit[rows], self.unit_parents[rows], self.title[rows], self.title_code[rows],
                        self.head[rows], self.tail[rows], self.authors[rows], self.n_authors[rows],
                        {k: v[rows] for k, v in self.days.items()}, self.portal[rows],
                        None if self.author_set is None else self.author_set[rows])


def concat_prepared(parts: list[Prepared]) -> Prepared:
    """Rows of several prepared frames, in order, as one."""
    width = max(p.authors.shape[1] for p in parts)
    authors = np.concatenate([np.pad(p.authors, ((0, 0), (0, width - p.authors.shape[1])), constant_values=-1)
                              for p in parts])
    return Prepared(sum(p.n for p in parts),
                    **{f: np.concatenate([getattr(p, f) for p in parts])
                       for f in ("unit", "unit_parents", "title", "title_code", "head", "tail")},
                    authors=authors, n_authors=np.concatenate([p.n_authors for p in parts]),
                    days={k: np.concatenate([p.days[k] for p in parts]) for k in parts[0].days},
                    portal=np.concatenate([p.portal for p in parts]),
                    author_set=np.concatenate([p.author_set for p in parts]))


NO_DAY = np.iinfo(np.int64).min // 4
DATE_COLUMNS = ("applied_on", "recognized_on", "submitted_at")


def hash_codes(values: object) -> np.ndarray:
    """A stable 63-bit code per value (int64 >= 0), -1 for a missing or empty one.

    pandas' hash_array (SipHash with a fixed key): the same string gets the same code in
    every process, so codes can be stored and compared across runs. The index records the
    scheme (:data:`CODE_SCHEME`); a change of it rebuilds the index with a full run.
    """
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)  # each distinct value hashed once
    hashed = (pd.util.hash_array(uniques, categorize=False) >> np.uint64(1)).astype(np.int64)
    hashed[uniques == ""] = -1
    return np.r_[hashed, -1][codes]  # code -1 (missing) takes the -1 appended


# v2: parsed names, cleaned titles; v3: author-set blocking; v4: the unit's parents kept for blocking
CODE_SCHEME = f"siphash-pandas-{pd.__version__.split('.')[0]}-v4"


def _days(values: pd.Series) -> np.ndarray:
    dt = pd.to_datetime(values, errors="coerce")
    out = dt.to_numpy(dtype="datetime64[D]").astype(np.int64)
    out[dt.isna().to_numpy()] = NO_DAY
    return out


def _distinct_ends(titles: np.ndarray, model: MatchModel) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the first and last ``title_chars`` characters of each (distinct) title (-1 if under 8 long)."""
    s = pd.Series(titles, dtype=object)
    short = s.str.len() < 8
    return hash_codes(s.str[: model.title_chars].where(~short)), hash_codes(s.str[-model.title_chars:].where(~short))


def parent_codes(units: pd.Series, parents: dict[str, tuple[str | None, str | None]] | None) -> np.ndarray:
    """(n, 2) codes of each unit's geographic and sector parent (-1 if none or unknown)."""
    n = len(units)
    if not parents:
        return np.full((n, 2), -1, dtype=np.int64)
    codes, uniques = pd.factorize(pd.Series(units, dtype=object), use_na_sentinel=True)
    par = np.full((len(uniques) + 1, 2), -1, dtype=np.int64)  # last row: a missing unit
    for k in range(2):
        par[:-1, k] = hash_codes([parents.get(u, (None, None))[k] for u in uniques])
    return par[np.where(codes >= 0, codes, len(uniques))]


def _split_keys(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The non-empty parts of "|"-joined keys, in order, with the position of the row each came from."""
    keys = values.fillna("").astype(object).to_numpy()
    filled = np.flatnonzero(keys != "")
    joined = keys[filled].tolist()
    if not joined:  # "".split("|") would be one empty part for no row
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
    parts = np.array("|".join(joined).split("|"), dtype=object)  # one split for all rows
    row = np.repeat(filled, [k.count("|") + 1 for k in joined])
    keep = parts != ""
    return row[keep], parts[keep]


def author_codes(author_keys: pd.Series, width_cap: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From "|"-joined person keys per row: the (n, k) codes of each author's family + given
    names (-1 padded, each distinct once per row, packed left), their count, and the code of
    the row's whole key set (-1 when it has none). Each distinct key set is read once."""
    codes, uniques = pd.factorize(author_keys.fillna("").astype(object).to_numpy())
    authors, count, whole = _distinct_author_codes(pd.Series(np.asarray(uniques, dtype=object), dtype=object),
                                                   width_cap)
    return authors[codes], count[codes], whole[codes]


def _distinct_author_codes(author_keys: pd.Series, width_cap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(author_keys)
    row, key = _split_keys(author_keys)
    codes = hash_codes(family_given(key)) if len(key) else np.empty(0, dtype=np.int64)
    first = np.r_[True, row[1:] != row[:-1]] if len(row) else np.empty(0, dtype=bool)
    slot = np.arange(len(row)) - np.maximum.accumulate(np.where(first, np.arange(len(row)), 0))
    width = min(max(1, int(slot.max()) + 1) if len(slot) else 1, width_cap)
    authors = np.full((n, width), -1, dtype=np.int64)
    keep = slot < width
    authors[row[keep], slot[keep]] = codes[keep]
    authors = -np.sort(-authors, axis=1)  # descending: -1 last, repeats side by side
    if width > 1:
        repeat = np.zeros_like(authors, dtype=bool)
        repeat[:, 1:] = (authors[:, 1:] == authors[:, :-1]) & (authors[:, 1:] >= 0)
        authors[repeat] = -1
        authors = -np.sort(-authors, axis=1)
    return authors, (authors >= 0).sum(axis=1), hash_codes(author_keys.to_numpy())


def prepare(frame: pd.DataFrame, parents: dict[str, tuple[str | None, str | None]] | None = None,
            model: MatchModel | None = None) -> Prepared:
    """Code the columns the matcher reads: unit_code, title_folded, author_keys ("|"-joined
    person keys, :func:`sangkien.text.persons.person_key`), applied_on, recognized_on,
    submitted_at, portal_id. Titles are cleaned (:func:`sangkien.text.titles.clean_titles`).
    ``parents`` maps a unit code to its (geographic, sector) parents, for the "related unit" level."""
    model = model or DEFAULT_MODEL
    frame = frame.reset_index(drop=True)  # rows are positions from here on
    n = len(frame)
    units = frame["unit_code"].astype(object)
    table = load_abbreviations()  # built in, and the user's file ($SANGKIEN_TITLE_ABBREVIATIONS)
    if model.abbreviations:
        table = {**model.abbreviations, **table}  # what a person wrote wins over what was learned
    codes, cleaned = clean_title_codes(frame["title_folded"].fillna("").astype(object).to_numpy(), table)
    head, tail = _distinct_ends(cleaned, model)  # each distinct title read once
    authors, n_authors, author_set = author_codes(frame["author_keys"])
    days = {name: _days(frame[name]) for name in DATE_COLUMNS}
    return Prepared(n, hash_codes(units), parent_codes(units, parents), cleaned[codes], hash_codes(cleaned)[codes],
                    head[codes], tail[codes], authors, n_authors, days, hash_codes(frame["portal_id"]), author_set)
