"""Blocking: which pairs of records are compared at all (records sharing a key of some rule)."""

from __future__ import annotations

import numpy as np

from sangkien.pipeline.match.model import DEFAULT_MODEL, NO_DAY, MatchModel, Prepared

# --- blocking ------------------------------------------------------------------------------

def grouped(keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``keys`` (>= 0) and ``rows`` ordered by key, then by position (``np.lexsort((position, keys))``).

    One ``np.sort`` of int64 (about 2.5x faster than a lexsort at 16 M): each key's high bits and
    its position packed in one number. Keys whose high bits collide (tens at 2 M records) are
    put in order apart, so blocks are exactly the keys' blocks.
    """
    bits = max(int(len(keys) - 1).bit_length(), 1)
    packed = (keys >> np.int64(bits)) << np.int64(bits) | np.arange(len(keys), dtype=np.int64)
    packed.sort()
    at = packed & np.int64((1 << bits) - 1)
    high = packed >> np.int64(bits)
    del packed
    k = keys[at]
    clash = np.flatnonzero((high[1:] == high[:-1]) & (k[1:] != k[:-1]))
    if len(clash):  # the groups of colliding high bits, ordered by whole key then position
        bad = np.isin(high, high[clash])
        where = np.flatnonzero(bad)
        order = np.lexsort((at[where], k[where], high[where]))
        at[where] = at[where][order]
        k = keys[at]
    return k, rows[at]


def ranges(start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """start[0] .. start[0]+count[0]-1, start[1] .. : every position of several ranges, in order."""
    total = int(count.sum())
    if not total:
        return np.empty(0, dtype=np.int64)
    shift = np.repeat(start - (np.cumsum(count) - count), count)
    return shift + np.arange(total, dtype=np.int64)


_PAIR_CHUNK = 4_000_000  # pairs made at a time: a rule's pairs at once took 1 GB of scratch at 2.4 M records


def _block_codes(keys: np.ndarray, rows: np.ndarray, max_block: int, n: int) -> list[np.ndarray]:
    """Codes ``i * n + j`` (i < j) of the pairs of rows sharing a key, in blocks of 2 to ``max_block`` rows,
    in parts of about :data:`_PAIR_CHUNK` pairs.

    ``rows`` come in ascending order (a record's keys side by side): within a block they stay
    ascending, so a row holding a key twice is found next to itself and each member pairs with
    the members after it."""
    ok = keys >= 0
    keys, rows = keys[ok], rows[ok]
    if len(keys) < 2:
        return []
    k, r = grouped(keys, rows)
    fresh = np.r_[True, (k[1:] != k[:-1]) | (r[1:] != r[:-1])]  # a row holds a key once (an author named twice)
    k, r = k[fresh], r[fresh]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    sizes = np.diff(np.r_[starts, len(k)])
    del k
    keep = (sizes >= 2) & (sizes <= max_block)
    starts, sizes = starts[keep], sizes[keep]
    pairs = np.cumsum(sizes * (sizes - 1) // 2)
    cut = np.searchsorted(pairs, np.arange(_PAIR_CHUNK, int(pairs[-1]) if len(pairs) else 0, _PAIR_CHUNK))
    parts = []
    for lo, hi in zip(np.r_[0, cut], np.r_[cut, len(starts)], strict=True):  # whole blocks per part
        s, z = starts[lo:hi], sizes[lo:hi]
        member = ranges(s, z)
        after = np.repeat(s + z, z) - member - 1  # members after this one in its block
        left = np.repeat(member, after)
        right = ranges(member + 1, after)
        parts.append(r[left] * np.int64(n) + r[right])
    return parts


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
    named = a_codes >= 0  # most slots are padding: a key with no author is no key
    a_rows, a_codes = a_rows[named], a_codes[named]
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
    keys = np.stack([_mix(7, family[a_rows, k], a_codes, also[a_rows]) for k in range(family.shape[1])], axis=1)
    return keys.reshape(-1), np.repeat(a_rows, family.shape[1])  # a row's keys side by side


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique for int64 by sorting (numpy 2.4's np.unique is ~15x slower on millions of ints)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def candidate_pairs(prep: Prepared, model: MatchModel = DEFAULT_MODEL) -> tuple[np.ndarray, np.ndarray]:
    """Distinct candidate pairs (i < j) from every blocking rule.

    (A night's pairs, those holding a record of its delta, come from
    :func:`sangkien.pipeline.match.index.delta_pairs` over the same rules.)
    """
    parts = [part for keys, rows in blocking_keys(prep, model).values()
             for part in _block_codes(keys, rows, model.max_block, prep.n)]
    codes = np.empty(sum(len(p) for p in parts), dtype=np.int64)  # filled as each rule's codes are let go: not
    at = 0                                                          # every rule's codes twice (0.5 GB at 2 M)
    while parts:
        part = parts.pop(0)
        codes[at:at + len(part)] = part
        at += len(part)
        del part
    codes.sort()  # in place: the pairs are the largest arrays of a full run
    codes = codes[np.r_[True, codes[1:] != codes[:-1]]] if len(codes) else codes
    first = codes // prep.n
    codes -= first * prep.n
    return first, codes


