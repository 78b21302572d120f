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
    same_set = prep.author_set[i] == prep.author_set[j] if prep.author_set is not None else np.zeros(len(i), bool)
    return np.select([missing, same_set, (common == ni) & (common == nj), common == np.minimum(ni, nj), common > 0],
                     [5, 0, 1, 2, 3], 4)


def title_levels(titles: np.ndarray, a: np.ndarray, b: np.ndarray, exact: np.ndarray, model: MatchModel) -> np.ndarray:
    """The title level of the pairs (``titles[a[k]]``, ``titles[b[k]]``) of cleaned titles: exact;
    numbers differ ("giai doan 2", "lan II" on one side only, the rest alike); near (ratio >= 95
    or rarity-weighted token overlap >= 0.9); similar (88 / 0.75, or one title's tokens all but
    contained in the other's: a title cut short); related (overlap >= 0.5); different.
    Each title is read once, whatever the number of its pairs."""
    from rapidfuzz import fuzz, process

    from sangkien.text.titles import TitleWeights, number_signature, weighted_similarity_of

    ratio = process.cpdist(titles[a], titles[b], scorer=fuzz.ratio, workers=-1)
    sim, contained = np.zeros(len(a)), np.zeros(len(a))
    some = np.flatnonzero(~exact & (ratio < 95) & (ratio >= 40))  # others are settled by exact and ratio
    if len(some):
        sim[some], contained[some] = weighted_similarity_of(titles, a[some], b[some],
                                                            model.title_weights or TitleWeights({}, 0), True)
    signature = number_signature(titles)
    numbers = signature[a] != signature[b]
    alike = (ratio >= 75) | (sim >= 0.5)
    similar = (ratio >= 88) | (sim >= 0.75) | (contained >= 0.95)
    return np.select([exact, numbers & alike, (ratio >= 95) | (sim >= 0.9), similar, sim >= 0.5],
                     [0, 1, 2, 3, 4], 5)


COMPARE_CHUNK = 2_000_000


def compare(prep: Prepared, i: np.ndarray, j: np.ndarray, model: MatchModel = DEFAULT_MODEL,
            titles: Callable[[np.ndarray], np.ndarray] | None = None, every_title: bool = False) -> pd.DataFrame:
    """A level per feature for each pair (i[k], j[k]) (int8 columns named as FEATURES).

    Titles are scored last, and only for pairs the other features leave within reach of
    the review band: for the rest, even an exact title could not make the pair a match,
    and they keep the level "different" (the decision is the same either way).
    ``titles``, when given, returns the folded titles of sorted rows and ``prep.title`` is
    not read: a night decodes only the titles of the pairs within reach. ``every_title``
    scores every pair's title (what fitting the weights needs).
    """
    if len(i) > COMPARE_CHUNK:  # bounded memory: a few hundred MB per chunk whatever the pair count
        return pd.concat([compare(prep, i[k:k + COMPARE_CHUNK], j[k:k + COMPARE_CHUNK], model, titles, every_title)
                          for k in range(0, len(i), COMPARE_CHUNK)], ignore_index=True)
    out: dict[str, np.ndarray] = {"authors": author_levels(prep, i, j)}
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
    if every_title:
        reach[:] = True
    title = np.full(len(i), LEVELS["title"].index("different"), dtype=np.int64)
    ci, cj = i[reach], j[reach]
    if len(ci):
        rows, inverse = _unique_inverse(np.r_[ci, cj])
        got = prep.title[rows] if titles is None else titles(rows)
        title[reach] = title_levels(np.asarray(got, dtype=object), inverse[:len(ci)], inverse[len(ci):],
                                    prep.title_code[ci] == prep.title_code[cj], model)
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


