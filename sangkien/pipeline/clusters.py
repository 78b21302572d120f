"""Ranks within competition clusters and blocks (cụm, khối thi đua), per phase and per quarter.

Within each cluster, the units in it on the period's last day (or on the as-of date, for a period
not over yet) are ranked by completion of their phase target, then by valid initiatives; units
with the same completion and count share a rank; a unit without a target is ranked after those
with one, by its count. A phase ranks on the roll-up's counts; a quarter (calendar, within the
phase, up to the as-of date) on the valid initiatives submitted in the phase up to the quarter's
end, against the same phase target. The target is the unit's primary one (the one assigned from
above, sangkien.pipeline.reconcile.primary_quotas) where its basis is valid initiatives.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.pipeline import reconcile, tiers
from sangkien.pipeline.programs import program_combined, program_valid_initiatives
from sangkien.reference import clusters
from sangkien.reference.phases import Phase
from sangkien.reference.programs import get_program

RANK_COLUMNS = ("cluster_code", "cluster_name", "phase", "quarter", "rank", "of", "unit_code", "unit_name", "target",
                "valid", "completion")


def _quarters(phase: Phase, as_of: dt.date) -> list[tuple[str, dt.date]]:
    """(label "2022-Q1", last day counted) for each calendar quarter the phase spans, up to ``as_of``."""
    out: list[tuple[str, dt.date]] = []
    year, quarter = phase.starts_on.year, (phase.starts_on.month - 1) // 3
    while True:
        start = dt.date(year, 3 * quarter + 1, 1)
        if start > min(phase.ends_on, as_of):
            return out
        end = (dt.date(year + (quarter == 3), 1 if quarter == 3 else 3 * quarter + 4, 1) - dt.timedelta(days=1))
        out.append((f"{year}-Q{quarter + 1}", min(end, phase.ends_on)))
        year, quarter = (year + 1, 0) if quarter == 3 else (year, quarter + 1)


def _ranked(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (cluster_code, unit_code, target, valid) with completion, rank and of, per cluster."""
    frame = frame.assign(completion=(frame["valid"] / frame["target"].where(frame["target"] > 0)).round(4))
    frame = frame.assign(_done=frame["completion"].fillna(-1.0))
    frame = frame.sort_values(["cluster_code", "_done", "valid", "unit_code"], ascending=[True, False, False, True])
    position = frame.groupby("cluster_code").cumcount() + 1
    same = ((frame["cluster_code"] == frame["cluster_code"].shift()) & (frame["_done"] == frame["_done"].shift())
            & (frame["valid"] == frame["valid"].shift()))
    frame["rank"] = position.where(~same).ffill().astype(np.int64)  # ties share the first position
    frame["of"] = frame.groupby("cluster_code")["unit_code"].transform("size")
    return frame.drop(columns="_done")


def _quarter_valid(conn: Connection, phase: Phase, until: dt.date, closure: pd.DataFrame,
                   program_valid: pd.DataFrame | None = None) -> pd.DataFrame:
    """Valid initiatives of the phase submitted up to ``until``, per unit over its subtree (unit_code, valid);
    ``program_valid`` (unit_code, phase, submitted_at): the valid initiatives to count instead (another program's,
    or this node's and its children's counted once)."""
    if program_valid is None:
        i = store.initiatives.c
        own = store.read_frame(conn, sa.select(i.unit_code, sa.func.count()).where(
            i.phase == phase.phase, i.status == "valid", i.submitted_at <= until).group_by(i.unit_code),
            ["unit_code", "valid"])
    else:
        inside = program_valid[(program_valid["phase"] == phase.phase)
                               & (program_valid["submitted_at"] <= pd.Timestamp(until))]
        own = inside.groupby("unit_code").size().rename("valid").reset_index()
    if own.empty:
        return pd.DataFrame(columns=["unit_code", "valid"])
    rolled = own.merge(closure, on="unit_code").groupby("ancestor")["valid"].sum()
    return rolled.rename_axis("unit_code").reset_index()


