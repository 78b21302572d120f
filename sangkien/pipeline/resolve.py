"""Resolve accepted records into initiatives, keep the evidence, honour reviewers.

The matcher (:mod:`sangkien.pipeline.match`) decides which records are one initiative. This
module runs it against the store:

* **Full** (the first run, a weekly refresh, or after a reviewer's decision): every
  accepted record is blocked, scored and clustered. Initiative ids stay stable: a
  cluster keeps the id most of its members had.
* **Incremental** (a normal night): only the delta (the records validation queued since
  the last resolution: new, changed, or no longer accepted) is compared, against every
  record in its blocks, which the match index (:mod:`sangkien.pipeline.match.index`) holds coded.
  A delta record joins the existing initiative it links to most strongly,
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

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sangkien import store
from sangkien.pipeline import match, match_models
from sangkien.pipeline.match import index as matchindex
from sangkien.pipeline.night import _stable_ids, delta_ids, join_targets, neighbours
from sangkien.pipeline.resolve_records import RECORD_COLUMNS, load_records, record_query, titles_of, typed
from sangkien.pipeline.rollup import mark_changed_codes
from sangkien.pipeline.stages import Stages as _Stages
from sangkien.store.settings import get_setting

log = logging.getLogger("sangkien.pipeline.resolve")

STATUS_RANK = {"rejected": 0, "pending": 1, "valid": 2}  # among equally trusted members, the most advanced wins
RANK_STATUS = {v: k for k, v in STATUS_RANK.items()}

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


def _queue_top(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.max(store.resolve_queue.c.seq))).scalar() or 0)


def _count(conn: Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _nothing_compared(conn: Connection, records: int) -> ResolveCounts:
    """The counts of an incremental run that compared nothing: ``records`` resolved records, as they stood."""
    n_init = _count(conn, store.initiatives)
    return ResolveCounts(records, n_init, records - n_init, "incremental", 0, 0, _open_reviews(conn))


def resolve_initiatives(engine: Engine, run_id: int | None, full: bool = False,
                        model: match.MatchModel | None = None, refit: bool = False) -> ResolveCounts:
    """Bring initiatives up to date with the accepted records (incremental unless ``full``).

    A run is full when asked, when a reviewer decided something since the last run, or
    when the match index is missing, coded under another scheme, or disagrees with the
    members (e.g. a store resolved before the index existed).

    ``model`` None: the store's latest learned model (:mod:`sangkien.pipeline.match_models`);
    a full run learns a new one when there is none, when ``refit``, or when the records
    changed much since; a given ``model`` is used as it is.
    """
    started = time.perf_counter()
    timer = _Stages()
    with engine.connect() as conn:
        queued = _queue_top(conn)
        decisions = _decisions(conn)
        parents = unit_parents(conn)
        priority = list(get_setting(conn, "status_priority") or [])
        pending_decisions = decisions[~decisions["applied"].astype(bool)]
        stored = match_models.latest_model(conn) if model is None else None
        index = None
        if not full and pending_decisions.empty and not queued and matchindex.is_current(conn):
            # nothing queued, nothing decided: nothing to compare (a quiet night need not read the index: 1.2 s
            # at 2.4 M records); the index is checked against the members on the next night with records
            counts = _nothing_compared(conn, _count(conn, store.initiative_members))
            counts.seconds = time.perf_counter() - started
            return counts
        if not full and pending_decisions.empty:
            index = matchindex.load(conn)
            members = _count(conn, store.initiative_members) if index is not None else 0
            if index is not None and index.records != members:
                log.info("match index holds %d records, the members %d: resolving in full", index.records, members)
                index = None
        timer.mark("read index")
    if index is None:
        learn = None if model is not None else (refit or stored is None)  # False: decided on the record count
        counts = _resolve_full(engine, run_id, queued, decisions, parents, priority,
                               model or (stored[1] if stored else match.DEFAULT_MODEL), timer, learn)
    else:
        counts = _resolve_delta(engine, run_id, queued, index, parents, priority,
                                model or (stored[1] if stored else match.DEFAULT_MODEL), timer)
    counts.seconds = time.perf_counter() - started
    log.info("resolution (%s): %s", counts.mode, timer)
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
    firsts = rows["raw_id_a"].unique()
    query = sa.select(t.raw_id_a, t.raw_id_b)
    if len(firsts) <= 50_000:  # a night's few: only the queue's pairs that start at one of these records
        query = query.where(t.raw_id_a.in_(sa.select(store.id_set(conn, "_review_firsts", firsts).c.id)))
    known = store.read_frame(conn, query, ["raw_id_a", "raw_id_b"])
    fresh = rows.merge(known, how="left", indicator=True, on=["raw_id_a", "raw_id_b"])
    fresh = fresh[fresh["_merge"] == "left_only"].drop(columns="_merge")
    if not fresh.empty:
        store.bulk_insert(conn, store.review_pairs, list(fresh.columns), store.frame_rows(fresh))


def _link_rows(recs: pd.DataFrame, i: np.ndarray, j: np.ndarray, levels: pd.DataFrame, weight: np.ndarray,
               initiative: np.ndarray, model: match.MatchModel,
               must: tuple[np.ndarray, np.ndarray]) -> pd.DataFrame:
    """The links that hold each initiative together: model pairs at or above the threshold, reviewer pairs."""
    raw = recs["raw_id"].to_numpy()
    strong = np.flatnonzero(weight >= model.threshold)  # the initiatives of these pairs only: at 46 M pairs,
    keep = np.zeros(len(i), dtype=bool)                  # every pair's were 0.8 GB at the run's peak
    keep[strong[initiative[i[strong]] == initiative[j[strong]]]] = True
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


def _resolve_full(engine: Engine, run_id: int | None, queued: int, decisions: pd.DataFrame, parents: dict,
                  priority: list[str], model: match.MatchModel, timer: _Stages,
                  learn: bool | None = None) -> ResolveCounts:
    """``learn`` True: learn the weights; False: when the records changed much since ``model`` was
    fitted (:func:`match_models.needs_fit`); None: use ``model`` as given."""
    with engine.connect() as conn:
        recs = load_records(conn, title=False)  # read once the matcher is done with its memory
        m = store.initiative_members.c
        previous = store.read_frame(conn, sa.select(m.raw_id, m.initiative_id), ["raw_id", "initiative_id"]
                                    ).set_index("raw_id")
        created = store.read_frame(conn, sa.select(store.initiatives.c.id, store.initiatives.c.created_run),
                                   ["id", "created_run"]).set_index("id")["created_run"]
    timer.mark("read records")
    accepted = decisions[decisions["status"] == "accepted"]
    rejected = decisions[decisions["status"] == "rejected"]
    must = _positions(recs["raw_id"], accepted["raw_id_a"], accepted["raw_id_b"])
    cannot = _positions(recs["raw_id"], rejected["raw_id_a"], rejected["raw_id_b"])
    with store.rewriting(engine, [store.match_links, store.initiative_members, store.initiatives]) as conn:
        conn.execute(store.match_index.delete())
        conn.execute(store.resolve_queue.delete().where(store.resolve_queue.c.seq <= queued))
        conn.execute(store.unit_own_counts.delete())  # every initiative may change: the next roll-up counts all
        if not decisions.empty:
            conn.execute(store.review_pairs.update().where(store.review_pairs.c.status != "open")
                         .values(applied=True))
        timer.mark("clear")
        if recs.empty:
            return ResolveCounts(0, 0, 0)
        fit = learn is not None and match_models.needs_fit(model if model.fitted else None, len(recs), bool(learn))
        model, prep = match.prepare_frame(recs, match.DEFAULT_MODEL if fit else model, parents, learn=fit)
        recs.drop(columns=["title_folded", "author_keys"], inplace=True)  # coded now: read no more (0.5 GB at 2 M)
        res = match.resolve_prepared(prep, model, must, cannot, learn=fit)
        model = res.model
        if fit:
            match_models.save_model(conn, model, run_id)
            log.info("match model fitted: %s", (model.fitted or {}).get("fallback") or "learned weights")
        timer.mark("match")
        ids = _stable_ids(pd.Series(res.labels), recs["raw_id"].map(previous["initiative_id"]).reset_index(drop=True))
        recs["initiative_id"] = ids.to_numpy()
        initiative = recs["initiative_id"].to_numpy()
        links = _link_rows(recs, res.i, res.j, res.levels, res.weight, initiative, model, must)
        review = _review_rows(recs, res.i, res.j, res.levels, res.weight, res.labels, model, run_id)
        prep, raw_ids, pairs = res.prep, recs["raw_id"].to_numpy(), len(res.i)
        del res  # what is written next is all that is kept of it: the peak is the index's write
        initiatives = _initiative_rows(recs, run_id, priority, titles=lambda ids: titles_of(conn, ids))
        kept = initiatives["id"].map(created)  # an initiative keeps the run it first appeared in
        initiatives["created_run"] = kept.where(kept.notna(), run_id).astype("Int64")
        counts = ResolveCounts(len(recs), len(initiatives), len(recs) - len(initiatives), "full", len(recs), pairs)
        timer.mark("build rows")
        _insert_initiatives(conn, initiatives)
        del initiatives
        _write_members(conn, recs, _reviewed(links))
        del recs
        store.bulk_insert(conn, store.match_links, list(links.columns), store.frame_rows(links))
        del links
        _store_review(conn, review)
        timer.mark("write")
        matchindex.write_base(conn, matchindex.Rows.from_prepared(raw_ids, initiative, prep))
        timer.mark("write index")
        counts.review_open = _open_reviews(conn)
    timer.mark("commit")
    return counts


def _open_reviews(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(store.review_pairs)
                            .where(store.review_pairs.c.status == "open")).scalar_one())


def _reviewed(links: pd.DataFrame) -> set[int]:
    """Records joined by a reviewer's link."""
    return set(links.loc[links["decided_by"] == "reviewer", ["raw_id_a", "raw_id_b"]].to_numpy().ravel().tolist())


