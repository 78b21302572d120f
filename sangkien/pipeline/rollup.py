"""Roll initiatives and records up the org tree as of a date: each ancestor counts an initiative once.

A grassroots unit can sit under a geographic parent and a sector parent; both chains
lead to the national unit, so an ancestor's count is over the distinct units below
it, never a sum of its children's counts: the national total is a distinct count.

**As of a date D.** Units carry valid_from/valid_to. A unit whose valid_to is before
D and that names a successor has been merged: its initiatives, and any link to it as
a parent, go to its successor (transitively, through a chain of merges). A unit
with valid_from after D does not exist yet and is not reported. A unit that ended
without a successor keeps its own counts, so nothing is lost.

**Why summing per-unit counts is exact.** Every initiative, record and registrant
belongs to exactly one unit (a registrant is a name key within one unit), and the
closure below holds each (unit, ancestor) pair once, however many paths join them.
So counting per unit first and summing over an ancestor's distinct descendants
counts each initiative once per ancestor, on every basis, without joining millions
of rows to the closure.

**A night recounts only what changed.** For the same reason, a unit's own counts depend on its
own records and initiatives only. Validation and resolution name every unit whose records or
initiatives they write, as it was before and after (:func:`mark_changed`, :func:`mark_changed_codes`,
table ``rollup_dirty``);
the next roll-up recounts those units' own counts, keeps the others from ``unit_own_counts``, and
empties the table, in one transaction. It counts everything again after a full resolution, at a node
with children (their submissions are counted together with its own), and when no own counts are kept.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sangkien import store
from sangkien.pipeline import tiers
from sangkien.pipeline.match.blocking import ranges, sorted_unique
from sangkien.pipeline.match.model import _split_keys
from sangkien.reference.tree import ancestor_pairs

# Above this share of the units with counts changed, a roll-up counts every unit again: reading the changed
# units' rows through the unit index costs more than reading every row in order (2.4 M records, 1.75 M
# initiatives, a night changing 2% of the rows of every source: by unit 26.3 s, all 14 s).
RECOUNT_SHARE = 0.05
COUNT_COLUMNS = ("records", "initiatives", "valid", "pending", "rejected", "ineligible", "registrants", "benefit_vnd")


def _initiative_counts(inits: pd.DataFrame) -> pd.DataFrame:
    """Per (unit, phase): initiatives, valid, pending, rejected and the benefit sum of ``inits``."""
    status = inits["status"]
    frame = inits.assign(valid=status == "valid", pending=status == "pending", rejected=status == "rejected",
                         benefit_vnd=inits["benefit_vnd"].astype(float))
    return frame.groupby(["unit_code", "phase"]).agg(
        initiatives=("status", "size"), valid=("valid", "sum"), pending=("pending", "sum"),
        rejected=("rejected", "sum"), benefit_vnd=("benefit_vnd", "sum"))


def mark_changed(conn: Connection, units: sa.Select) -> None:
    """Note, in the caller's transaction, the units ``units`` selects (one column of unit codes, nulls skipped):
    their own counts change with the caller's writes, and the next roll-up recounts them."""
    column = units.subquery().c[0]
    conn.execute(store.rollup_dirty.insert().from_select(
        ["unit_code"], sa.select(column).where(column.is_not(None)).distinct()))


def mark_changed_codes(conn: Connection, codes: Iterable[str]) -> None:
    """:func:`mark_changed` for unit codes in memory (none missing: the caller drops them)."""
    unique = sorted({str(code) for code in codes})
    if unique:
        store.bulk_insert(conn, store.rollup_dirty, ("unit_code",), [(code,) for code in unique])


def per_unit_counts(conn: Connection, units: sa.Select | None = None) -> pd.DataFrame:
    """Counts per (own unit, phase), before any roll-up; every basis is additive over distinct units.
    ``units``: a select of unit codes to count only those."""
    i, r = store.initiatives.c, store.records.c
    inits = sa.select(i.unit_code, i.phase, i.status, i.benefit_vnd)
    recs = sa.select(r.unit_code, r.phase, r.eligible, r.author_keys)
    if units is not None:
        inits, recs = inits.where(i.unit_code.in_(units)), recs.where(r.unit_code.in_(units))
    return counts_of(store.read_frame(conn, inits, ["unit_code", "phase", "status", "benefit_vnd"]),
                     store.read_frame(conn, recs, ["unit_code", "phase", "eligible", "author_keys"]))


