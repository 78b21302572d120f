"""Probabilistic record matching: blocking, scoring and clustering, vectorized.

The pipeline over a frame of normalized records (one row per accepted record):

1. **Blocking** (:func:`candidate_pairs`): only records sharing a blocking key are
   compared: unit + application month; unit + an author; unit + the start of the
   folded title; unit + the end of the folded title; an author + application date
   (catches a unit typed wrongly); the portal id. Keys shared by more than
   ``max_block`` records are skipped (they would compare everything with everything).
2. **Scoring** (:func:`compare`): each candidate pair gets a level per feature
   (title by two scorers, author-set overlap, unit same/related/different, three
   dates, portal id agreement or conflict). A Fellegi-Sunter weight per level
   (``log2(m/u)``, calibrated on generated worlds with known truth; see
   ``bench/er_calibrate.py``) sums with the prior into the pair's match weight: the
   log2-odds that the two records are one initiative.
3. **Clustering** (:func:`cluster`): pairs at or above the threshold join records;
   a joined group that also holds a pair with strong evidence against it (a weight
   below ``split_below``, or a reviewer's "no") is
   rebuilt link by link, strongest first, never joining two groups across such a
   pair. So one weak link cannot chain unrelated records together.

Nothing here touches the store or Prefect; :mod:`sangkien.resolve` feeds it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# Feature levels, in order; each level's weight is log2(m/u) from calibration.
LEVELS: dict[str, tuple[str, ...]] = {
    "title": ("exact", "ratio>=95", "ratio>=88", "set>=90", "ratio>=75", "different"),
    "authors": ("same", "subset", "overlap", "different", "missing"),
    "unit": ("same", "related", "different"),
    # applied_on, recognized_on and submitted_at together: copies share them (they are not
    # independent evidence, so they are one feature rather than three)
    "dates": ("all same", "two same, one within 3 days", "some same, rest within 31 days",
              "all within 31 days", "one more than 31 days apart"),
    "portal_id": ("same", "conflict", "missing"),
}
FEATURES = tuple(LEVELS)

# log2(m/u) per level (same order as LEVELS), and the prior log2-odds of a candidate pair
# being a match. From bench/er_calibrate.py on a 193,193-record --noise hard world
# (55,248 true pairs among 1.23 M candidates), then moderated where the simulated world
# has no evidence or is cleaner than life (documented in docs/matching.md):
# - levels no true match reached there (two-typo titles, a replaced co-author, a unit
#   typed as its parent) get a milder weight than the -6..-15 calibration gives them;
# - a completely different author set is the strongest "no": -20;
# - identical dates (+16.9 calibrated) are capped at +12: real units submit in batches;
# - two portal ids (-14 calibrated) are evidence, not proof: the portal holds some
#   initiatives twice, uploaded by the author and again by a union officer.
DEFAULT_WEIGHTS: dict[str, tuple[float, ...]] = {
    "title": (16.0, 10.6, 2.0, 0.0, -6.0, -15.7),
    "authors": (4.3, -1.5, -6.0, -20.0, 0.0),
    "unit": (0.0, -2.0, -9.0),
    "dates": (12.0, 9.0, 0.0, -8.0, -15.0),
    "portal_id": (16.6, -6.0, 0.4),
}
DEFAULT_PRIOR = -4.4


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

    def level_weights(self, name: str) -> np.ndarray:
        return np.asarray(self.weights[name], dtype=np.float64)


DEFAULT_MODEL = MatchModel()


@dataclass
class Prepared:
    """Coded arrays of a frame of records, ready for blocking and comparison.

    Every code is a stable 63-bit hash of the value (:func:`hash_codes`; -1 when missing):
    equal values get equal codes in every run and process, so the arrays of records
    prepared on different nights (the persisted match index, :mod:`sangkien.matchindex`)
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
    days: dict[str, np.ndarray]  # date columns as int day numbers, _NO_DAY when missing
    portal: np.ndarray          # codes, -1 when missing

    def take(self, rows: np.ndarray) -> "Prepared":
        """The prepared arrays of ``rows`` only."""
        return Prepared(len(rows), self.unit[rows], self.unit_parents[rows], self.title[rows], self.title_code[rows],
                        self.head[rows], self.tail[rows], self.authors[rows], self.n_authors[rows],
                        {k: v[rows] for k, v in self.days.items()}, self.portal[rows])