def _member_frame(recs: pd.DataFrame, by_reviewer: set[int]) -> pd.DataFrame:
    """Member rows of ``recs`` (whole initiatives), saying how each was joined."""
    size = recs.groupby("initiative_id")["raw_id"].transform("size")
    matched = np.where(size > 1, "model", "single").astype(object)
    matched[recs["raw_id"].isin(by_reviewer).to_numpy()] = "reviewer"
    return pd.DataFrame({"raw_id": recs["raw_id"].to_numpy(), "initiative_id": recs["initiative_id"].to_numpy(),
                         "matched_on": matched})


def _write_members(conn: Connection, recs: pd.DataFrame, by_reviewer: set[int]) -> None:
    members = _member_frame(recs, by_reviewer)
    store.bulk_insert(conn, store.initiative_members, list(members.columns), store.frame_rows(members))


def _iso_dates(initiatives: pd.DataFrame) -> pd.DataFrame:
    initiatives = initiatives.copy()
    for name in ("applied_on", "submitted_at"):
        initiatives[name] = initiatives[name].dt.strftime("%Y-%m-%d")
    return initiatives


def _insert_initiatives(conn: Connection, initiatives: pd.DataFrame) -> None:
    initiatives = _iso_dates(initiatives)
    store.bulk_insert(conn, store.initiatives, list(initiatives.columns), store.frame_rows(initiatives))


