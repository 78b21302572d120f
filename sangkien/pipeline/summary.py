"""What a roll-up works out for people to read, kept in the store so that reading it is a lookup.

:func:`refresh` runs after every roll-up (sangkien.pipeline.run.resolve_and_roll_up) and
after the org tree, the quotas or the phases are loaded from the command line. It writes,
whole, in one transaction:

* ``unit_figures``: per unit and phase the counts, the target, its basis, the count on that
  basis and completion (what ``sangkien report`` computes), so the dashboard ranks units by a
  stored column;
* ``unit_targets``: every target (each assigner's, each basis, the shares of members and of units
  included) with its count and completion (reconcile.quota_rows);
* ``cluster_ranks``: the ranks within each competition cluster, per phase and quarter
  (sangkien.pipeline.clusters), when clusters are loaded;
* ``unit_closure``: each unit's ancestors on the roll-up's date, so "this unit and below" is a join;
* ``worklist`` and ``worklist_items``: the ranked discrepancies (sangkien.pipeline.worklist) and
  the initiatives behind each row;
* ``summary_state``: the roll-up it matches (the ``as_of`` of ``unit_counts``).

Loading the org tree, quotas or phases clears ``summary_state``; a reader that finds it
missing or behind ``unit_counts`` refreshes before answering (:func:`ensure_current`).

The figures, targets and cluster ranks are keyed by program: a refresh keeps the node's default program's
(store.settings.default_program). Another program's are worked out when first asked for, from the records'
dates (sangkien.pipeline.programs), kept beside them and noted in ``program_summaries``
(:func:`ensure_program`); the next refresh clears them.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sangkien import store
from sangkien.pipeline import clusters, reconcile, worklist
from sangkien.reference import tree
from sangkien.reference.quotas import BASIS_COLUMN
from sangkien.store.settings import default_program

FIGURE_COUNTS = ("records", "initiatives", "valid", "pending", "rejected", "registrants")
FIGURE_COLUMNS = ("unit_code", "phase", *FIGURE_COUNTS, "basis", "target", "counted", "completion")
WORKLIST_STORED = ("rank", "kind", "cause", "unit_code", "phase", "source", "items", "expected", "actual", "basis",
                   "target", "standing", "effect", "crosses", "params")
TARGET_STORED = ("unit_code", "phase", "assigned_by", "basis", "target", "counted", "completion", "note")
RANK_STORED = ("cluster_code", "phase", "quarter", "unit_code", "cluster_name", "rank", "of", "target", "valid",
               "completion")
_refreshing: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_guard = threading.Lock()


@dataclass(frozen=True)
class Refreshed:
    figures: int
    worklist: int
    items: int
    seconds: float


def figures_frame(conn: Connection, counts: pd.DataFrame | None = None, program: str | None = None) -> pd.DataFrame:
    """Per (unit, phase) with counts or a quota: the counts, basis, target, counted on the basis, completion.

    Completion is counted / target where the basis can be counted and the target is positive
    (as in ``sangkien report``); without a quota the count shown is the valid initiatives. A unit
    with several targets shows its primary one (reconcile.primary_quotas: the one assigned from above).
    ``counts`` and ``program``: another program's counts and quotas (default: the last roll-up's and the
    default program's).
    """
    if counts is None:
        c = store.unit_counts.c
        counts = store.read_frame(conn, sa.select(c.unit_code, c.phase, *(c[n] for n in FIGURE_COUNTS)),
                                  ["unit_code", "phase", *FIGURE_COUNTS])
    counts = counts[["unit_code", "phase", *FIGURE_COUNTS]]
    quotas = reconcile.primary_quotas(reconcile.quotas_frame(conn, program)).drop(columns="assigned_by",
                                                                                   errors="ignore")
    frame = counts.merge(quotas, on=["unit_code", "phase"], how="outer")
    if frame.empty:
        return pd.DataFrame(columns=list(FIGURE_COLUMNS))
    for name in FIGURE_COUNTS:
        frame[name] = frame[name].fillna(0).astype(np.int64)
    on_basis = np.select([frame["basis"] == b for b in BASIS_COLUMN], [frame[col] for col in BASIS_COLUMN.values()],
                         default=frame["valid"])
    frame["counted"] = on_basis.astype(np.int64)
    countable = frame["basis"].isin(list(BASIS_COLUMN)) & (frame["target"] > 0)
    frame["completion"] = (frame["counted"] / frame["target"].where(countable)).round(4)
    frame["phase"] = frame["phase"].astype(np.int64)
    frame["target"] = frame["target"].astype("Int64")  # no quota: NULL, not NaN (PostgreSQL's COPY takes no "2.0")
    return frame[list(FIGURE_COLUMNS)]


def _counts_as_of(conn: Connection) -> dt.datetime | None:
    return _utc(conn.scalar(sa.select(sa.func.max(store.unit_counts.c.as_of))))


def _utc(stamp: Any) -> dt.datetime | None:
    """A stored timestamp as naive UTC (SQLite hands back naive datetimes, PostgreSQL aware ones)."""
    if stamp is None:
        return None
    if isinstance(stamp, str):
        stamp = dt.datetime.fromisoformat(stamp)
    return stamp.astimezone(dt.UTC).replace(tzinfo=None) if stamp.tzinfo else stamp


def refresh(engine: Engine, run_id: int | None = None, as_of: dt.date | None = None) -> Refreshed:
    """Work out the figures, the closure and the ranked worklist from the store, and keep them (see the module)."""
    started = time.perf_counter()
    with engine.connect() as conn:
        counts_as_of = _counts_as_of(conn)
        figures = figures_frame(conn)
        scope = reconcile.open_scope(conn, as_of=as_of)
        found = worklist.build(conn, scope)
        targets = _targets(reconcile.quota_rows(conn, scope))  # worked out for the worklist already
        ranks = _ranks(clusters.cluster_ranks(conn, scope=scope)) if clusters.has_clusters(conn) else None
        program = scope.default
    rows = found.rows.assign(params=[json.dumps(p, ensure_ascii=False, default=_plain) for p in found.rows["params"]],
                             source=found.rows["source"].fillna(""))
    for name in ("rank", "phase", "items", "expected", "actual", "target", "standing", "effect"):
        rows[name] = pd.to_numeric(rows[name]).round().astype("Int64")  # whole numbers, NULL where none
    tables = [store.unit_figures, store.unit_closure, store.worklist, store.worklist_items, store.unit_targets,
              store.cluster_ranks, store.program_summaries, store.summary_state]
    with store.rewriting(engine, tables) as conn:
        _keep_program(conn, program, figures, targets, ranks)
        closure = scope.closure[["ancestor", "unit_code"]].drop_duplicates()
        store.bulk_insert(conn, store.unit_closure, ("ancestor", "unit_code"), store.frame_rows(closure))
        store.bulk_insert(conn, store.worklist, WORKLIST_STORED, store.frame_rows(
            rows[list(WORKLIST_STORED)].astype({"crosses": bool})))
        store.bulk_insert(conn, store.worklist_items, worklist.ITEM_COLUMNS, store.frame_rows(found.items))
        seconds = time.perf_counter() - started
        conn.execute(store.summary_state.insert().values(
            id=1, run_id=run_id, tree_date=scope.as_of, counts_as_of=counts_as_of,
            computed_at=dt.datetime.now(dt.UTC), seconds=round(seconds, 3)))
    return Refreshed(len(figures), len(rows), len(found.items), time.perf_counter() - started)


def _keep_program(conn: Connection, program: str, figures: pd.DataFrame, targets: pd.DataFrame,
                  ranks: pd.DataFrame | None) -> None:
    """Store one program's figures, targets and cluster ranks (the tables are empty of its rows)."""
    store.bulk_insert(conn, store.unit_figures, ("program", *FIGURE_COLUMNS),
                      store.frame_rows(figures.assign(program=program)[["program", *FIGURE_COLUMNS]]))
    store.bulk_insert(conn, store.unit_targets, ("program", *TARGET_STORED),
                      store.frame_rows(targets.assign(program=program)[["program", *TARGET_STORED]]))
    if ranks is not None:
        store.bulk_insert(conn, store.cluster_ranks, ("program", *RANK_STORED),
                          store.frame_rows(ranks.assign(program=program)[["program", *RANK_STORED]]))