def _recounted(conn: Connection) -> pd.DataFrame | None:
    """The kept own counts with the units changed since the last roll-up counted again; None when a whole
    count is needed (no own counts kept, or a node with children)."""
    if tiers.has_submissions(conn):
        return None
    kept = store.read_frame(conn, sa.select(store.unit_own_counts), [c.name for c in store.unit_own_counts.columns])
    if kept.empty:
        return None
    changed = sa.select(store.rollup_dirty.c.unit_code).distinct()
    codes = {row[0] for row in conn.execute(changed)}
    if not codes:
        return kept
    if len(codes) > RECOUNT_SHARE * kept["unit_code"].nunique():
        return None  # reading most units' rows by unit costs more than reading them all in order
    fresh = per_unit_counts(conn, changed)
    return pd.concat([kept[~kept["unit_code"].isin(codes)], fresh], ignore_index=True)


def counts_of(inits: pd.DataFrame, recs: pd.DataFrame) -> pd.DataFrame:
    """Counts per (own unit, phase) of initiatives (unit_code, phase, status, benefit_vnd) and records
    (unit_code, phase, eligible, author_keys); rows without a phase count nowhere."""
    parts = []
    inits = inits.dropna(subset=["phase"])
    if not inits.empty:
        parts.append(_initiative_counts(inits))
    recs = recs.dropna(subset=["phase"])
    if not recs.empty:
        recs["eligible"] = recs["eligible"].astype(bool)
        recs["ineligible"] = ~recs["eligible"]
        parts.append(recs.groupby(["unit_code", "phase"]).agg(records=("eligible", "size"),
                                                              ineligible=("ineligible", "sum")))
        parts.append(_registrants(recs.loc[recs["eligible"]]))
    if not parts:
        return pd.DataFrame(columns=["unit_code", "phase", *COUNT_COLUMNS])
    return pd.concat(parts, axis=1).fillna(0).reset_index()