def _resolve_delta(engine: Engine, run_id: int | None, queued: int, index: matchindex.MatchIndex, parents: dict,
                   priority: list[str], model: match.MatchModel, timer: _Stages) -> ResolveCounts:
    """Resolve the queued records against the records in their blocks (see the module's docstring)."""
    q = store.resolve_queue.c
    with engine.connect() as conn:
        queued_ids = np.asarray(conn.execute(sa.select(q.raw_id).where(q.seq <= queued).distinct()).scalars().all(),
                                dtype=np.int64)
        recs = load_records(conn, queued) if len(queued_ids) else pd.DataFrame()
        top = int(conn.execute(sa.select(sa.func.max(store.initiatives.c.id))).scalar() or 0)
    timer.mark("read delta")
    if not len(queued_ids):
        with engine.connect() as conn:
            return _nothing_compared(conn, index.records)
    # a queued record's earlier row leaves the standing records: a changed record is compared afresh
    old_rows = index.row_of(queued_ids)
    moved_from = np.unique(index.initiative[old_rows])
    standing = index.alive.copy()
    standing[old_rows] = False
    n_delta = len(recs)
    near, i, j, prep = neighbours(index, standing, recs, parents, model)
    delta = np.r_[np.zeros(len(near), dtype=bool), np.ones(n_delta, dtype=bool)]
    raw = np.r_[index.raw_id[near], recs["raw_id"].to_numpy(dtype=np.int64) if n_delta else []].astype(np.int64)
    existing = np.r_[index.initiative[near], np.full(n_delta, -1, dtype=np.int64)]
    timer.mark("load neighbours")
    def titles(rows: np.ndarray) -> np.ndarray:  # only the pairs within reach of a match read titles
        known = rows >= len(near)
        return np.r_[index.titles(near[rows[~known]]), prep.title[rows[known]]]

    levels = match.compare(prep, i, j, model, titles)
    weight = match.weigh(levels, model)
    timer.mark("score")
    # the delta among itself: clustered as a full run would
    both = delta[i] & delta[j]
    labels = match.cluster(prep.n, i[both], j[both], weight[both], model)
    new_id = delta_ids(index, labels, delta, existing, raw, old_rows, standing, moved_from, top,
                       join_targets(labels, delta, existing, i, j, weight, model))
    if n_delta:
        recs["initiative_id"] = new_id[delta]
    affected = np.unique(np.concatenate([moved_from, new_id[delta]]).astype(np.int64))
    ids = pd.DataFrame({"raw_id": raw})
    links = _link_rows(ids, i, j, levels, weight, new_id, model, (np.empty(0, np.int64), np.empty(0, np.int64)))
    review = _review_rows(ids, i, j, levels, weight, new_id, model, run_id)
    timer.mark("decide")
    with engine.begin() as conn:
        queue = sa.select(store.id_set(conn, "_queued", queued_ids).c.id)
        conn.execute(store.match_links.delete().where(store.match_links.c.raw_id_a.in_(queue)))
        conn.execute(store.match_links.delete().where(store.match_links.c.raw_id_b.in_(queue)))
        m = store.initiative_members.c  # queued records no longer accepted leave
        left = np.setdiff1d(queued_ids, recs["raw_id"].to_numpy(dtype=np.int64) if n_delta else [])
        conn.execute(store.initiative_members.delete().where(m.raw_id.in_(
            sa.select(store.id_set(conn, "_left", left).c.id))))
        timer.mark("write: delete")
        affected_ids = sa.select(store.id_set(conn, "_affected", affected).c.id)
        current, in_affected = _affected_frames(conn, affected_ids, queue, recs if n_delta else None)
        timer.mark("write: read affected")
        emptied = _rewrite_initiatives(conn, affected_ids, in_affected, run_id, priority)
        timer.mark("write: initiatives")
        reviewer = store.match_links.c  # the reviewers' links within the affected initiatives
        by_reviewer = {v for row in conn.execute(sa.select(reviewer.raw_id_a, reviewer.raw_id_b).where(
            reviewer.decided_by == "reviewer", reviewer.initiative_id.in_(affected_ids))).all() for v in row}
        _rewrite_members(conn, current, _member_frame(in_affected, by_reviewer))
        if len(emptied):  # no member refers to them any more
            conn.execute(store.initiatives.delete().where(store.initiatives.c.id.in_(
                sa.select(store.id_set(conn, "_emptied", emptied).c.id))))
        timer.mark("write: members")
        store.bulk_insert(conn, store.match_links, list(links.columns), store.frame_rows(links))
        _store_review(conn, review)
        timer.mark("write: links, review")
        # indexed records no longer accepted leave the index (queued records it never held need nothing)
        rows = matchindex.Rows.from_prepared(raw[delta], new_id[delta], prep.take(np.flatnonzero(delta)))
        gone = matchindex.Rows.tombstones(np.setdiff1d(index.raw_id[old_rows], raw[delta]))
        matchindex.append(conn, index, matchindex.concat([rows, gone]), run_id)
        conn.execute(store.resolve_queue.delete().where(q.seq <= queued))
        timer.mark("write: index")
        n_init, open_reviews = _count(conn, store.initiatives), _open_reviews(conn)
    timer.mark("commit")
    n_records = index.records - len(old_rows) + n_delta
    return ResolveCounts(n_records, n_init, n_records - n_init, "incremental", n_delta, len(i), open_reviews)




