"""Scoring: a level per feature for each candidate pair, and the pair's weight (log2-odds)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sangkien.pipeline.match.model import (
    DEFAULT_MODEL,
    FEATURES,
    LEVELS,
    NO_DAY,
    MatchModel,
    Prepared,
)
from sangkien.text.titles import TitleWeights, number_signature, weighted_similarity_of

# --- scoring -------------------------------------------------------------------------------

def _date_level(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """0 same day, 1 within 3 days (or unknown on either side), 2 within 31 days, 3 further."""
    diff = np.abs(a - b)
    level = (diff > 0).astype(np.int8)
    level += diff > 3
    level += diff > 31
    level[(a == NO_DAY) | (b == NO_DAY)] = 1
    return level


def _dates_level(prep: Prepared, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    per = [_date_level(prep.days[n][i], prep.days[n][j]) for n in ("applied_on", "recognized_on", "submitted_at")]
    same = sum((p == 0).astype(np.int8) for p in per)
    far = sum((p == 3).astype(np.int8) for p in per)
    worst = np.maximum(np.maximum(per[0], per[1]), per[2])
    return np.select([same == 3, (same == 2) & (worst <= 1), (same >= 1) & (worst <= 2), worst <= 2, far == 1],
                     [0, 1, 2, 3, 4], 5)


def _unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for ints, by one sort (numpy 2.4's is far slower)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    fresh = np.r_[True, ordered[1:] != ordered[:-1]] if len(ordered) else np.empty(0, dtype=bool)
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(fresh) - 1
    return ordered[fresh], inverse


def author_levels(prep: Prepared, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The authors level of each pair: same (every full name), same but middle names (the
    same family + given names), subset, overlap, different, missing (a side without authors)."""
    ni, nj = prep.n_authors[i], prep.n_authors[j]
    missing = (ni == 0) | (nj == 0)
    same_set = prep.author_set[i] == prep.author_set[j] if prep.author_set is not None else np.zeros(len(i), bool)
    level = np.where(missing, 5, np.where(same_set, 0, 4)).astype(np.int8)
    rest = np.flatnonzero(~missing & ~same_set)  # only these need their names counted
    if not len(rest):
        return level
    ri, rj, mi, mj = i[rest], j[rest], ni[rest], nj[rest]
    columns = [np.ascontiguousarray(prep.authors[:, y]) for y in range(prep.authors.shape[1])]
    theirs = [columns[y][rj] for y in range(min(len(columns), int(mj.max())))]
    common = np.zeros(len(rest), dtype=np.int64)
    rows = np.arange(len(rest))
    for x in range(len(columns)):  # codes are packed left (-1 after, distinct in a row): only pairs
        rows = rows[mi[rows] > x]  # whose first record has an x-th author compare it
        if not len(rows):
            break
        mine = columns[x][ri[rows]]
        hit = np.zeros(len(rows), dtype=bool)
        for col in theirs:
            hit |= col[rows] == mine
        common[rows] += hit
    level[rest] = np.select([(common == mi) & (common == mj), common == np.minimum(mi, mj), common > 0], [1, 2, 3], 4)
    return level


def title_levels(titles: np.ndarray, a: np.ndarray, b: np.ndarray, exact: np.ndarray, model: MatchModel) -> np.ndarray:
    """The title level of the pairs (``titles[a[k]]``, ``titles[b[k]]``) of cleaned titles: exact;
    numbers differ ("giai doan 2", "lan II" on one side only, the rest alike); near (ratio >= 95
    or rarity-weighted token overlap >= 0.9); similar (88 / 0.75, or one title's tokens all but
    contained in the other's: a title cut short); related (overlap >= 0.5); different.
    Each title is read once, whatever the number of its pairs; only the pairs a ratio leaves
    unsettled are tokenised, and only the alike ones have their numbers read."""
    from rapidfuzz import fuzz, process

    ratio = process.cpdist(titles[a], titles[b], scorer=fuzz.ratio, workers=-1)
    sim, contained = np.zeros(len(a)), np.zeros(len(a))
    some = np.flatnonzero(~exact & (ratio < 95) & (ratio >= 40))  # others are settled by exact and ratio
    if len(some):
        sim[some], contained[some] = weighted_similarity_of(titles, a[some], b[some],
                                                            model.title_weights or TitleWeights({}, 0), True)
    alike = (ratio >= 75) | (sim >= 0.5)
    numbers = np.zeros(len(a), dtype=bool)
    read = np.flatnonzero(alike & ~exact)
    if len(read):
        ids, inverse = _unique_inverse(np.r_[a[read], b[read]])
        signature = number_signature(titles[ids])
        numbers[read] = signature[inverse[:len(read)]] != signature[inverse[len(read):]]
    similar = (ratio >= 88) | (sim >= 0.75) | (contained >= 0.95)
    return np.select([exact, numbers & alike, (ratio >= 95) | (sim >= 0.9), similar, sim >= 0.5],
                     [0, 1, 2, 3, 4], 5)


COMPARE_CHUNK = 2_000_000
# titles are scored this many pairs at a time: rapidfuzz's copies of the titles and the token
# tables of 1.24 M pairs at once took 0.86 GB at the peak of a full run (2.4 M records); in parts
# of 400,000, 0.27 GB, and 30% faster
TITLE_CHUNK = 400_000


