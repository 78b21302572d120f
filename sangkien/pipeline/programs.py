"""A program's counts, worked out from the initiatives' and records' own dates.

The nightly pipeline validates and counts for the default program (its phases are stored on
every record). Another program counts the same initiatives by its own phases and window: a
record belongs to it when it was applied within the program's window and submitted within
one of its phases (applied on or after that phase's ``counts_from``, not after its end, and
recognized) — the same rule validation applies (:func:`sangkien.pipeline.validate.eligibility`).
So one initiative may count for several programs. Nothing is stored: a program's figures are
counted when asked for (`report --program`, `reconcile --program`).
"""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.pipeline import tiers
from sangkien.pipeline.rollup import COUNT_COLUMNS, combined_per_unit_counts, counts_of, counts_over
from sangkien.pipeline.validate import eligibility
from sangkien.reference.phases import get_phases
from sangkien.reference.programs import Program


def _phased(frame: pd.DataFrame, program: Program, conn: Connection, recognized: pd.Series) -> pd.DataFrame:
    """``frame`` with phase (NA outside the program) and eligible from the program's phases and window."""
    applied = pd.to_datetime(frame["applied_on"])
    submitted = pd.to_datetime(frame["submitted_at"])
    phase, eligible, _ = eligibility(applied, submitted, recognized, get_phases(conn, program.code))
    inside = (applied >= pd.Timestamp(program.starts_on)) & (applied <= pd.Timestamp(program.ends_on))
    return frame.assign(phase=phase.where(inside & phase.notna()), eligible=(eligible & inside).astype(bool))


def program_initiatives(conn: Connection, program: Program) -> pd.DataFrame:
    """The initiatives that count for ``program``: id, unit_code, phase (its own), status, benefit_vnd."""
    i = store.initiatives.c
    inits = store.read_frame(conn, sa.select(i.id, i.unit_code, i.status, i.benefit_vnd, i.applied_on,
                                             i.submitted_at).order_by(i.id),
                             ["id", "unit_code", "status", "benefit_vnd", "applied_on", "submitted_at"])
    if inits.empty:
        return pd.DataFrame(columns=["id", "unit_code", "phase", "status", "benefit_vnd"])
    inits = _phased(inits, program, conn, pd.Series(True, index=inits.index))
    inits = inits[inits["eligible"]]
    return inits.assign(phase=inits["phase"].astype("int64"))[["id", "unit_code", "phase", "status", "benefit_vnd"]]


def _program_records(conn: Connection, program: Program) -> pd.DataFrame:
    """This node's records phased by ``program``: unit_code, author_keys, phase (NA outside it), eligible."""
    r = store.records.c
    recs = store.read_frame(conn, sa.select(r.unit_code, r.author_keys, r.applied_on, r.submitted_at, r.recognized_on),
                            ["unit_code", "author_keys", "applied_on", "submitted_at", "recognized_on"])
    return _phased(recs, program, conn, pd.to_datetime(recs["recognized_on"]))[
        ["unit_code", "author_keys", "phase", "eligible"]]


def program_combined(conn: Connection, program: Program, inits: pd.DataFrame | None = None,
                     recs: pd.DataFrame | None = None) -> tiers.Combined:
    """This node's initiatives (``inits``: program_initiatives) and its children's latest pushes for ``program``,
    counted once (tiers.combined), this node's ineligible records (``recs``: _program_records) beside them."""
    inits = program_initiatives(conn, program) if inits is None else inits
    recs = _program_records(conn, program) if recs is None else recs
    inel = recs[~recs["eligible"] & recs["phase"].notna()].groupby(["unit_code", "phase"]).size()
    return tiers.combined(conn, program.code, inits.set_index("id")["phase"], inel.rename("records").reset_index())


def program_per_unit_counts(conn: Connection, program: Program) -> pd.DataFrame:
    """Counts per (own unit, phase of ``program``), like rollup.node_per_unit_counts for the default program: at a
    node whose children pushed for ``program``, their latest pushes and this node's initiatives counted once."""
    inits = program_initiatives(conn, program)
    recs = _program_records(conn, program)
    if tiers.has_submissions(conn, program.code):
        combined = program_combined(conn, program, inits, recs)
        return combined_per_unit_counts(conn, combined, recs[["unit_code", "phase", "eligible"]])
    if inits.empty and recs.empty:
        return pd.DataFrame(columns=["unit_code", "phase", *COUNT_COLUMNS])
    # a record submitted within a phase but applied outside it is ineligible there, as validation has it
    return counts_of(inits[["unit_code", "phase", "status", "benefit_vnd"]],
                     recs[["unit_code", "phase", "eligible", "author_keys"]])


def program_valid_initiatives(conn: Connection, program: Program) -> pd.DataFrame:
    """The valid initiatives that count for ``program``: unit_code, phase (its own), submitted_at."""
    i = store.initiatives.c
    inits = store.read_frame(conn, sa.select(i.unit_code, i.applied_on, i.submitted_at).where(i.status == "valid"),
                             ["unit_code", "applied_on", "submitted_at"])
    if inits.empty:
        return pd.DataFrame(columns=["unit_code", "phase", "submitted_at"])
    inits = _phased(inits, program, conn, pd.Series(True, index=inits.index))
    inits = inits[inits["eligible"]]
    return inits.assign(submitted_at=pd.to_datetime(inits["submitted_at"]))[["unit_code", "phase", "submitted_at"]]


def program_counts(conn: Connection, program: Program, closure: pd.DataFrame) -> pd.DataFrame:
    """Counts per (unit, phase of ``program``) over each unit's subtree (``closure``: tree.ancestor_pairs)."""
    return counts_over(program_per_unit_counts(conn, program), closure)