def _registrants(recs: pd.DataFrame) -> pd.DataFrame:
    """Registrants per (unit, phase) of records (unit_code, phase, author_keys): the distinct name keys
    ("|"-joined in author_keys) within the unit, so distinct per unit and additive up the tree.

    As codes: each distinct key set is split once, and a (unit, phase, key set) shared by several
    records (one initiative from several sources) is read once. At 2.4 M records: 6.9 s as a
    split-and-explode of strings, 2.7 s this way (the same counts)."""
    units, unit_values = pd.factorize(recs["unit_code"])
    phases, phase_values = pd.factorize(recs["phase"])
    sets, set_values = pd.factorize(recs["author_keys"].to_numpy(dtype=object))  # -1: no key set (a third faster)
    n_sets = len(set_values) + 1
    cell = units.astype(np.int64) * len(phase_values) + phases
    pair = sorted_unique(cell[sets >= 0] * n_sets + sets[sets >= 0])  # each (cell, key set) once
    pair_cell, pair_set = pair // n_sets, pair % n_sets
    set_of_key, keys = _split_keys(pd.Series(np.asarray(set_values, dtype=object)))  # each set's names, once
    person, _ = pd.factorize(keys)
    start = np.searchsorted(set_of_key, np.arange(len(set_values) + 1))  # the names of set k: start[k]:start[k + 1]
    length = (start[1:] - start[:-1])[pair_set]
    n_people = max(len(person), 1)
    held = sorted_unique(np.repeat(pair_cell, length) * n_people
                         + person[ranges(start[:-1][pair_set], length)])  # each (cell, person) once
    owner = held // n_people
    first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(owner) else np.empty(0, dtype=np.int64)
    cells, count = owner[first], np.diff(np.r_[first, len(owner)])
    index = pd.MultiIndex.from_arrays([unit_values.take(cells // len(phase_values)),
                                       phase_values.take(cells % len(phase_values))], names=["unit_code", "phase"])
    return pd.DataFrame({"registrants": count}, index=index)


def node_per_unit_counts(conn: Connection) -> pd.DataFrame:
    """Counts per (own unit, phase) at this node: at a node with children (submissions received), its own
    initiatives and theirs counted once together."""
    return combined_per_unit_counts(conn) if tiers.has_submissions(conn) else per_unit_counts(conn)


def kept_per_unit_counts(conn: Connection) -> pd.DataFrame:
    """The per-unit counts the last roll-up kept (``unit_own_counts``); counted now when none were kept."""
    own = store.read_frame(conn, sa.select(store.unit_own_counts), [c.name for c in store.unit_own_counts.columns])
    return own if not own.empty else node_per_unit_counts(conn)


def compute_unit_counts(conn: Connection, as_of: dt.date | None = None) -> pd.DataFrame:
    """Counts per (unit, phase) as of ``as_of`` (default today) for every reported unit with anything to count.

    At a node with children (submissions received), its own initiatives and theirs are counted once together."""
    return counts_over(node_per_unit_counts(conn), ancestor_pairs(conn, as_of))


def counts_over(per_unit: pd.DataFrame, closure: pd.DataFrame) -> pd.DataFrame:
    """Per-unit counts summed over each ancestor's distinct descendants (``closure`` from ancestor_pairs)."""
    if per_unit.empty:
        return pd.DataFrame(columns=["unit_code", "phase", *COUNT_COLUMNS])
    counts = per_unit.merge(closure, on="unit_code").groupby(["ancestor", "phase"])[
        [c for c in COUNT_COLUMNS if c in per_unit]].sum()
    counts = counts.reset_index().rename(columns={"ancestor": "unit_code"})
    for name in COUNT_COLUMNS:
        if name not in counts:
            counts[name] = 0
        counts[name] = counts[name].astype(float if name == "benefit_vnd" else np.int64)
    counts["phase"] = counts["phase"].astype(np.int64)
    return counts[["unit_code", "phase", *COUNT_COLUMNS]].sort_values(["unit_code", "phase"], ignore_index=True)


def combined_per_unit_counts(conn: Connection, combined: tiers.Combined | None = None,
                             recs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per (own unit, phase) at a node with children: initiatives and registrants counted once across this node's
    sources and the children's latest submissions (matched on keyed hashes, docs/tiers.md); records and
    ineligible records summed over this node's own and what each child folded and held ineligible. ``combined``
    and ``recs`` (this node's records: unit_code, phase, eligible): another program's (default: the default
    program's)."""
    combined = combined or tiers.combined(conn)
    inits = combined.initiatives
    parts = []
    if not inits.empty:
        parts.append(_initiative_counts(inits))
        people = combined.people.merge(inits[["id", "unit_code", "phase"]], on="id")
        people = people[["unit_code", "phase", "person"]].drop_duplicates()
        parts.append(people.groupby(["unit_code", "phase"]).agg(registrants=("person", "size")))
    if recs is None:
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
    if not weighted.empty:
        parts.append(weighted.groupby(["unit_code", "phase"])[["records", "ineligible"]].sum())
    if not parts:
        return pd.DataFrame(columns=["unit_code", "phase", *COUNT_COLUMNS])
    return pd.concat(parts, axis=1).fillna(0).reset_index()


def roll_up(engine: Engine, run_id: int | None, as_of: dt.date | None = None, incremental: bool = False) -> int:
    """Recompute the per-unit counts as of ``as_of`` (default today), store them, and append them to
    ``count_history`` (the trend projections are drawn from); returns the number of (unit, phase) rows.
    ``incremental``: count again only the units changed since the last roll-up (see the module), where it can."""
    with engine.begin() as conn:
        own = _recounted(conn) if incremental else None
        if own is None:
            own = node_per_unit_counts(conn)
        counts = counts_over(own, ancestor_pairs(conn, as_of))
        conn.execute(store.rollup_dirty.delete())
        conn.execute(store.unit_counts.delete())
        conn.execute(store.unit_own_counts.delete())  # kept for reconciling as of another date without recounting
        if not own.empty:
            columns = ["unit_code", "phase", *COUNT_COLUMNS]
            kept = own.reindex(columns=columns, fill_value=0).astype({c: np.int64 for c in columns[1:]}
                                                                        | {"benefit_vnd": float})
            store.bulk_insert(conn, store.unit_own_counts, columns, store.frame_rows(kept))
        if not counts.empty:
            counts["run_id"] = run_id
            counts["as_of"] = dt.datetime.now(dt.UTC)
            rows = counts.astype(object).to_dict("records")
            conn.execute(store.unit_counts.insert(), rows)
            conn.execute(store.count_history.insert(), rows)
    return len(counts)
