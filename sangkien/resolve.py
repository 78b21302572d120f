"""Resolve records into initiatives: the seam where matching plugs in.

This issue's rule is exact: records sharing a portal_id, or sharing the folded title
+ unit + applied_on, are one initiative (transitively). Initiative ids are stable:
a cluster keeps the id most of its members had before.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sangkien import store

STATUS_RANK = {"rejected": 0, "pending": 1, "valid": 2}  # a reviewed status beats an older one
RANK_STATUS = {v: k for k, v in STATUS_RANK.items()}


@dataclass
class ResolveCounts:
    records: int
    initiatives: int
    merged: int  # records folded into an initiative another record already stands for


def match_keys(records: pd.DataFrame) -> dict[str, pd.Series]:
    """The exact keys that join records: portal id, and folded title + unit + applied date."""
    portal = records["portal_id"].where(records["portal_id"].notna() & (records["portal_id"] != ""))
    applied = records["applied_on"].dt.strftime("%Y-%m-%d")
    title_key = records["title_folded"] + "|" + records["unit_code"] + "|" + applied
    return {"portal_id": portal, "title_unit_applied": title_key}


def connected_labels(keys: dict[str, pd.Series]) -> np.ndarray:
    """A cluster label per row: rows sharing any key value are in one cluster (transitively)."""
    n = len(next(iter(keys.values())))
    label = np.arange(n, dtype=np.int64)
    codes = {name: pd.factorize(k)[0] for name, k in keys.items()}  # -1 where the key is missing
    while True:
        before = label.copy()
        for code in codes.values():
            has = code >= 0
            if not has.any():
                continue
            group_min = pd.Series(label[has]).groupby(code[has]).transform("min").to_numpy()
            label[has] = np.minimum(label[has], group_min)
        label = label[label]  # pointer jumping: follow to the representative's label
        if np.array_equal(label, before):
            return label


def _stable_ids(clusters: pd.Series, previous: pd.Series) -> pd.Series:
    """An initiative id per cluster label: the id most members had, else a new one."""
    votes = pd.DataFrame({"cluster": clusters.values, "old": previous.values}).dropna()
    next_id = int(previous.max()) + 1 if previous.notna().any() else 1
    assigned: dict[int, int] = {}
    if not votes.empty:
        tally = votes.groupby(["cluster", "old"]).size().reset_index(name="n")
        tally = tally.sort_values(["n", "old"], ascending=[False, True])
        # an old id goes to the cluster holding most of its members; a split gets new ids
        tally = tally.drop_duplicates("old").drop_duplicates("cluster")
        assigned = dict(zip(tally["cluster"].astype(np.int64), tally["old"].astype(np.int64)))
    unique = pd.unique(clusters)
    fresh = [c for c in unique if c not in assigned]
    assigned.update({c: next_id + i for i, c in enumerate(fresh)})
    return clusters.map(assigned).astype(np.int64)


def resolve_initiatives(engine: Engine, run_id: int | None) -> ResolveCounts:
    """Rebuild initiatives and their members from every accepted (eligible) record."""
    with engine.connect() as conn:
        recs = store.read_frame(conn, (
            sa.select(store.records.c.raw_id, store.records.c.portal_id, store.records.c.title,
                      store.records.c.title_folded, store.records.c.unit_code, store.records.c.applied_on,
                      store.records.c.submitted_at, store.records.c.status, store.records.c.benefit_vnd,
                      store.records.c.phase)
            .join(store.raw_records, store.raw_records.c.id == store.records.c.raw_id)
            .where(store.raw_records.c.outcome == "accepted")
            .order_by(store.records.c.raw_id)),
            ["raw_id", "portal_id", "title", "title_folded", "unit_code", "applied_on", "submitted_at",
                     "status", "benefit_vnd", "phase"])
        previous = store.read_frame(conn, sa.select(store.initiative_members.c.raw_id,
                                                    store.initiative_members.c.initiative_id), ["raw_id", "initiative_id"])
        previous = previous.set_index("raw_id")["initiative_id"]
        created = store.read_frame(conn, sa.select(store.initiatives.c.id, store.initiatives.c.created_run),
                                   ["id", "created_run"]).set_index("id")["created_run"]
        for name in ("applied_on", "submitted_at"):
            recs[name] = pd.to_datetime(recs[name])
    with engine.begin() as conn:
        conn.execute(store.initiative_members.delete())
        conn.execute(store.initiatives.delete())
        if recs.empty:
            return ResolveCounts(0, 0, 0)
        keys = match_keys(recs)
        recs["cluster"] = connected_labels(keys)
        recs["initiative_id"] = _stable_ids(recs["cluster"], recs["raw_id"].map(previous))
        recs["matched_on"] = "single"
        for name, key in keys.items():  # the strongest key shared with another member names the match
            shared = key.notna() & key.duplicated(keep=False) & (recs["matched_on"] == "single")
            recs.loc[shared, "matched_on"] = name
        initiatives = _initiative_rows(recs, run_id)
        kept = initiatives["id"].map(created)  # an initiative keeps the run it first appeared in
        initiatives["created_run"] = kept.where(kept.notna(), run_id).astype("Int64")
        for name in ("applied_on", "submitted_at"):
            initiatives[name] = initiatives[name].dt.strftime("%Y-%m-%d")
        store.bulk_insert(conn, store.initiatives, list(initiatives.columns), store.frame_rows(initiatives))
        members = recs[["raw_id", "initiative_id", "matched_on"]]
        store.bulk_insert(conn, store.initiative_members, list(members.columns), store.frame_rows(members))
    return ResolveCounts(len(recs), len(initiatives), len(recs) - len(initiatives))


def _initiative_rows(recs: pd.DataFrame, run_id: int | None) -> pd.DataFrame:
    """One row per initiative: its unit (the members' most common), status, phase and dates."""
    grouped = recs.groupby("initiative_id", sort=True)
    earliest = recs.loc[grouped["submitted_at"].idxmin()].set_index("initiative_id")
    unit = (recs.groupby(["initiative_id", "unit_code"]).size().reset_index(name="n")
            .sort_values(["initiative_id", "n", "unit_code"], ascending=[True, False, True])
            .drop_duplicates("initiative_id").set_index("initiative_id")["unit_code"])
    status_rank = recs["status"].map(STATUS_RANK).groupby(recs["initiative_id"]).max()
    portal = recs.dropna(subset=["portal_id"]).groupby("initiative_id")["portal_id"].first()
    out = pd.DataFrame({
        "id": earliest.index.astype(np.int64),
        "title": earliest["title"],
        "unit_code": unit.reindex(earliest.index),
        "phase": earliest["phase"],
        "status": status_rank.reindex(earliest.index).map(RANK_STATUS),
        "portal_id": portal.reindex(earliest.index),
        "applied_on": grouped["applied_on"].min().reindex(earliest.index),
        "submitted_at": earliest["submitted_at"],
        "benefit_vnd": grouped["benefit_vnd"].max().reindex(earliest.index),
        "members": grouped.size().reindex(earliest.index),
        "match_rule": "exact",
        "created_run": run_id,
        "updated_run": run_id,
    })
    return out
