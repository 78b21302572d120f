"""A night's matching decisions, pure (no store): the queued records' neighbours in the index, the
existing initiative each delta group joins, and the ids of the groups that join none."""
from __future__ import annotations

import numpy as np
import pandas as pd

from sangkien.pipeline import match
from sangkien.pipeline.match import index as matchindex


def neighbours(index: matchindex.MatchIndex, standing: np.ndarray, recs: pd.DataFrame, parents: dict,
               model: match.MatchModel) -> tuple[np.ndarray, np.ndarray, np.ndarray, match.Prepared]:
    """The standing index rows in the queued records' blocks, the candidate pairs (rows of the
    neighbours first, then the queued records), and all of them prepared for scoring."""
    if len(recs):
        delta_prep = match.prepare(recs, parents, model)
        near, i, j = matchindex.delta_pairs(index, standing, delta_prep, model)
        return near, i, j, match.concat_prepared([index.prepared(near, parents), delta_prep])
    near, i, j = (np.empty(0, dtype=np.int64),) * 3
    return near, i, j, index.prepared(near, parents)


def join_targets(labels: np.ndarray, delta: np.ndarray, existing: np.ndarray, i: np.ndarray, j: np.ndarray,
                  weight: np.ndarray, model: match.MatchModel) -> dict[int, int]:
    """Each delta group's existing initiative: the one it links to most strongly, unless a pair vetoes it."""
    cross = delta[i] ^ delta[j]
    d_row = np.where(delta[i], i, j)[cross]
    e_row = np.where(delta[i], j, i)[cross]
    pairs = pd.DataFrame({"group": labels[d_row], "target": existing[e_row], "weight": weight[cross]})
    vetoed = pairs.loc[pairs["weight"] < model.split_below, ["group", "target"]].drop_duplicates()
    best = pairs[pairs["weight"] >= model.threshold]
    best = best.merge(vetoed, how="left", indicator=True, on=["group", "target"])
    best = best[best["_merge"] == "left_only"]
    best = best.sort_values(["group", "weight", "target"], ascending=[True, False, True]).drop_duplicates("group")
    return dict(zip(best["group"].to_numpy(), best["target"].to_numpy()))



def delta_ids(index: matchindex.MatchIndex, labels: np.ndarray, delta: np.ndarray, existing: np.ndarray,
              raw: np.ndarray, old_rows: np.ndarray, standing: np.ndarray, moved_from: np.ndarray, top: int,
              target: dict[int, int]) -> np.ndarray:
    """Every row's initiative after the night. A group joining no standing record takes back the id its
    records had, once nothing else holds it (a singleton whose content changed keeps its id), as a full
    run would; else a new id above ``top``."""
    new_id = existing.copy()
    new_id[delta] = pd.Series(labels[delta]).map(target).fillna(-1).to_numpy(dtype=np.int64)
    alone = np.flatnonzero(delta & (new_id < 0))
    if len(alone):
        before = pd.Series(index.initiative[old_rows], index=index.raw_id[old_rows])
        held = np.unique(np.r_[index.initiative[standing & np.isin(index.initiative, moved_from)], new_id[delta]])
        previous = pd.Series(raw[alone]).map(before)
        previous = previous.where(~previous.isin(held))
        new_id[alone] = _stable_ids(pd.Series(labels[alone]), previous, top + 1).to_numpy()
    return new_id


def _stable_ids(clusters: pd.Series, previous: pd.Series, next_id: int | None = None) -> pd.Series:
    """An initiative id per cluster label: the id most members had, else a new one (from ``next_id``,
    by default above every previous id)."""
    votes = pd.DataFrame({"cluster": clusters.values, "old": previous.values}).dropna()
    if next_id is None:
        next_id = int(previous.max()) + 1 if previous.notna().any() else 1
    assigned: dict[int, int] = {}
    if not votes.empty:
        tally = votes.groupby(["cluster", "old"]).size().reset_index(name="n")
        tally = tally.sort_values(["n", "old"], ascending=[False, True])
        # an old id goes to the cluster holding most of its members; a split gets new ids
        tally = tally.drop_duplicates("old").drop_duplicates("cluster")
        assigned = dict(zip(tally["cluster"].astype(np.int64), tally["old"].astype(np.int64)))
    labels, unique = pd.factorize(clusters)  # in order of first appearance
    ids = np.full(len(unique), -1, dtype=np.int64)
    if assigned:
        ids[pd.Index(unique).get_indexer(list(assigned))] = list(assigned.values())
    fresh = ids < 0
    ids[fresh] = next_id + np.arange(int(fresh.sum()), dtype=np.int64)
    return pd.Series(ids[labels], index=clusters.index)