def ensure_program(engine: Engine, program: str) -> None:
    """Make sure the figures, targets and cluster ranks of ``program`` are kept and current: the default
    program's by the refresh (:func:`ensure_current`), another's worked out now from the records' dates when
    missing or behind the kept summary (one at a time per engine)."""
    ensure_current(engine)
    with engine.connect() as conn:
        if program == default_program(conn) or _program_current(conn, program):
            return
    with _guard:
        lock = _refreshing.setdefault(engine, threading.Lock())
    with lock:
        with engine.connect() as conn:
            if _program_current(conn, program):
                return
        refresh_program(engine, program)


def _program_current(conn: Connection, program: str) -> bool:
    kept, p = state(conn), store.program_summaries.c
    row = conn.execute(sa.select(p.counts_as_of).where(p.program == program)).first()
    return kept is not None and row is not None and _utc(row[0]) == _utc(kept["counts_as_of"])


def refresh_program(engine: Engine, program: str) -> float:
    """Work out another program's figures, targets and cluster ranks from the records' dates and keep them beside
    the default program's; returns the seconds it took."""
    started = time.perf_counter()
    with engine.connect() as conn:
        kept = state(conn) or {}
        tree_date = kept.get("tree_date")
        scope = reconcile.open_scope(conn, program=program, as_of=dt.date.fromisoformat(tree_date)
                                     if isinstance(tree_date, str) else tree_date)
        counts = reconcile.unit_counts(conn, scope)
        figures = figures_frame(conn, counts, program)
        targets = _targets(reconcile.quota_rows(conn, scope, counts))
        ranks = _ranks(clusters.cluster_ranks(conn, scope=scope)) if clusters.has_clusters(conn) else None
    with engine.begin() as conn:
        for table in (store.unit_figures, store.unit_targets, store.cluster_ranks, store.program_summaries):
            conn.execute(table.delete().where(table.c.program == program))
        _keep_program(conn, program, figures, targets, ranks)
        seconds = time.perf_counter() - started
        conn.execute(store.program_summaries.insert().values(
            program=program, counts_as_of=kept.get("counts_as_of"), computed_at=dt.datetime.now(dt.UTC),
            seconds=round(seconds, 3)))
    return seconds