def concat_prepared(parts: list[Prepared]) -> Prepared:
    """Rows of several prepared frames, in order, as one."""
    width = max(p.authors.shape[1] for p in parts)
    authors = np.concatenate([np.pad(p.authors, ((0, 0), (0, width - p.authors.shape[1])), constant_values=-1)
                              for p in parts])
    return Prepared(sum(p.n for p in parts), *(np.concatenate([getattr(p, f) for p in parts]) for f in
                                               ("unit", "unit_parents", "title", "title_code", "head", "tail")),
                    authors, np.concatenate([p.n_authors for p in parts]),
                    {k: np.concatenate([p.days[k] for p in parts]) for k in parts[0].days},
                    np.concatenate([p.portal for p in parts]))


_NO_DAY = np.iinfo(np.int64).min // 4
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


CODE_SCHEME = f"siphash-pandas-{pd.__version__.split('.')[0]}-v1"


def _days(values: pd.Series) -> np.ndarray:
    dt = pd.to_datetime(values, errors="coerce")
    out = dt.to_numpy(dtype="datetime64[D]").astype(np.int64)
    out[dt.isna().to_numpy()] = _NO_DAY
    return out


def title_ends(title: np.ndarray, model: "MatchModel") -> tuple[np.ndarray, np.ndarray]:
    """Codes of the first and last ``title_chars`` characters of each folded title (-1 if under 8 long)."""
    s = pd.Series(title, dtype=object)
    short = s.str.len() < 8
    return (hash_codes(s.str[: model.title_chars].where(~short)),
            hash_codes(s.str[-model.title_chars:].where(~short)))


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
    parts = np.array("|".join(joined).split("|"), dtype=object)  # one split for all rows
    row = np.repeat(filled, [k.count("|") + 1 for k in joined])
    keep = parts != ""
    return row[keep], parts[keep]


def prepare(frame: pd.DataFrame, parents: dict[str, tuple[str | None, str | None]] | None = None,
            model: "MatchModel | None" = None) -> Prepared:
    """Code the columns the matcher reads: unit_code, title_folded, author_keys ("|"-joined),
    applied_on, recognized_on, submitted_at, portal_id. ``parents`` maps a unit code to its
    (geographic, sector) parents, for the "related unit" level."""
    model = model or DEFAULT_MODEL
    frame = frame.reset_index(drop=True)  # rows are positions from here on
    n = len(frame)
    units = frame["unit_code"].astype(object)
    title = frame["title_folded"].fillna("").astype(object).to_numpy()
    row, key = _split_keys(frame["author_keys"])
    codes = hash_codes(key)
    first = np.r_[True, row[1:] != row[:-1]] if len(row) else np.empty(0, dtype=bool)
    slot = np.arange(len(row)) - np.maximum.accumulate(np.where(first, np.arange(len(row)), 0))
    width = max(1, int(slot.max()) + 1) if len(slot) else 1
    width = min(width, 8)
    authors = np.full((n, width), -1, dtype=np.int64)
    keep = slot < width
    authors[row[keep], slot[keep]] = codes[keep]
    n_authors = (authors >= 0).sum(axis=1)
    head, tail = title_ends(title, model)
    days = {name: _days(frame[name]) for name in DATE_COLUMNS}
    return Prepared(n, hash_codes(units), parent_codes(units, parents), title, hash_codes(title), head, tail,
                    authors, n_authors, days, hash_codes(frame["portal_id"]))


# --- blocking ------------------------------------------------------------------------------

def _block_pairs(keys: np.ndarray, rows: np.ndarray, max_block: int) -> np.ndarray:
    """Pairs (as i * n + j codes are built later) of rows sharing a key: an (m, 2) array."""
    ok = keys >= 0
    keys, rows = keys[ok], rows[ok]
    if len(keys) < 2:
        return np.empty((0, 2), dtype=np.int64)
    order = np.lexsort((rows, keys))
    k, r = keys[order], rows[order]
    fresh = np.r_[True, (k[1:] != k[:-1]) | (r[1:] != r[:-1])]  # a row holds a key once (an author named twice)
    k, r = k[fresh], r[fresh]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    sizes = np.diff(np.r_[starts, len(k)])
    group = np.repeat(np.arange(len(starts)), sizes)
    size = sizes[group]
    pos = np.arange(len(k)) - starts[group]
    cand = np.flatnonzero((size >= 2) & (size <= max_block))
    out = []
    d = 1
    while len(cand):
        cand = cand[pos[cand] + d < size[cand]]
        if not len(cand):
            break
        out.append(np.stack([r[cand], r[cand + d]], axis=1))
        d += 1
    return np.concatenate(out) if out else np.empty((0, 2), dtype=np.int64)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(salt: int, *codes: np.ndarray) -> np.ndarray:
    """One stable 63-bit key per row for a tuple of code columns (-1 anywhere -> -1)."""
    n = len(codes[0])
    h = np.full(n, (salt * int(_GOLDEN)) & 0xFFFFFFFFFFFFFFFF, dtype=np.uint64)
    missing = np.zeros(n, dtype=bool)
    for c in codes:
        c = np.asarray(c, dtype=np.int64)
        missing |= c < 0
        h = (h ^ c.view(np.uint64)) * _GOLDEN
        h ^= h >> np.uint64(29)
    out = (h >> np.uint64(1)).astype(np.int64)
    out[missing] = -1
    return out


