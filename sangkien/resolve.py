"""Resolve accepted records into initiatives, keep the evidence, honour reviewers.

The matcher (:mod:`sangkien.match`) decides which records are one initiative. This
module runs it against the store:

* **Full** (the first run, a weekly refresh, or after a reviewer's decision): every
  accepted record is blocked, scored and clustered. Initiative ids stay stable: a
  cluster keeps the id most of its members had.
* **Incremental** (a normal night): only the delta (records new since the last
  resolution, or whose content changed) is compared, against every record in its
  blocks. A delta record joins the existing initiative it links to most strongly,
  which keeps its id; a changed record leaves its initiative first, so it moves when
  its content no longer matches. Records no longer accepted leave their initiative.
* **Evidence:** every link that holds an initiative together is stored with its
  score and the features that agreed (``match_links``); ``sangkien explain`` reads it.
* **Review:** pairs scored in the uncertain band go to ``review_pairs``; a reviewer's
  accept or reject overrides the model from the next run on.
* **Status across members** follows the node's ``status_priority`` (source names,
  most trusted first): the status of the member from the highest-ranked source wins;
  among equally ranked members the most advanced status (valid, then pending, then
  rejected) wins. Initiatives whose members disagree are listed by
  :func:`status_conflicts`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sangkien import match, store
from sangkien.settings import get_setting

STATUS_RANK = {"rejected": 0, "pending": 1, "valid": 2}  # among equally trusted members, the most advanced wins
RANK_STATUS = {v: k for k, v in STATUS_RANK.items()}

RECORD_COLUMNS = ["raw_id", "source", "portal_id", "title", "title_folded", "author_keys", "unit_code",
                  "recognized_on", "applied_on", "submitted_at", "status", "benefit_vnd", "phase", "content_hash"]


@dataclass
class ResolveCounts:
    records: int
    initiatives: int
    merged: int  # records folded into an initiative another record already stands for
    mode: str = "full"  # full or incremental
    compared: int = 0  # records compared this run (every record when full; the delta otherwise)
    pairs: int = 0  # candidate pairs scored
    review_open: int = 0  # pairs waiting for a reviewer
    seconds: float = 0.0


def _load_records(conn: Connection) -> pd.DataFrame:
    r, w = store.records.c, store.raw_records.c
    recs = store.read_frame(conn, (
        sa.select(r.raw_id, r.source, r.portal_id, r.title, r.title_folded, r.author_keys, r.unit_code,
                  r.recognized_on, r.applied_on, r.submitted_at, r.status, r.benefit_vnd, r.phase, w.content_hash)
        .join(store.raw_records, w.id == r.raw_id)
        .where(w.outcome == "accepted")
        .order_by(r.raw_id)), RECORD_COLUMNS)
    for name in ("recognized_on", "applied_on", "submitted_at"):
        recs[name] = pd.to_datetime(recs[name])
    return recs


def unit_parents(conn: Connection) -> dict[str, tuple[str | None, str | None]]:
    o = store.org_units.c
    return {code: (parent, sector) for code, parent, sector in
            conn.execute(sa.select(o.code, o.parent_code, o.sector_parent_code)).all()}


def _decisions(conn: Connection) -> pd.DataFrame:
    t = store.review_pairs.c
    return store.read_frame(conn, sa.select(t.id, t.raw_id_a, t.raw_id_b, t.status, t.applied)
                            .where(t.status != "open"), ["id", "raw_id_a", "raw_id_b", "status", "applied"])


def _positions(raw_ids: pd.Series, a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the pairs (a, b) whose records are both present."""
    index = pd.Index(raw_ids)
    pa, pb = index.get_indexer(a), index.get_indexer(b)
    ok = (pa >= 0) & (pb >= 0)
    return pa[ok].astype(np.int64), pb[ok].astype(np.int64)


