"""Targets set as shares: of members taking part, or of units taking part.

* ``share_of_members``: the distinct registrants (authors) in a unit's subtree over the members
  in that subtree on the phase's last day (the latest count on or before it). A unit's members
  are its own count, else the sum of the counts of the distinct grassroots units below it; a
  unit with neither has no share, and the note names it (never 0%).
* ``share_of_units:children`` / ``share_of_units:grassroots``: the unit's direct children, or
  its grassroots units, on the scope's date, with at least one valid initiative in the phase
  (in their own subtree, for a child), over all of them.

The share is in percent (``counted``), like the target (10 means 10%); ``taking_part`` and
``out_of`` are what it is made of.
"""
from __future__ import annotations

import datetime as dt
from typing import Protocol

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from sangkien.reference import tree
from sangkien.reference.members import members_on
from sangkien.reference.phases import Phase


class Scope(Protocol):
    """What a share is counted over: the org tree as of a date (sangkien.pipeline.reconcile.Scope)."""

    as_of: dt.date
    units: pd.DataFrame
    closure: pd.DataFrame
    edges: pd.DataFrame
    phases: list[Phase]

    def names(self) -> pd.Series: ...

SHARE_COLUMNS = ("unit_code", "phase", "basis", "taking_part", "out_of", "counted", "note")
GRASSROOTS = "grassroots"


def is_share(basis: pd.Series) -> pd.Series:
    return basis.astype(str).str.startswith("share_of_")


def members_in_subtree(scope: Scope, counts: pd.DataFrame, units: list[str]) -> pd.Series:
    """Members of each of ``units`` from ``counts`` (unit_code, members): its own count, else the sum over
    the distinct grassroots units below it; NaN where neither exists."""
    own = counts.set_index("unit_code")["members"]
    reported = tree.reported_units(scope.units, scope.as_of)
    kinds = pd.Series(scope.units["kind"].to_numpy(), index=scope.units["code"].to_numpy())
    below = scope.closure[scope.closure["ancestor"].isin(units) & scope.closure["unit_code"].isin(reported)]
    below = below[below["unit_code"].map(kinds).eq(GRASSROOTS) & below["unit_code"].isin(own.index)]
    summed = below.assign(members=below["unit_code"].map(own)).groupby("ancestor")["members"].sum()
    found = pd.Series(units, index=units).map(own)
    return found.fillna(pd.Series(units, index=units).map(summed)).astype(float)


def grassroots_without_count(scope: Scope, counts: pd.DataFrame, units: list[str], named: int = 3) -> pd.Series:
    """Per unit of ``units`` without a count of its own but with grassroots counts below it: "N grassroots units
    without a member count (A, B, C, …)", the units its members were summed without; absent otherwise."""
    own = set(counts["unit_code"])
    reported = tree.reported_units(scope.units, scope.as_of)
    kinds = pd.Series(scope.units["kind"].to_numpy(), index=scope.units["code"].to_numpy())
    below = scope.closure[scope.closure["ancestor"].isin([u for u in units if u not in own])
                          & scope.closure["unit_code"].isin(reported)]
    below = below[below["unit_code"].map(kinds).eq(GRASSROOTS)]
    counted = below["unit_code"].isin(own)
    some = set(below.loc[counted, "ancestor"])
    lacking = below[~counted & below["ancestor"].isin(some)].sort_values(["ancestor", "unit_code"])
    names = scope.names()
    out = {}
    for unit, group in lacking.groupby("ancestor"):
        shown = ", ".join(names.get(code, code) for code in group["unit_code"][:named])
        more = ", …" if len(group) > named else ""
        plural = "s" if len(group) > 1 else ""
        out[unit] = f"{len(group)} grassroots unit{plural} without a member count ({shown}{more})"
    return pd.Series(out, dtype=object)