def _targets(quotas: pd.DataFrame) -> pd.DataFrame:
    """Every reported quota (TARGET_STORED): one row per unit, phase, assigner and basis."""
    kept = quotas[quotas["note"].isna() | ~quotas["note"].astype(str).str.startswith(("merged", "not a unit"))]
    kept = kept[list(TARGET_STORED)].drop_duplicates(["unit_code", "phase", "assigned_by", "basis"])
    return kept.astype({"phase": np.int64, "target": np.int64}).assign(
        counted=pd.to_numeric(kept["counted"]).astype(float),
        completion=pd.to_numeric(kept["completion"]).astype(float),
        note=kept["note"].where(kept["note"] != "", None))


def _ranks(ranks: pd.DataFrame) -> pd.DataFrame:
    """Cluster ranks as kept (RANK_STORED): the whole phase's quarter is ""."""
    ranks = ranks.assign(quarter=ranks["quarter"].fillna(""), target=ranks["target"].astype("Int64"))
    return ranks[list(RANK_STORED)].astype({"phase": np.int64, "rank": np.int64, "of": np.int64, "valid": np.int64})


def _plain(value: Any) -> Any:
    """numpy scalars in a row's params, as JSON numbers."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")


def state(conn: Connection) -> dict[str, Any] | None:
    """The kept summary's state (run_id, tree_date, counts_as_of, computed_at, seconds), None when there is none."""
    row = conn.execute(sa.select(store.summary_state).where(store.summary_state.c.id == 1)).mappings().first()
    return dict(row) if row else None