def resolve_initiatives(engine: Engine, run_id: int | None, full: bool = False,
                        model: match.MatchModel = match.DEFAULT_MODEL) -> ResolveCounts:
    """Bring initiatives up to date with the accepted records (incremental unless ``full``)."""
    started = time.perf_counter()
    with engine.connect() as conn:
        recs = _load_records(conn)
        m = store.initiative_members.c
        previous = store.read_frame(conn, sa.select(m.raw_id, m.initiative_id, m.content_hash),
                                    ["raw_id", "initiative_id", "content_hash"]).set_index("raw_id")
        decisions = _decisions(conn)
        parents = unit_parents(conn)
        priority = list(get_setting(conn, "status_priority") or [])
    pending_decisions = decisions[~decisions["applied"].astype(bool)]
    if full or previous.empty or not pending_decisions.empty:
        counts = _resolve_full(engine, run_id, recs, previous, decisions, parents, priority, model)
    else:
        counts = _resolve_delta(engine, run_id, recs, previous, parents, priority, model)
    counts.seconds = time.perf_counter() - started
    return counts


def _review_rows(recs: pd.DataFrame, res_i: np.ndarray, res_j: np.ndarray, levels: pd.DataFrame,
                 weight: np.ndarray, labels: np.ndarray, model: match.MatchModel,
                 run_id: int | None) -> pd.DataFrame:
    band = (weight >= model.review_low) & (weight < model.review_high)
    if not band.any():
        return pd.DataFrame()
    i, j = res_i[band], res_j[band]
    raw = recs["raw_id"].to_numpy()
    return pd.DataFrame({
        "raw_id_a": raw[i], "raw_id_b": raw[j], "weight": np.round(weight[band], 3),
        "evidence": match.evidence(levels[band].reset_index(drop=True), model),
        "model_merged": labels[i] == labels[j], "status": "open", "created_run": run_id, "applied": False,
    })


def _store_review(conn: Connection, rows: pd.DataFrame) -> None:
    """Add newly uncertain pairs to the queue; pairs already there (open or decided) are kept as they are."""
    if rows.empty:
        return
    t = store.review_pairs.c
    known = store.read_frame(conn, sa.select(t.raw_id_a, t.raw_id_b), ["raw_id_a", "raw_id_b"])
    fresh = rows.merge(known, how="left", indicator=True, on=["raw_id_a", "raw_id_b"])
    fresh = fresh[fresh["_merge"] == "left_only"].drop(columns="_merge")
    if not fresh.empty:
        store.bulk_insert(conn, store.review_pairs, list(fresh.columns), store.frame_rows(fresh))


def _link_rows(recs: pd.DataFrame, i: np.ndarray, j: np.ndarray, levels: pd.DataFrame, weight: np.ndarray,
               initiative: np.ndarray, model: match.MatchModel,
               must: tuple[np.ndarray, np.ndarray]) -> pd.DataFrame:
    """The links that hold each initiative together: model pairs at or above the threshold, reviewer pairs."""
    raw = recs["raw_id"].to_numpy()
    keep = (weight >= model.threshold) & (initiative[i] == initiative[j])
    rows = pd.DataFrame({"raw_id_a": raw[i[keep]], "raw_id_b": raw[j[keep]],
                         "initiative_id": initiative[i[keep]], "weight": np.round(weight[keep], 3),
                         "evidence": match.evidence(levels[keep].reset_index(drop=True), model),
                         "decided_by": "model"})
    mi, mj = must
    same = initiative[mi] == initiative[mj]
    if same.any():
        a, b = np.minimum(raw[mi[same]], raw[mj[same]]), np.maximum(raw[mi[same]], raw[mj[same]])
        reviewer = pd.DataFrame({"raw_id_a": a, "raw_id_b": b, "initiative_id": initiative[mi[same]],
                                 "weight": None, "evidence": "accepted by a reviewer", "decided_by": "reviewer"})
        rows = pd.concat([rows[~rows.set_index(["raw_id_a", "raw_id_b"]).index.isin(
            reviewer.set_index(["raw_id_a", "raw_id_b"]).index)], reviewer], ignore_index=True)
    return rows