def _member_shares(conn: Connection, scope: Scope, quotas: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    names = scope.names()
    parts = []
    for phase in scope.phases:
        rows = quotas[quotas["phase"] == phase.phase]
        if rows.empty:
            continue
        units = list(rows["unit_code"].unique())
        counts_then = members_on(conn, phase.ends_on)
        members = members_in_subtree(scope, counts_then, units)
        partial = grassroots_without_count(scope, counts_then, units)
        registrants = counts[counts["phase"] == phase.phase].set_index("unit_code")["registrants"]
        out = rows[["unit_code", "phase", "basis"]].copy()
        out["taking_part"] = out["unit_code"].map(registrants).fillna(0)
        out["out_of"] = out["unit_code"].map(members)
        missing = out["out_of"].isna() | (out["out_of"] <= 0)
        out["note"] = np.where(missing, "no member count for " + out["unit_code"].map(names).fillna("")
                               + " (" + out["unit_code"] + ") on or before " + phase.ends_on.isoformat()
                               + "; load one with `sangkien members load`", "")
        partly = ~missing & out["unit_code"].isin(partial.index)  # counted, but over the units with a count
        out.loc[partly, "note"] = "members summed over the counted units only: " + out.loc[
            partly, "unit_code"].map(partial)
        parts.append(out)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(SHARE_COLUMNS))


def _unit_shares(scope: Scope, quotas: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    reported = tree.reported_units(scope.units, scope.as_of)
    kinds = pd.Series(scope.units["kind"].to_numpy(), index=scope.units["code"].to_numpy())
    children = scope.edges[scope.edges["code"].isin(reported)].rename(columns={"up": "owner"})
    grassroots = scope.closure[scope.closure["unit_code"].isin(reported)
                               & scope.closure["unit_code"].map(kinds).eq(GRASSROOTS)
                               & (scope.closure["unit_code"] != scope.closure["ancestor"])]
    grassroots = grassroots.rename(columns={"unit_code": "code", "ancestor": "owner"})
    names = scope.names()
    parts = []
    for basis, among, what in (("share_of_units:children", children, "direct child units"),
                               ("share_of_units:grassroots", grassroots, "grassroots units")):
        rows = quotas[quotas["basis"] == basis]
        if rows.empty:
            continue
        pairs = rows[["unit_code", "phase"]].drop_duplicates().merge(among[["owner", "code"]], left_on="unit_code",
                                                                     right_on="owner")
        valid = counts.set_index(["unit_code", "phase"])["valid"]
        key = pd.MultiIndex.from_arrays([pairs["code"], pairs["phase"]])
        pairs["part"] = valid.reindex(key).fillna(0).to_numpy() > 0
        tally = pairs.groupby(["unit_code", "phase"]).agg(taking_part=("part", "sum"), out_of=("code", "size"))
        out = rows[["unit_code", "phase", "basis"]].merge(tally.reset_index(), on=["unit_code", "phase"], how="left")
        out["taking_part"] = out["taking_part"].fillna(0)
        none = out["out_of"].isna()
        out["note"] = np.where(none, out["unit_code"].map(names).fillna("") + " (" + out["unit_code"]
                               + f") has no {what} on {scope.as_of}", "")
        parts.append(out)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(SHARE_COLUMNS))


def _empty() -> pd.DataFrame:
    return pd.DataFrame({"unit_code": pd.Series(dtype=object), "phase": pd.Series(dtype=np.int64),
                         "basis": pd.Series(dtype=object), "taking_part": pd.Series(dtype=float),
                         "out_of": pd.Series(dtype=float), "counted": pd.Series(dtype=float),
                         "note": pd.Series(dtype=object)})


def share_counts(conn: Connection, scope: Scope, quotas: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """Per quota of ``quotas`` (unit_code, phase, basis) on a share basis: taking_part, out_of, counted (the
    share in percent, NaN where it cannot be worked out) and a note saying why not (SHARE_COLUMNS).
    ``counts``: the rolled-up counts per (unit, phase) (valid, registrants)."""
    share = quotas[is_share(quotas["basis"])]
    if share.empty:
        return _empty()
    counts = counts.astype({"phase": np.int64})
    parts = [_member_shares(conn, scope, share[share["basis"] == "share_of_members"], counts),
             _unit_shares(scope, share, counts)]
    out = pd.concat([p for p in parts if not p.empty] or [pd.DataFrame(columns=list(SHARE_COLUMNS))],
                    ignore_index=True)
    out["counted"] = (100 * out["taking_part"] / out["out_of"].where(out["out_of"] > 0)).astype(float).round(2)
    return out[list(SHARE_COLUMNS)].drop_duplicates(["unit_code", "phase", "basis"])
