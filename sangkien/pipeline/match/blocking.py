"""Blocking: which pairs of records are compared at all (records sharing a key of some rule)."""

from __future__ import annotations

import numpy as np

from sangkien.pipeline.match.model import DEFAULT_MODEL, NO_DAY, MatchModel, Prepared

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


BLOCKING_RULES = ("unit+month", "unit+author", "unit+title start", "unit+title end", "author+applied", "portal_id",
                  "unit or parent+author+month", "unit or parent+author+title start")


def blocking_keys(prep: Prepared, model: MatchModel = DEFAULT_MODEL) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each blocking rule's (key, row) arrays; keys are stable codes (-1: no key)."""
    rows = np.arange(prep.n, dtype=np.int64)
    applied = prep.days["applied_on"]
    known = applied != NO_DAY
    month = _known(np.where(known, applied, 0).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64), known)
    day = _known(applied, known)
    a_rows = np.repeat(rows, prep.authors.shape[1])
    a_codes = prep.authors.reshape(-1)
    return {
        "unit+month": (_mix(1, prep.unit, month), rows),
        "unit+author": (_mix(2, prep.unit[a_rows], a_codes), a_rows),
        "unit+title start": (_mix(3, prep.unit, prep.head), rows),
        "unit+title end": (_mix(4, prep.unit, prep.tail), rows),
        # the whole author set (full names) and the day: family + given names alone, nationwide, on a
        # day, make blocks of hundreds ("nguyen anh") at 2 M records
        "author+applied": (_mix(5, prep.author_set, day), rows) if prep.author_set is not None
        else (_mix(5, a_codes, day[a_rows]), a_rows),
        "portal_id": (_mix(6, prep.portal), rows),
        # a copy filed under the unit's parent (a district federation, a sector union entering it for
        # the unit): each record keyed by its unit and by its parents, with each author
        "unit or parent+author+month": _family_author_keys(prep, a_rows, a_codes, month),
        "unit or parent+author+title start": _family_author_keys(prep, a_rows, a_codes, prep.head),
    }


def _family_author_keys(prep: Prepared, a_rows: np.ndarray, a_codes: np.ndarray,
                        also: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(key, row) of each (unit or one of its parents, author, ``also``: the month applied or the
    title's start) of every record. ``also`` keeps a district's blocks small: siblings sharing a
    common name rarely share a month or a title's start too (without it, 2 M records made 66 M
    candidate pairs instead of 17 M)."""
    family = np.concatenate([prep.unit[:, None], prep.parent_matrix()], axis=1)
    keys = [_mix(7, family[a_rows, k], a_codes, also[a_rows]) for k in range(family.shape[1])]
    return np.concatenate(keys), np.tile(a_rows, family.shape[1])


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique for int64 by sorting (numpy 2.4's np.unique is ~15x slower on millions of ints)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def candidate_pairs(prep: Prepared, model: MatchModel = DEFAULT_MODEL) -> tuple[np.ndarray, np.ndarray]:
    """Distinct candidate pairs (i < j) from every blocking rule.

    (A night's pairs, those holding a record of its delta, come from
    :func:`sangkien.pipeline.match.index.delta_pairs` over the same rules.)
    """
    parts = []
    for keys, rows in blocking_keys(prep, model).values():
        pairs = _block_pairs(keys, rows, model.max_block)
        lo, hi = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
        del pairs
        parts.append(sorted_unique(lo[lo != hi] * np.int64(prep.n) + hi[lo != hi]))  # pair codes, per rule
        del lo, hi
    codes = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    del parts
    codes.sort()  # in place: the pairs are the largest arrays of a full run
    codes = codes[np.r_[True, codes[1:] != codes[:-1]]] if len(codes) else codes
    first = codes // prep.n
    codes -= first * prep.n
    return first, codes