def _resolve_full(engine: Engine, run_id: int | None, recs: pd.DataFrame, previous: pd.DataFrame,
                  decisions: pd.DataFrame, parents: dict, priority: list[str],
                  model: match.MatchModel) -> ResolveCounts:
    with engine.connect() as conn:
        created = store.read_frame(conn, sa.select(store.initiatives.c.id, store.initiatives.c.created_run),
                                   ["id", "created_run"]).set_index("id")["created_run"]
    accepted = decisions[decisions["status"] == "accepted"]
    rejected = decisions[decisions["status"] == "rejected"]
    must = _positions(recs["raw_id"], accepted["raw_id_a"], accepted["raw_id_b"])
    cannot = _positions(recs["raw_id"], rejected["raw_id_a"], rejected["raw_id_b"])
    with engine.begin() as conn:
        conn.execute(store.match_links.delete())
        conn.execute(store.initiative_members.delete())
        conn.execute(store.initiatives.delete())
        if not decisions.empty:
            conn.execute(store.review_pairs.update().where(store.review_pairs.c.status != "open")
                         .values(applied=True))
        if recs.empty:
            return ResolveCounts(0, 0, 0)
        res = match.resolve_frame(recs, model, parents, must=must, cannot=cannot)
        ids = _stable_ids(pd.Series(res.labels), recs["raw_id"].map(previous["initiative_id"]).reset_index(drop=True))
        recs["initiative_id"] = ids.to_numpy()
        initiative = recs["initiative_id"].to_numpy()
        links = _link_rows(recs, res.i, res.j, res.levels, res.weight, initiative, model, must)
        initiatives = _initiative_rows(recs, run_id, priority)
        kept = initiatives["id"].map(created)  # an initiative keeps the run it first appeared in
        initiatives["created_run"] = kept.where(kept.notna(), run_id).astype("Int64")
        _insert_initiatives(conn, initiatives)
        _write_members(conn, recs, _reviewed(links))
        store.bulk_insert(conn, store.match_links, list(links.columns), store.frame_rows(links))
        _store_review(conn, _review_rows(recs, res.i, res.j, res.levels, res.weight, res.labels, model, run_id))
        open_reviews = _open_reviews(conn)
    return ResolveCounts(len(recs), len(initiatives), len(recs) - len(initiatives), "full", len(recs),
                         len(res.i), open_reviews)


def _open_reviews(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(store.review_pairs)
                            .where(store.review_pairs.c.status == "open")).scalar_one())


def _reviewed(links: pd.DataFrame) -> set[int]:
    """Records joined by a reviewer's link."""
    return set(links.loc[links["decided_by"] == "reviewer", ["raw_id_a", "raw_id_b"]].to_numpy().ravel().tolist())


def _write_members(conn: Connection, recs: pd.DataFrame, by_reviewer: set[int]) -> None:
    """Member rows of ``recs`` (whole initiatives), saying how each was joined."""
    size = recs.groupby("initiative_id")["raw_id"].transform("size")
    matched = np.where(size > 1, "model", "single").astype(object)
    matched[recs["raw_id"].isin(by_reviewer).to_numpy()] = "reviewer"
    members = pd.DataFrame({"raw_id": recs["raw_id"], "initiative_id": recs["initiative_id"],
                            "matched_on": matched, "content_hash": recs["content_hash"]})
    store.bulk_insert(conn, store.initiative_members, list(members.columns), store.frame_rows(members))


def _insert_initiatives(conn: Connection, initiatives: pd.DataFrame) -> None:
    initiatives = initiatives.copy()
    for name in ("applied_on", "submitted_at"):
        initiatives[name] = initiatives[name].dt.strftime("%Y-%m-%d")
    store.bulk_insert(conn, store.initiatives, list(initiatives.columns), store.frame_rows(initiatives))