def cluster_ranks(conn: Connection, as_of: dt.date | None = None, phase: int | None = None,
                  quarters: bool = True, scope: reconcile.Scope | None = None,
                  program: str | None = None) -> pd.DataFrame:
    """Every cluster's ranking per phase (quarter empty) and, with ``quarters``, per quarter (RANK_COLUMNS);
    empty when no clusters are loaded. ``scope``: the tree as of the date (and its program), when one is open
    already; ``program``: whose phases, targets and counts (default: the node's default program; another is
    counted from the records' dates)."""
    members = clusters.clusters_frame(conn)
    if members.empty:
        return pd.DataFrame(columns=list(RANK_COLUMNS))
    scope = scope or reconcile.open_scope(conn, phase=phase, as_of=as_of, program=program)
    names = scope.names()
    counts = reconcile.unit_counts(conn, scope)
    quotas = reconcile.primary_quotas(reconcile.quotas_frame(conn, scope.program))
    program_valid = _valid_with_children(conn, scope) if quarters else None
    if program_valid is None and quarters and not scope.default_program:
        program_valid = program_valid_initiatives(conn, get_program(conn, scope.program))
    quotas = quotas[quotas["basis"] == "valid"] if not quotas.empty else quotas
    parts = []
    for p in scope.phases:
        if phase is not None and p.phase != phase:
            continue
        target = quotas[quotas["phase"] == p.phase].set_index("unit_code")["target"] if not quotas.empty else \
            pd.Series(dtype=float)
        valid = counts[counts["phase"] == p.phase].set_index("unit_code")["valid"]
        periods: list[tuple[str | None, dt.date, pd.Series]] = [(None, p.ends_on, valid)]
        if quarters:
            periods += [(label, until, _quarter_valid(conn, p, until, scope.closure, program_valid)
                         .set_index("unit_code")["valid"]) for label, until in _quarters(p, scope.as_of)]
        for label, until, counted in periods:
            inside = clusters.members_on(members, min(until, scope.as_of))
            frame = pd.DataFrame({"cluster_code": inside["cluster_code"].to_numpy(),
                                  "cluster_name": inside["name"].to_numpy(),
                                  "unit_code": inside["unit_code"].to_numpy()})
            if frame.empty:
                continue
            frame["target"] = frame["unit_code"].map(target)
            frame["valid"] = frame["unit_code"].map(counted).fillna(0).astype(np.int64)
            parts.append(_ranked(frame).assign(phase=p.phase, quarter=label))
    if not parts:
        return pd.DataFrame(columns=list(RANK_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    out["unit_name"] = out["unit_code"].map(names)
    out["_q"] = out["quarter"].fillna("")
    out = out.sort_values(["cluster_code", "phase", "_q", "rank", "unit_code"], kind="stable")
    return out[list(RANK_COLUMNS)].reset_index(drop=True)


def _valid_with_children(conn: Connection, scope: reconcile.Scope) -> pd.DataFrame | None:
    """At a node whose children pushed for the scope's program: the valid initiatives counted once across this node
    and their latest pushes (unit_code, phase, submitted_at: the earliest day an entry gives). A child's entry
    without a day (its push_dates is off) cannot be placed in a quarter and is left out of the quarter ranks.
    None at a node without children's pushes."""
    if not tiers.has_submissions(conn, scope.program):
        return None
    counted = tiers.combined(conn) if scope.default_program else \
        program_combined(conn, get_program(conn, scope.program))
    valid = counted.initiatives[(counted.initiatives["status"] == "valid")
                                & counted.initiatives["submitted_on"].notna()]
    return valid.rename(columns={"submitted_on": "submitted_at"})[["unit_code", "phase", "submitted_at"]]


def has_clusters(conn: Connection) -> bool:
    return conn.execute(sa.select(store.clusters.c.unit_code).limit(1)).first() is not None

