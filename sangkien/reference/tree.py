"""The org tree as of a date: units in effect, merged units' successors, and every unit's ancestors
(geographic and sector parents, transitively; the closure the roll-up and the scopes walk), and the
subtree of a unit read off that closure (what a node pushes, what its intake accepts from a child)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store

PROGRAM_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def today() -> dt.date:
    """The date in Vietnam: the default as-of date (the nightly run starts at 01:30 there)."""
    return dt.datetime.now(PROGRAM_TZ).date()


def org_frame(conn: Connection) -> pd.DataFrame:
    """The org tree: code, name, kind, parent, sector_parent, valid_from, valid_to, successor."""
    o = store.org_units.c
    units = store.read_frame(conn, sa.select(o.code, o.name, o.kind, o.parent_code, o.sector_parent_code,
                                             o.valid_from, o.valid_to, o.successor_code),
                             ["code", "name", "kind", "parent", "sector_parent", "valid_from", "valid_to", "successor"])
    for name in ("valid_from", "valid_to"):  # datetime64 (NaT when open), compared with pd.Timestamp(as_of)
        units[name] = pd.to_datetime(units[name])
    return units


def effective_units(units: pd.DataFrame, as_of: dt.date) -> pd.Series:
    """code -> the unit that stands for it on ``as_of`` (itself, or the end of its chain of successors)."""
    ended = (units["valid_to"] < pd.Timestamp(as_of)) & units["successor"].notna()
    step = pd.Series(np.where(ended, units["successor"], units["code"]), index=units["code"].to_numpy())
    current = step.copy()
    for _ in range(64):  # chains are short; load_orgs rejects cycles, the bound only guards against one
        following = current.map(step).fillna(current)
        if following.equals(current):
            break
        current = following
    return current


def reported_units(units: pd.DataFrame, as_of: dt.date) -> pd.Index:
    """Codes reported on ``as_of``: already valid, and not merged into a successor."""
    started = units["valid_from"].isna() | (units["valid_from"] <= pd.Timestamp(as_of))
    merged = (units["valid_to"] < pd.Timestamp(as_of)) & units["successor"].notna()
    return pd.Index(units.loc[started & ~merged, "code"])


def effective_edges(units: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """(code, up) parent links on ``as_of``, both kinds, with merged units replaced by their successor."""
    effective = effective_units(units, as_of)
    edges = pd.concat([
        units[["code", "parent"]].rename(columns={"parent": "up"}),
        units[["code", "sector_parent"]].rename(columns={"sector_parent": "up"}),
    ]).dropna()
    edges = pd.DataFrame({"code": edges["code"].map(effective), "up": edges["up"].map(effective)})
    return edges[edges["code"] != edges["up"]].drop_duplicates(ignore_index=True)


def ancestor_pairs(conn: Connection, as_of: dt.date | None = None, units: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every (unit_code, ancestor) pair, the unit itself included, through both parent links, once.

    ``unit_code`` is any unit of the tree; ``ancestor`` is a unit reported on ``as_of``
    (default today): merged units are replaced by their successor on both sides.
    """
    as_of = as_of or today()
    units = org_frame(conn) if units is None else units
    effective = effective_units(units, as_of)
    edges = effective_edges(units, as_of)
    closure = pd.DataFrame({"unit_code": units["code"], "ancestor": units["code"].map(effective)})
    frontier = closure
    for _ in range(64):  # the tree is shallow; the bound only guards against a cycle slipping in
        frontier = frontier.merge(edges, left_on="ancestor", right_on="code")[["unit_code", "up"]] \
            .rename(columns={"up": "ancestor"})
        if frontier.empty:
            break
        closure = pd.concat([closure, frontier], ignore_index=True)
        frontier = frontier.drop_duplicates()
    closure = closure.drop_duplicates(ignore_index=True)
    return closure[closure["ancestor"].isin(reported_units(units, as_of))].reset_index(drop=True)


def subtree(closure: pd.DataFrame, code: str) -> frozenset[str]:
    """``code`` and every unit below it, through both parent links, read off an :func:`ancestor_pairs` closure.

    These are the units whose initiatives count under ``code``, merged ones included; empty when ``code``
    is not a unit reported on the closure's date."""
    return frozenset(closure.loc[closure["ancestor"] == code, "unit_code"])