def _resolve_delta(engine: Engine, run_id: int | None, recs: pd.DataFrame, previous: pd.DataFrame,
                   parents: dict, priority: list[str], model: match.MatchModel) -> ResolveCounts:
    old_id = recs["raw_id"].map(previous["initiative_id"])
    old_hash = recs["raw_id"].map(previous["content_hash"])
    delta = (old_id.isna() | (old_hash != recs["content_hash"])).to_numpy()
    gone = previous.index.difference(pd.Index(recs["raw_id"]))
    if not delta.any() and gone.empty:
        with engine.connect() as conn:
            n_init = int(conn.execute(sa.select(sa.func.count()).select_from(store.initiatives)).scalar_one())
            return ResolveCounts(len(recs), n_init, len(recs) - n_init, "incremental", 0, 0, _open_reviews(conn))
    prep = match.prepare(recs, parents)
    i, j = match.candidate_pairs(prep, model, only=delta)
    levels = match.compare(prep, i, j, model)
    weight = match.weigh(levels, model)
    # the delta among itself: clustered as a full run would
    both = delta[i] & delta[j]
    labels = match.cluster(prep.n, i[both], j[both], weight[both], model)
    # each delta group joins the existing initiative it links to most strongly, unless a pair vetoes it
    existing = np.where(delta, -1, old_id.fillna(-1).to_numpy()).astype(np.int64)
    cross = delta[i] ^ delta[j]
    d_row = np.where(delta[i], i, j)[cross]
    e_row = np.where(delta[i], j, i)[cross]
    pairs = pd.DataFrame({"group": labels[d_row], "target": existing[e_row], "weight": weight[cross]})
    vetoed = pairs.loc[pairs["weight"] < model.split_below, ["group", "target"]].drop_duplicates()
    best = pairs[pairs["weight"] >= model.threshold]
    best = best.merge(vetoed, how="left", indicator=True, on=["group", "target"])
    best = best[best["_merge"] == "left_only"]
    best = best.sort_values(["group", "weight", "target"], ascending=[True, False, True]).drop_duplicates("group")
    target = dict(zip(best["group"].to_numpy(), best["target"].to_numpy()))
    groups = pd.unique(labels[delta])
    next_id = int(max(previous["initiative_id"].max(), 0)) + 1
    fresh = [g for g in groups if g not in target]
    target.update({g: next_id + k for k, g in enumerate(fresh)})
    new_id = existing.copy()
    new_id[delta] = pd.Series(labels[delta]).map(target).to_numpy()
    recs["initiative_id"] = new_id
    raw = recs["raw_id"].to_numpy()
    moved_from = old_id[delta].dropna().astype(np.int64).unique()
    gone_from = previous.loc[gone, "initiative_id"].astype(np.int64).unique() if len(gone) else np.empty(0, np.int64)
    affected = np.unique(np.concatenate([moved_from, gone_from, new_id[delta]]).astype(np.int64))
    touched_raw = np.concatenate([raw[delta], gone.to_numpy()])
    links = _link_rows(recs, i, j, levels, weight, new_id, model, (np.empty(0, np.int64), np.empty(0, np.int64)))
    links = links[np.isin(links["raw_id_a"], raw[delta]) | np.isin(links["raw_id_b"], raw[delta])]
    in_affected = recs[np.isin(new_id, affected)]
    with engine.begin() as conn:
        t = store.initiatives.c
        created = {k: v for part in _chunks(affected) for k, v in
                   conn.execute(sa.select(t.id, t.created_run).where(t.id.in_(part))).all()}
        _delete_in(conn, store.match_links, "raw_id_a", touched_raw)
        _delete_in(conn, store.match_links, "raw_id_b", touched_raw)
        _delete_in(conn, store.initiative_members, "raw_id", touched_raw)
        # deleting an initiative drops its member rows: the affected initiatives are rewritten whole
        _delete_in(conn, store.initiatives, "id", affected)
        initiatives = _initiative_rows(in_affected, run_id, priority) if not in_affected.empty else pd.DataFrame()
        if not initiatives.empty:
            kept = initiatives["id"].map(created)
            initiatives["created_run"] = kept.where(kept.notna(), run_id).astype("Int64")
            _insert_initiatives(conn, initiatives)
        reviewer = store.match_links.c
        by_reviewer = {v for row in conn.execute(sa.select(reviewer.raw_id_a, reviewer.raw_id_b)
                                                 .where(reviewer.decided_by == "reviewer")).all() for v in row}
        _write_members(conn, in_affected, by_reviewer)
        store.bulk_insert(conn, store.match_links, list(links.columns), store.frame_rows(links))
        _store_review(conn, _review_rows(recs, i, j, levels, weight, new_id, model, run_id))
        n_init = int(conn.execute(sa.select(sa.func.count()).select_from(store.initiatives)).scalar_one())
        open_reviews = _open_reviews(conn)
    return ResolveCounts(len(recs), n_init, len(recs) - n_init, "incremental", int(delta.sum()), len(i), open_reviews)


