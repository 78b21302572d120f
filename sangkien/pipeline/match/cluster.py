"""Clustering: linked records become initiatives, never joined across a veto."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sangkien.pipeline.match.blocking import candidate_pairs
from sangkien.pipeline.match.compare import compare, weigh
from sangkien.pipeline.match.model import DEFAULT_MODEL, MatchModel, Prepared, prepare

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
    vi, vj = _inside(label, i, j, weight < model.split_below)
    if cannot is not None and len(cannot[0]):
        ci, cj = _inside(label, cannot[0], cannot[1], np.ones(len(cannot[0]), dtype=bool))
        vi, vj = np.concatenate([vi, ci]), np.concatenate([vj, cj])
    if not len(vi):
        return label
    troubled = np.unique(label[vi])
    in_trouble = np.isin(label[li], troubled)
    return _constrained(label, li[in_trouble], lj[in_trouble], lw[in_trouble], vi, vj, troubled)


_CHUNK = 2_000_000


def _inside(label: np.ndarray, i: np.ndarray, j: np.ndarray, veto: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (i, j) marked ``veto`` whose two rows ``label`` puts in one group, in pair order.
    Taken a chunk of pairs at a time: most pairs are vetoes (40 M of 46 M at 2.4 M records), and
    their positions and labels at once were 1.3 GB at the peak of a full resolution."""
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    for k in range(0, len(i), _CHUNK):
        v = veto[k:k + _CHUNK]
        a, b = i[k:k + _CHUNK][v], j[k:k + _CHUNK][v]
        same = label[a] == label[b]
        parts.append((a[same], b[same]))
    if not parts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate([a for a, _ in parts]), np.concatenate([b for _, b in parts])


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
    model: MatchModel = DEFAULT_MODEL  # the model that scored the pairs (learned here when asked)


def resolve_frame(frame: pd.DataFrame, model: MatchModel = DEFAULT_MODEL,
                  parents: dict[str, tuple[str | None, str | None]] | None = None,
                  must: tuple[np.ndarray, np.ndarray] | None = None,
                  cannot: tuple[np.ndarray, np.ndarray] | None = None, learn: bool = False) -> Resolution:
    """Block, score and cluster every row of ``frame`` (see :func:`prepare` for the columns).

    ``learn``: the weights are first learned from these records and their candidate pairs
    (:func:`sangkien.pipeline.match.learn.fit_model`, ``model``'s weights as priors).
    """
    model, prep = prepare_frame(frame, model, parents, learn)
    return resolve_prepared(prep, model, must, cannot, learn)


def prepare_frame(frame: pd.DataFrame, model: MatchModel = DEFAULT_MODEL,
                  parents: dict[str, tuple[str | None, str | None]] | None = None,
                  learn: bool = False) -> tuple[MatchModel, Prepared]:
    """The first half of :func:`resolve_frame`: the records coded (and, when ``learn``, the
    abbreviations their titles spell out learned first). After it the frame's text columns
    are no longer read: a caller may free them before :func:`resolve_prepared`."""
    from sangkien.pipeline.match.learn import learn_title_abbreviations

    if learn:
        model = learn_title_abbreviations(frame["title_folded"], model)
    return model, prepare(frame, parents, model)


def resolve_prepared(prep: Prepared, model: MatchModel = DEFAULT_MODEL,
                     must: tuple[np.ndarray, np.ndarray] | None = None,
                     cannot: tuple[np.ndarray, np.ndarray] | None = None, learn: bool = False) -> Resolution:
    """The second half of :func:`resolve_frame`: block, learn the weights when ``learn``, score, cluster."""
    from sangkien.pipeline.match.learn import fit_model

    i, j = candidate_pairs(prep, model)
    if learn:
        model = fit_model(prep, i, j, model)
    levels = compare(prep, i, j, model)
    weight = weigh(levels, model)
    labels = cluster(prep.n, i, j, weight, model, must, cannot)
    return Resolution(labels, prep, i, j, levels, weight, model)