def _other_levels(prep: Prepared, i: np.ndarray, j: np.ndarray) -> dict[str, np.ndarray]:
    """The levels of every feature but the title (int8)."""
    out: dict[str, np.ndarray] = {"authors": author_levels(prep, i, j)}
    ui, uj = prep.unit[i], prep.unit[j]
    unit = np.where(ui == uj, 0, 2).astype(np.int8)
    other = np.flatnonzero(ui != uj)  # related: a parent shared, or one unit the other's parent
    if len(other):
        parents = prep.parent_matrix()
        g0, g1 = np.ascontiguousarray(parents[:, 0]), np.ascontiguousarray(parents[:, 1])
        oi, oj = i[other], j[other]
        a0, a1, b0, b1, ua, ub = g0[oi], g1[oi], g0[oj], g1[oj], ui[other], uj[other]
        related = ((a0 >= 0) & ((a0 == b0) | (a0 == b1))) | ((a1 >= 0) & ((a1 == b0) | (a1 == b1)))
        related |= (a0 == ub) | (a1 == ub) | (b0 == ua) | (b1 == ua)
        unit[other[related]] = 1
    out["unit"] = unit
    out["dates"] = _dates_level(prep, i, j)
    qi, qj = prep.portal[i], prep.portal[j]
    out["portal_id"] = np.select([(qi >= 0) & (qi == qj), (qi >= 0) & (qj >= 0)], [0, 1], 2)
    return {k: v.astype(np.int8, copy=False) for k, v in out.items()}


def _pair_titles(prep: Prepared, ci: np.ndarray, cj: np.ndarray, titles: Callable[[np.ndarray], np.ndarray] | None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct titles the pairs (ci, cj) read, and each pair's two positions among them."""
    if titles is None:  # every record's title at hand: a title's records share its code
        tid, codes = pd.factorize(prep.title_code)
        first = np.full(len(codes), len(tid), dtype=np.int64)
        np.minimum.at(first, tid, np.arange(len(tid)))
        used = np.zeros(len(codes), dtype=bool)
        used[tid[ci]], used[tid[cj]] = True, True
        renumber = np.cumsum(used) - 1
        return prep.title[first[used]], renumber[tid[ci]], renumber[tid[cj]]
    rows, inverse = _unique_inverse(np.r_[ci, cj])  # a night decodes only the titles of the pairs within reach
    return np.asarray(titles(rows), dtype=object), inverse[:len(ci)], inverse[len(ci):]


def compare(prep: Prepared, i: np.ndarray, j: np.ndarray, model: MatchModel = DEFAULT_MODEL,
            titles: Callable[[np.ndarray], np.ndarray] | None = None, every_title: bool = False) -> pd.DataFrame:
    """A level per feature for each pair (i[k], j[k]) (int8 columns named as FEATURES).

    Titles are scored last, and only for pairs the other features leave within reach of
    the review band: for the rest, even an exact title could not make the pair a match,
    and they keep the level "different" (the decision is the same either way). Each distinct
    title those pairs read is read once per :data:`TITLE_CHUNK` of them.
    ``titles``, when given, returns the folded titles of sorted rows and ``prep.title`` is
    not read: a night decodes only the titles of the pairs within reach. ``every_title``
    scores every pair's title (what fitting the weights needs). Pairs are taken
    :data:`COMPARE_CHUNK` at a time: a few hundred MB whatever the pair count.
    """
    parts: dict[str, list[np.ndarray]] = {f: [] for f in FEATURES if f != "title"}
    reach_parts = []
    top = model.level_weights("title").max()
    for k in range(0, len(i), COMPARE_CHUNK):
        levels = _other_levels(prep, i[k:k + COMPARE_CHUNK], j[k:k + COMPARE_CHUNK])
        partial = np.full(len(levels["authors"]), model.prior, dtype=np.float64)
        for name, level in levels.items():
            parts[name].append(level)
            partial += model.level_weights(name)[level]
        reach_parts.append(np.flatnonzero(partial + top >= model.review_low) + k)
    other = {name: np.concatenate(p) if p else np.empty(0, dtype=np.int8) for name, p in parts.items()}
    reach = np.arange(len(i)) if every_title else np.concatenate(reach_parts) if reach_parts \
        else np.empty(0, dtype=np.int64)
    title = np.full(len(i), LEVELS["title"].index("different"), dtype=np.int8)
    if len(reach):
        ci, cj = i[reach], j[reach]
        got, ta, tb = _pair_titles(prep, ci, cj, titles)
        for k in range(0, len(reach), TITLE_CHUNK):
            part = slice(k, k + TITLE_CHUNK)
            exact = prep.title_code[ci[part]] == prep.title_code[cj[part]]
            title[reach[part]] = title_levels(got, ta[part], tb[part], exact, model)
    out = {"title": title, **other}
    return pd.DataFrame({k: out[k] for k in FEATURES}, copy=False)  # a copy into one block: 0.3 GB more at 46 M


def weigh(levels: pd.DataFrame, model: MatchModel = DEFAULT_MODEL) -> np.ndarray:
    """The match weight (log2-odds) of each compared pair: each pattern of levels (1,944 of them)
    weighed once, then looked up per pair (summed in the same order, so the same floats)."""
    sizes = [len(LEVELS[name]) for name in FEATURES]
    grid = np.indices(sizes).reshape(len(FEATURES), -1)  # every pattern, in the order of the code below
    table = np.full(grid.shape[1], model.prior, dtype=np.float64)
    code = np.zeros(len(levels), dtype=np.int32)
    for k, name in enumerate(FEATURES):
        table += model.level_weights(name)[grid[k]]
        code = code * sizes[k] + levels[name].to_numpy()
    return table[code]


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