def _affected_frames(conn: Connection, affected_ids: sa.Select, queue: sa.Select,
                     recs: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The member rows of the affected initiatives and the queued records as they stand, and the
    records the affected initiatives hold after this night (``recs``: the accepted queued records)."""
    m = store.initiative_members.c
    kept = _affected_members(conn, affected_ids, queue)
    columns = ["raw_id", "initiative_id", "matched_on"]
    queued_rows = store.read_frame(conn, sa.select(m.raw_id, m.initiative_id, m.matched_on)
                                   .where(m.raw_id.in_(queue)), columns)
    current = pd.concat([kept[columns], queued_rows], ignore_index=True)
    kept = kept.drop(columns="matched_on")
    return current, (pd.concat([kept, recs], ignore_index=True) if recs is not None else kept)


def _affected_members(conn: Connection, affected: sa.Select, queued: sa.Select) -> pd.DataFrame:
    """The records (and how they were joined) of the initiatives ``affected``, but the ``queued`` ones
    (both selects of ids)."""
    m = store.initiative_members.c
    query = record_query().add_columns(m.initiative_id, m.matched_on).join(
        store.initiative_members, m.raw_id == store.records.c.raw_id).where(
        m.initiative_id.in_(affected), m.raw_id.not_in(queued))
    return typed(store.read_frame(conn, query, [*RECORD_COLUMNS, "initiative_id", "matched_on"]))


def _rewrite_members(conn: Connection, current: pd.DataFrame, members: pd.DataFrame) -> None:
    """Bring the member rows ``current`` to ``members``: the new ones inserted, those whose initiative
    or way of joining changed updated; rows that did not change are not touched."""
    both = members.merge(current[["raw_id", "initiative_id", "matched_on"]], on="raw_id", how="left",
                         suffixes=("", "_was"), indicator=True)
    fresh = (both["_merge"] == "left_only").to_numpy()
    changed = ~fresh & ((both["initiative_id"] != both["initiative_id_was"])
                        | (both["matched_on"] != both["matched_on_was"])).to_numpy()
    store.bulk_update(conn, store.initiative_members, ("initiative_id", "matched_on"), ("raw_id",),
                      store.frame_rows(both.loc[changed, ["initiative_id", "matched_on", "raw_id"]]))
    store.bulk_insert(conn, store.initiative_members, list(members.columns),
                      store.frame_rows(both.loc[fresh, list(members.columns)]))


def _rewrite_initiatives(conn: Connection, affected: sa.Select, recs: pd.DataFrame, run_id: int | None,
                         priority: list[str]) -> np.ndarray:
    """Recompute the ``affected`` initiatives (a select of ids) from their members: update those that
    stay, add new ones. The emptied ones (whose members have all left) are returned, for the caller
    to drop once no member row refers to them."""
    t = store.initiatives.c
    stored = store.read_frame(conn, sa.select(*(t[c] for c in _COMPARED), t.created_run).where(t.id.in_(affected)),
                              [*_COMPARED, "created_run"]).set_index("id")
    initiatives = _initiative_rows(recs, run_id, priority) if not recs.empty else pd.DataFrame(columns=["id"])
    emptied = np.setdiff1d(stored.index.to_numpy(dtype=np.int64), initiatives["id"].to_numpy(dtype=np.int64))
    mark_changed_codes(conn, [*stored["unit_code"].dropna().unique(),
                              *(initiatives["unit_code"].dropna().unique() if len(initiatives) else [])])
    if initiatives.empty:
        return emptied
    old = initiatives["id"].isin(stored.index)
    kept = initiatives["id"].map(stored["created_run"])
    initiatives["created_run"] = kept.where(kept.notna(), run_id).astype("Int64")
    _insert_initiatives(conn, initiatives[~old])
    # rows that did not change are left as they are (updated_run too); the unit's index is only
    # rewritten for rows whose unit changed
    update = _iso_dates(initiatives[old]).set_index("id")
    was = stored.loc[update.index]
    differ = pd.DataFrame({c: ~_same(update[c], was[c]) for c in _COMPARED if c != "id"}, index=update.index)
    for unit_changed in (False, True):
        rows = update[differ.any(axis=1) & (differ["unit_code"] == unit_changed)].reset_index()
        columns = [c for c in update.columns if c != "created_run" and (unit_changed or c != "unit_code")]
        store.bulk_update(conn, store.initiatives, columns, ("id",), store.frame_rows(rows[[*columns, "id"]]))
    return emptied


_COMPARED = ("id", "title", "unit_code", "phase", "status", "portal_id", "applied_on", "submitted_at", "benefit_vnd",
             "members", "match_rule")


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Whether two columns of initiative rows agree, row by row (a date object and its ISO text,
    3 and 3.0, two missing values: alike)."""
    if a.name in ("phase", "benefit_vnd", "members"):
        x = pd.to_numeric(a, errors="coerce").to_numpy(dtype=np.float64)
        y = pd.to_numeric(b, errors="coerce").to_numpy(dtype=np.float64)
        return (x == y) | (np.isnan(x) & np.isnan(y))
    x = a.astype(object).where(a.notna(), "").astype(str).to_numpy()
    y = b.astype(object).where(b.notna(), "").astype(str).to_numpy()
    return x == y




def _status_choice(recs: pd.DataFrame, priority: list[str]) -> pd.Series:
    """Each initiative's status: from its most trusted source's member, then the most advanced."""
    trust = _coded(recs["source"], {s: k for k, s in enumerate(priority)}, len(priority))
    rank = _coded(recs["status"], STATUS_RANK, -1)
    initiative = recs["initiative_id"].to_numpy()
    order = np.lexsort((-rank, trust, initiative))  # stable: among equals, the first read
    ids = initiative[order]
    first = order[np.r_[True, ids[1:] != ids[:-1]]] if len(ids) else order
    return pd.Series(recs["status"].to_numpy()[first], index=initiative[first])


def _coded(values: pd.Series, codes: dict[str, int], default: int) -> np.ndarray:
    """``codes[value]`` per row (``default`` for a missing or unlisted value), looked up once per distinct value."""
    seen, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.array([codes.get(u, default) for u in uniques] + [default], dtype=np.int64)[seen]


def _initiative_rows(recs: pd.DataFrame, run_id: int | None, priority: list[str],
                     titles: Callable[[np.ndarray], np.ndarray] | None = None) -> pd.DataFrame:
    """One row per initiative: its title and phase (its earliest member's), unit (the members' most
    common), status and dates. ``titles`` gives the titles of raw ids when ``recs`` has none.

    Ties (two members submitted the same day) go to the lower raw id, so an initiative's row
    does not depend on the order its members were read in (incremental and full runs agree)."""
    if not recs["raw_id"].is_monotonic_increasing:
        recs = recs.sort_values("raw_id", kind="stable")
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
        "title": earliest["title"] if titles is None else titles(earliest["raw_id"].to_numpy(dtype=np.int64)),
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