def _chunks(values: np.ndarray, size: int = 5000) -> list[list[int]]:
    """Plain ints in slices small enough for an IN (...) list."""
    values = [int(v) for v in values]
    return [values[k:k + size] for k in range(0, len(values), size)]


def _delete_in(conn: Connection, table: sa.Table, column: str, values: np.ndarray) -> None:
    for part in _chunks(values):
        conn.execute(table.delete().where(table.c[column].in_(part)))


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


def _status_choice(recs: pd.DataFrame, priority: list[str]) -> pd.Series:
    """Each initiative's status: from its most trusted source's member, then the most advanced."""
    trust = recs["source"].map({s: k for k, s in enumerate(priority)}).fillna(len(priority))
    order = pd.DataFrame({"initiative_id": recs["initiative_id"].to_numpy(), "trust": trust.to_numpy(),
                          "rank": recs["status"].map(STATUS_RANK).fillna(-1).to_numpy(),
                          "status": recs["status"].to_numpy()})
    order = order.sort_values(["initiative_id", "trust", "rank"], ascending=[True, True, False])
    return order.drop_duplicates("initiative_id").set_index("initiative_id")["status"]


def _initiative_rows(recs: pd.DataFrame, run_id: int | None, priority: list[str]) -> pd.DataFrame:
    """One row per initiative: its unit (the members' most common), status, phase and dates."""
    grouped = recs.groupby("initiative_id", sort=True)
    earliest = recs.loc[grouped["submitted_at"].idxmin()].set_index("initiative_id")
    unit = (recs.groupby(["initiative_id", "unit_code"]).size().reset_index(name="n")
            .sort_values(["initiative_id", "n", "unit_code"], ascending=[True, False, True])
            .drop_duplicates("initiative_id").set_index("initiative_id")["unit_code"])
    portal = recs.dropna(subset=["portal_id"])
    portal = portal[portal["portal_id"] != ""].groupby("initiative_id")["portal_id"].first()
    size = grouped.size().reindex(earliest.index)
    return pd.DataFrame({
        "id": earliest.index.astype(np.int64),
        "title": earliest["title"],
        "unit_code": unit.reindex(earliest.index),
        "phase": earliest["phase"],
        "status": _status_choice(recs, priority).reindex(earliest.index),
        "portal_id": portal.reindex(earliest.index),
        "applied_on": grouped["applied_on"].min().reindex(earliest.index),
        "submitted_at": earliest["submitted_at"],
        "benefit_vnd": grouped["benefit_vnd"].max().reindex(earliest.index),
        "members": size,
        "match_rule": np.where(size > 1, "model", "single"),
        "created_run": run_id,
        "updated_run": run_id,
    })


def status_conflicts(conn: Connection, limit: int | None = None) -> pd.DataFrame:
    """Initiatives whose members disagree on status: id, unit, the chosen status, each source's status."""
    m, r, i = store.initiative_members.c, store.records.c, store.initiatives.c
    multi = sa.select(m.initiative_id).group_by(m.initiative_id).having(sa.func.count(sa.distinct(r.status)) > 1) \
        .select_from(store.initiative_members.join(store.records, r.raw_id == m.raw_id))
    query = (sa.select(i.id, i.unit_code, i.status, r.source, r.source_record_id, r.status)
             .join(store.initiative_members, m.initiative_id == i.id).join(store.records, r.raw_id == m.raw_id)
             .where(i.id.in_(multi)).order_by(i.id, r.source))
    frame = store.read_frame(conn, query, ["initiative_id", "unit_code", "status", "source", "source_record_id",
                                           "source_status"])
    if limit is not None:
        keep = frame["initiative_id"].drop_duplicates().head(limit)
        frame = frame[frame["initiative_id"].isin(keep)]
    return frame