def is_current(conn: Connection) -> bool:
    """Whether the kept summary matches the last roll-up and nothing it reads was loaded again since."""
    kept = state(conn)
    return kept is not None and _utc(kept["counts_as_of"]) == _counts_as_of(conn)


def ensure_current(engine: Engine) -> None:
    """Refresh the kept summary when it is missing or behind (one refresh at a time per engine)."""
    with engine.connect() as conn:
        if is_current(conn):
            return
    with _guard:
        lock = _refreshing.setdefault(engine, threading.Lock())
    with lock:
        with engine.connect() as conn:
            if is_current(conn):  # another thread refreshed it meanwhile
                return
        refresh(engine)


def carry_forward(engine: Engine, run_id: int, today: dt.date | None = None) -> bool:
    """After a resolution that changed nothing: restamp the last roll-up's counts for ``run_id`` instead of
    counting again, and keep the summary (worked out again only when the date changed, for what depends on
    it: projections, phases ended). Returns False, doing nothing, unless nothing the counts depend on changed
    since they were made:
    - the kept summary was worked out by the roll-up's own run (a load of the org tree, quotas, phases, members
      or clusters since then clears it, or works it out again without a run);
    - the org tree reads the same today as on the summary's date (no unit starts or ends in between);
    - no child node pushed, or was added or revoked, since the counts' time."""
    today = today or tree.today()
    c, o = store.unit_counts.c, store.org_units.c
    with engine.begin() as conn:
        kept = state(conn)
        made = conn.execute(sa.select(c.run_id, sa.func.max(c.as_of)).group_by(c.run_id)).all()
        if kept is None or len(made) != 1 or made[0][0] is None or kept["run_id"] != made[0][0]:
            return False
        counted_at = _utc(made[0][1])
        if counted_at is None or _utc(kept["counts_as_of"]) != counted_at:
            return False
        tree_date = kept["tree_date"]
        if isinstance(tree_date, str):
            tree_date = dt.date.fromisoformat(tree_date)
        if tree_date != today:  # a unit starting or ending between the two days (a day's margin either side)
            lo, hi = min(tree_date, today) - dt.timedelta(days=1), max(tree_date, today) + dt.timedelta(days=1)
            if conn.scalar(sa.select(sa.func.count()).where(sa.or_(o.valid_from.between(lo, hi),
                                                                    o.valid_to.between(lo, hi)))):
                return False
        s, n = store.submissions.c, store.child_nodes.c
        latest = [_utc(conn.scalar(sa.select(sa.func.max(col)))) for col in (s.received_at, n.created_at, n.revoked_at)]
        if any(stamp is not None and stamp >= counted_at for stamp in latest):
            return False
        now = dt.datetime.now(dt.UTC)
        conn.execute(store.unit_counts.update().values(run_id=run_id, as_of=now))
        history = [col.name for col in store.count_history.columns if col.name != "id"]
        conn.execute(store.count_history.insert().from_select(
            history, sa.select(*(c[name] for name in history))))
        if tree_date == today:
            conn.execute(store.summary_state.update().values(run_id=run_id, counts_as_of=now))
    if tree_date != today:
        refresh(engine, run_id, as_of=today)
    return True


def counted_rows(engine: Engine) -> int:
    """The (unit, phase) rows of the last roll-up."""
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(store.unit_counts)) or 0)