def _known(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    return np.where(known, values, -1)


BLOCKING_RULES = ("unit+month", "unit+author", "unit+title start", "unit+title end", "author+applied", "portal_id")


def blocking_keys(prep: Prepared, model: MatchModel = DEFAULT_MODEL) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each blocking rule's (key, row) arrays; keys are stable codes (-1: no key)."""
    rows = np.arange(prep.n, dtype=np.int64)
    applied = prep.days["applied_on"]
    known = applied != _NO_DAY
    month = _known(np.where(known, applied, 0).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64), known)
    day = _known(applied, known)
    a_rows = np.repeat(rows, prep.authors.shape[1])
    a_codes = prep.authors.reshape(-1)
    return {
        "unit+month": (_mix(1, prep.unit, month), rows),
        "unit+author": (_mix(2, prep.unit[a_rows], a_codes), a_rows),
        "unit+title start": (_mix(3, prep.unit, prep.head), rows),
        "unit+title end": (_mix(4, prep.unit, prep.tail), rows),
        "author+applied": (_mix(5, a_codes, day[a_rows]), a_rows),
        "portal_id": (_mix(6, prep.portal), rows),
    }


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique for int64 by sorting (numpy 2.4's np.unique is ~15x slower on millions of ints)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def candidate_pairs(prep: Prepared, model: MatchModel = DEFAULT_MODEL) -> tuple[np.ndarray, np.ndarray]:
    """Distinct candidate pairs (i < j) from every blocking rule.

    (A night's pairs, those holding a record of its delta, come from
    :func:`sangkien.matchindex.delta_pairs` over the same rules.)
    """
    parts = []
    for keys, rows in blocking_keys(prep, model).values():
        pairs = _block_pairs(keys, rows, model.max_block)
        lo, hi = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
        del pairs
        parts.append(_sorted_unique(lo[lo != hi] * np.int64(prep.n) + hi[lo != hi]))  # pair codes, per rule
        del lo, hi
    codes = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    del parts
    codes.sort()  # in place: the pairs are the largest arrays of a full run
    codes = codes[np.r_[True, codes[1:] != codes[:-1]]] if len(codes) else codes
    first = codes // prep.n
    codes -= first * prep.n
    return first, codes


# --- scoring -------------------------------------------------------------------------------

def _date_level(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """0 same day, 1 within 3 days (or unknown on either side), 2 within 31 days, 3 further."""
    diff = np.abs(a - b)
    level = (diff > 0).astype(np.int8)
    level += diff > 3
    level += diff > 31
    level[(a == _NO_DAY) | (b == _NO_DAY)] = 1
    return level


def _dates_level(prep: Prepared, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    per = [_date_level(prep.days[n][i], prep.days[n][j]) for n in ("applied_on", "recognized_on", "submitted_at")]
    same = sum((p == 0).astype(np.int8) for p in per)
    worst = np.maximum(np.maximum(per[0], per[1]), per[2])
    return np.select([same == 3, (same == 2) & (worst <= 1), (same >= 1) & (worst <= 2), worst <= 2],
                     [0, 1, 2, 3], 4)


COMPARE_CHUNK = 2_000_000


def compare(prep: Prepared, i: np.ndarray, j: np.ndarray, model: MatchModel = DEFAULT_MODEL,
            titles: Callable[[np.ndarray], np.ndarray] | None = None) -> pd.DataFrame:
    """A level per feature for each pair (i[k], j[k]) (int8 columns named as FEATURES).

    Titles are scored last, and only for pairs the other features leave within reach of
    the review band: for the rest, even an exact title could not make the pair a match,
    and they keep the level "different" (the decision is the same either way).
    ``titles``, when given, returns the folded titles of sorted rows and ``prep.title`` is
    not read: a night decodes only the titles of the pairs within reach.
    """
    if len(i) > COMPARE_CHUNK:  # bounded memory: a few hundred MB per chunk whatever the pair count
        return pd.concat([compare(prep, i[k:k + COMPARE_CHUNK], j[k:k + COMPARE_CHUNK], model, titles)
                          for k in range(0, len(i), COMPARE_CHUNK)], ignore_index=True)
    from rapidfuzz import fuzz, process

    out: dict[str, np.ndarray] = {}
    ni, nj = prep.n_authors[i], prep.n_authors[j]
    common = np.zeros(len(i), dtype=np.int64)
    aj = prep.authors[j]
    rows = np.arange(len(i))
    for x in range(prep.authors.shape[1]):  # codes are packed left (-1 after): only pairs whose first
        rows = rows[ni[rows] > x]            # record has an x-th author compare it
        if not len(rows):
            break
        col = prep.authors[i[rows], x]
        common[rows] += (aj[rows] == col[:, None]).any(axis=1)
    missing = (ni == 0) | (nj == 0)
    out["authors"] = np.select(
        [missing, (common == ni) & (common == nj), common == np.minimum(ni, nj), common > 0], [4, 0, 1, 2], 3)

    ui, uj = prep.unit[i], prep.unit[j]
    pi, pj = prep.unit_parents[i], prep.unit_parents[j]
    related = ((pi[:, :1] == pj) & (pi[:, :1] >= 0)).any(axis=1) | ((pi[:, 1:] == pj) & (pi[:, 1:] >= 0)).any(axis=1)
    related |= (pi == uj[:, None]).any(axis=1) | (pj == ui[:, None]).any(axis=1)
    out["unit"] = np.select([ui == uj, related], [0, 1], 2)

    out["dates"] = _dates_level(prep, i, j)

    qi, qj = prep.portal[i], prep.portal[j]
    out["portal_id"] = np.select([(qi >= 0) & (qi == qj), (qi >= 0) & (qj >= 0)], [0, 1], 2)

    partial = np.full(len(i), model.prior, dtype=np.float64)
    for name, level in out.items():
        partial += model.level_weights(name)[level]
    reach = partial + model.level_weights("title").max() >= model.review_low
    title = np.full(len(i), LEVELS["title"].index("different"), dtype=np.int64)
    ci, cj = i[reach], j[reach]
    exact = prep.title_code[ci] == prep.title_code[cj]
    if len(ci):
        if titles is None:
            ti, tj = prep.title[ci], prep.title[cj]
        else:
            rows, inverse = np.unique(np.r_[ci, cj], return_inverse=True)
            got = titles(rows)
            ti, tj = got[inverse[:len(ci)]], got[inverse[len(ci):]]
        ratio = process.cpdist(ti, tj, scorer=fuzz.ratio, workers=-1)
        middle = np.flatnonzero((ratio >= 75) & (ratio < 95) & ~exact)
        token_set = np.zeros(len(ci))
        if len(middle):
            token_set[middle] = process.cpdist(ti[middle], tj[middle], scorer=fuzz.token_set_ratio, workers=-1)
        title[reach] = np.select([exact, ratio >= 95, ratio >= 88, token_set >= 90, ratio >= 75], [0, 1, 2, 3, 4], 5)
    out = {"title": title, **out}
    return pd.DataFrame({k: out[k].astype(np.int8) for k in FEATURES})


def weigh(levels: pd.DataFrame, model: MatchModel = DEFAULT_MODEL) -> np.ndarray:
    """The match weight (log2-odds) of each compared pair."""
    total = np.full(len(levels), model.prior, dtype=np.float64)
    for name in FEATURES:
        total += model.level_weights(name)[levels[name].to_numpy()]
    return total


def evidence(levels: pd.DataFrame, model: MatchModel = DEFAULT_MODEL) -> list[str]:
    """Each pair's evidence as text: "title=exact(+8.0) authors=subset(+3.0) ..."."""
    parts = []
    for name in FEATURES:
        labels = np.array([f"{name}={lvl}({w:+.1f})" for lvl, w in zip(LEVELS[name], model.weights[name])],
                          dtype=object)
        parts.append(labels[levels[name].to_numpy()])
    joined = parts[0]
    for p in parts[1:]:
        joined = joined + " " + p
    return list(joined)


# --- clustering ----------------------------------------------------------------------------

def components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Connected components of the graph with edges (i, j): the smallest row of each, per row."""
    label = np.arange(n, dtype=np.int64)
    if not len(i):
        return label
    while True:
        before = label
        low = np.minimum(label[i], label[j])
        label = label.copy()
        np.minimum.at(label, i, low)
        np.minimum.at(label, j, low)
        label = label[label]
        while True:  # pointer jumping to the root
            nxt = label[label]
            if np.array_equal(nxt, label):
                break
            label = nxt
        if np.array_equal(label, before):
            return label


def cluster(n: int, i: np.ndarray, j: np.ndarray, weight: np.ndarray, model: MatchModel = DEFAULT_MODEL,
            must: tuple[np.ndarray, np.ndarray] | None = None,
            cannot: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """A cluster label (a member row) per row.

    Links are the pairs at or above the threshold plus ``must`` pairs; a group whose
    members also have a pair below ``split_below`` (or a ``cannot`` pair) is rebuilt
    strongest link first, never across such a pair.
    """
    link = weight >= model.threshold
    li, lj, lw = i[link], j[link], weight[link]
    if must is not None and len(must[0]):
        li = np.concatenate([li, must[0]])
        lj = np.concatenate([lj, must[1]])
        lw = np.concatenate([lw, np.full(len(must[0]), np.inf)])
    label = components(n, li, lj)
    veto = weight < model.split_below
    vi, vj = i[veto], j[veto]
    if cannot is not None and len(cannot[0]):
        vi, vj = np.concatenate([vi, cannot[0]]), np.concatenate([vj, cannot[1]])
    inside = label[vi] == label[vj]
    if not inside.any():
        return label
    troubled = np.unique(label[vi[inside]])
    vi, vj = vi[inside], vj[inside]
    in_trouble = np.isin(label[li], troubled)
    return _constrained(label, li[in_trouble], lj[in_trouble], lw[in_trouble], vi, vj, troubled)


def _constrained(label: np.ndarray, li: np.ndarray, lj: np.ndarray, lw: np.ndarray,
                 vi: np.ndarray, vj: np.ndarray, troubled: np.ndarray) -> np.ndarray:
    """Kruskal with cannot-links, over the groups that hold a veto pair."""
    label = label.copy()
    members = np.flatnonzero(np.isin(label, troubled))
    parent = {int(r): int(r) for r in members}
    forbid: dict[int, set[int]] = {}
    for a, b in zip(vi.tolist(), vj.tolist()):
        forbid.setdefault(a, set()).add(b)
        forbid.setdefault(b, set()).add(a)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    order = np.argsort(-lw, kind="stable")
    for a, b in zip(li[order].tolist(), lj[order].tolist()):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        fa, fb = forbid.get(ra, set()), forbid.get(rb, set())
        if any(find(x) == rb for x in fa) or any(find(x) == ra for x in fb):
            continue
        if len(fa) < len(fb):
            ra, rb, fa, fb = rb, ra, fb, fa
        parent[rb] = ra
        if fb:
            forbid[ra] = fa | fb
    roots = np.array([find(int(r)) for r in members], dtype=np.int64)
    low = pd.Series(members).groupby(roots).transform("min").to_numpy()
    label[members] = low
    return label


@dataclass
class Resolution:
    """What :func:`resolve_frame` decided: a label per row and the scored pairs."""

    labels: np.ndarray
    prep: Prepared
    i: np.ndarray
    j: np.ndarray
    levels: pd.DataFrame
    weight: np.ndarray


def resolve_frame(frame: pd.DataFrame, model: MatchModel = DEFAULT_MODEL,
                  parents: dict[str, tuple[str | None, str | None]] | None = None,
                  must: tuple[np.ndarray, np.ndarray] | None = None,
                  cannot: tuple[np.ndarray, np.ndarray] | None = None) -> Resolution:
    """Block, score and cluster every row of ``frame`` (see :func:`prepare` for the columns)."""
    prep = prepare(frame, parents, model)
    i, j = candidate_pairs(prep, model)
    levels = compare(prep, i, j, model)
    weight = weigh(levels, model)
    labels = cluster(prep.n, i, j, weight, model, must, cannot)
    return Resolution(labels, prep, i, j, levels, weight)
