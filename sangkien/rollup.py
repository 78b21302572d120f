"""Roll initiatives and records up the org tree: each ancestor counts an initiative once.

A grassroots unit can sit under a geographic parent and a sector parent; both chains
lead to the national unit, so counts are distinct per ancestor (never summed up
from children): the national total is a distinct count of initiatives.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sangkien import store, tiers

COUNT_COLUMNS = ("records", "initiatives", "valid", "pending", "rejected", "ineligible", "registrants", "benefit_vnd")


def ancestor_pairs(conn: Connection) -> pd.DataFrame:
    """Every (unit_code, ancestor) pair, the unit itself included, through both parent links, once."""
    units = store.read_frame(conn, sa.select(store.org_units.c.code, store.org_units.c.parent_code,
                                             store.org_units.c.sector_parent_code), ["code", "parent", "sector_parent"])
    edges = pd.concat([
        units[["code", "parent"]].rename(columns={"parent": "up"}),
        units[["code", "sector_parent"]].rename(columns={"sector_parent": "up"}),
    ]).dropna()
    closure = pd.DataFrame({"unit_code": units["code"], "ancestor": units["code"]})
    frontier = edges.rename(columns={"code": "unit_code", "up": "ancestor"})
    for _ in range(64):  # the tree is shallow; the bound only guards against a cycle slipping in
        if frontier.empty:
            break
        closure = pd.concat([closure, frontier], ignore_index=True)
        frontier = frontier.merge(edges, left_on="ancestor", right_on="code")[["unit_code", "up"]] \
            .rename(columns={"up": "ancestor"})
    return closure.drop_duplicates(ignore_index=True)


def _per_ancestor(frame: pd.DataFrame, closure: pd.DataFrame, key: str | None = None) -> pd.DataFrame:
    """``frame`` (with unit_code) joined to each ancestor of its unit; distinct on ``key`` per ancestor."""
    joined = frame.merge(closure, on="unit_code")
    if key:
        joined = joined.drop_duplicates(["ancestor", "phase", key])
    return joined


def compute_unit_counts(conn: Connection) -> pd.DataFrame:
    """Counts per (unit, phase) for every unit with anything to count."""
    closure = ancestor_pairs(conn)
    if tiers.has_submissions(conn):  # an upper node: count its own initiatives and its children's, once
        return _combined_counts(conn, closure)
    inits = store.read_frame(conn, sa.select(
        store.initiatives.c.id, store.initiatives.c.unit_code, store.initiatives.c.phase,
        store.initiatives.c.status, store.initiatives.c.benefit_vnd),
        ["id", "unit_code", "phase", "status", "benefit_vnd"])
    recs = store.read_frame(conn, sa.select(
        store.records.c.unit_code, store.records.c.phase, store.records.c.eligible,
        store.records.c.author_keys), ["unit_code", "phase", "eligible", "author_keys"])
    recs["eligible"] = recs["eligible"].astype(bool)
    parts = []
    if not inits.empty:
        per = _per_ancestor(inits, closure)
        per = per.assign(valid=per["status"] == "valid", pending=per["status"] == "pending",
                         rejected=per["status"] == "rejected")
        parts.append(per.groupby(["ancestor", "phase"]).agg(
            initiatives=("id", "size"), valid=("valid", "sum"), pending=("pending", "sum"),
            rejected=("rejected", "sum"), benefit_vnd=("benefit_vnd", "sum")))
    recs = recs.dropna(subset=["phase"])
    if not recs.empty:
        per = _per_ancestor(recs[["unit_code", "phase", "eligible"]], closure)
        per = per.assign(ineligible=~per["eligible"])
        parts.append(per.groupby(["ancestor", "phase"]).agg(records=("eligible", "size"),
                                                             ineligible=("ineligible", "sum")))
        people = recs[recs["eligible"]]
        people = people.assign(key=people["author_keys"].str.split("|")).explode("key")
        people = people[people["key"].notna() & (people["key"] != "")]
        people = people.assign(person=people["unit_code"] + "/" + people["key"])[["unit_code", "phase", "person"]]
        people = people.drop_duplicates()
        per = _per_ancestor(people, closure, key="person")
        parts.append(per.groupby(["ancestor", "phase"]).agg(registrants=("person", "size")))
    return _assemble(parts)


def _assemble(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """One row per (unit, phase) from per-(ancestor, phase) parts; every count column present."""
    if not parts:
        return pd.DataFrame(columns=["unit_code", "phase", *COUNT_COLUMNS])
    counts = pd.concat(parts, axis=1).fillna(0).reset_index().rename(columns={"ancestor": "unit_code"})
    for name in COUNT_COLUMNS:
        if name not in counts:
            counts[name] = 0
        counts[name] = counts[name].astype(float if name == "benefit_vnd" else np.int64)
    counts["phase"] = counts["phase"].astype(np.int64)
    return counts[["unit_code", "phase", *COUNT_COLUMNS]]


def _combined_counts(conn: Connection, closure: pd.DataFrame) -> pd.DataFrame:
    """Counts at a node with children: initiatives and registrants distinct across this node's sources and the
    children's latest submissions (matched on keyed hashes), records and ineligible records summed over both."""
    combined = tiers.combined(conn)
    inits = combined.initiatives
    parts = []
    if not inits.empty:
        per = _per_ancestor(inits[["id", "unit_code", "phase", "status", "benefit_vnd"]], closure)
        per = per.assign(valid=per["status"] == "valid", pending=per["status"] == "pending",
                         rejected=per["status"] == "rejected")
        parts.append(per.groupby(["ancestor", "phase"]).agg(
            initiatives=("id", "size"), valid=("valid", "sum"), pending=("pending", "sum"),
            rejected=("rejected", "sum"), benefit_vnd=("benefit_vnd", "sum")))
        people = combined.people.merge(inits[["id", "unit_code", "phase"]], on="id")[["unit_code", "phase", "person"]]
        per = _per_ancestor(people.drop_duplicates(), closure, key="person")
        parts.append(per.groupby(["ancestor", "phase"]).agg(registrants=("person", "size")))
    # records: this node's own (eligible or not) plus what each child folded into its entries and held ineligible
    recs = store.read_frame(conn, sa.select(store.records.c.unit_code, store.records.c.phase,
                                            store.records.c.eligible), ["unit_code", "phase", "eligible"])
    recs = recs.dropna(subset=["phase"]).assign(ineligible=lambda f: ~f["eligible"].astype(bool), records=1)
    child_entries = combined.members[combined.members["origin"] != tiers.SELF]
    child_inel = combined.ineligible[combined.ineligible["origin"] != tiers.SELF]
    weighted = pd.concat([
        recs[["unit_code", "phase", "records", "ineligible"]].astype({"ineligible": np.int64}),
        child_entries[["unit_code", "phase", "records"]].assign(ineligible=0),
        child_inel[["unit_code", "phase", "records"]].assign(ineligible=child_inel["records"]),
    ], ignore_index=True)
    weighted = weighted.groupby(["unit_code", "phase"], as_index=False)[["records", "ineligible"]].sum()
    if not weighted.empty:
        per = weighted.merge(closure, on="unit_code")
        parts.append(per.groupby(["ancestor", "phase"])[["records", "ineligible"]].sum())
    return _assemble(parts)


def roll_up(engine: Engine, run_id: int | None) -> int:
    """Recompute and store the per-unit counts; returns the number of (unit, phase) rows."""
    with engine.begin() as conn:
        counts = compute_unit_counts(conn)
        conn.execute(store.unit_counts.delete())
        if not counts.empty:
            counts["run_id"] = run_id
            counts["as_of"] = dt.datetime.now(dt.timezone.utc)
            conn.execute(store.unit_counts.insert(), counts.astype(object).to_dict("records"))
    return len(counts)
