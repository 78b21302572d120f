"""Reconciliation: what was counted against the quotas, and where the sources disagree.

Everything is computed from the store as of a date (the org tree on that date, see
:mod:`sangkien.reference.tree`), vectorized per unit rather than per record, in two sections:

* **quotas** (:func:`quota_rows`, :func:`target_flags`): per unit and phase, the target,
  its basis, the count on that basis, completion, shortfall, and a projection of the
  phase-end figure from the nightly trend in ``count_history`` (:func:`project`); a unit
  and phase may hold several targets (one per assigner and basis), each reported; share
  bases are counted in :mod:`sangkien.pipeline.shares`; where the targets a unit assigned
  below do not add up to its own, it is flagged, never changed.
* **sources** (:func:`source_coverage`): per unit (its whole subtree) and phase, the
  initiatives each source holds, the overlap, and the initiatives a source lacks
  although they sit within the part of the tree it covers (:func:`missing` names them).

:mod:`sangkien.pipeline.worklist` turns both, and what child nodes pushed, into one ranked
list of discrepancies. The method is in docs/reconcile.md.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.errors import UserError
from sangkien.pipeline import rollup
from sangkien.pipeline import shares as shares_module
from sangkien.pipeline.programs import program_counts, program_initiatives
from sangkien.reference import tree
from sangkien.reference.orgs import KIND_ORDER
from sangkien.reference.phases import Phase, get_phases
from sangkien.reference.programs import get_program
from sangkien.reference.quotas import BASIS_COLUMN
from sangkien.store.settings import default_program

TREND_DAYS = 28  # the projection's pace is fitted over the nightly points of the last four weeks
SCOPE_SHARE = 0.10  # a source covers a top-tier unit when it holds at least this share of its initiatives
DETAIL_ITEMS = 10  # children named in a target flag's detail
PORTAL_KIND = "portal"

QUOTA_COLUMNS = ("unit_code", "unit_name", "phase", "basis", "target", "counted", "completion", "shortfall",
                 "projected", "projected_completion", "trend_points", "ends_on", "note", "assigned_by",
                 "assigned_by_name", "taking_part", "out_of")
FLAG_COLUMNS = ("unit_code", "unit_name", "phase", "basis", "target", "children_target", "difference", "children",
                "children_detail", "assigned_by")
COVERAGE_COLUMNS = ("unit_code", "unit_name", "phase", "initiatives", "in_two_or_more", "in_one", "source",
                    "held", "expected", "lacking")
MISSING_COLUMNS = ("lacking_source", "initiative_id", "title", "unit_code", "unit_name", "phase", "status", "held_by")
LACKING_COLUMNS = ("initiative_id", "unit_code", "phase", "status", "lacking_source")


class _Computed(TypedDict, total=False):
    """The sections already computed for one Scope."""

    quotas: pd.DataFrame
    sources: SourceCoverage
    pushed: pd.DataFrame


@dataclass
class Scope:
    """What one reconciliation looks at, with the org tree as of its date loaded once."""

    as_of: dt.date
    unit: str | None
    phase: int | None
    units: pd.DataFrame  # tree.org_frame
    closure: pd.DataFrame  # (unit_code, ancestor) on as_of
    edges: pd.DataFrame  # (code, up) on as_of
    phases: list[Phase]
    subtree: pd.Index  # reported units at or below ``unit`` (every reported unit when unit is None)
    computed: _Computed = field(default_factory=_Computed)  # sections already computed for this scope
    program: str = store.DEFAULT_PROGRAM  # whose phases and quotas; another than the default is counted on demand
    default: str = store.DEFAULT_PROGRAM  # the node's default program: the one the nightly roll-up counted

    @property
    def default_program(self) -> bool:
        return self.program == self.default

    def names(self) -> pd.Series:
        return pd.Series(self.units["name"].to_numpy(), index=self.units["code"].to_numpy())

    def within(self) -> pd.Index:
        """Every unit code, merged or not yet valid ones included, whose initiatives count inside the subtree."""
        return pd.Index(self.closure.loc[self.closure["ancestor"].isin(self.subtree), "unit_code"].unique())

    def keep(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows of ``frame`` (unit_code, phase) inside this scope."""
        mask = frame["unit_code"].isin(self.subtree)
        if self.phase is not None:
            mask &= frame["phase"] == self.phase
        return frame[mask]


def open_scope(conn: Connection, unit: str | None = None, phase: int | None = None,
               as_of: dt.date | None = None, program: str | None = None) -> Scope:
    """The scope of a reconciliation; UserError for an unknown unit, phase or program, or a unit not reported
    then."""
    as_of = as_of or tree.today()
    units = tree.org_frame(conn)
    program = get_program(conn, program).code
    phases = get_phases(conn, program)
    if phase is not None and phase not in {p.phase for p in phases}:
        raise UserError(f"unknown phase {phase}; known phases: {', '.join(str(p.phase) for p in phases)}")
    closure = tree.ancestor_pairs(conn, as_of, units)
    reported = tree.reported_units(units, as_of)
    if unit is not None:
        if unit not in set(units["code"]):
            raise UserError(f"unknown unit {unit!r}; unit codes are in the org tree (`sangkien orgs list`)")
        if unit not in reported:
            successor = tree.effective_units(units, as_of)[unit]
            why = f"merged into {successor}" if successor != unit else "not valid yet"
            raise UserError(f"unit {unit!r} is not reported on {as_of} ({why}); pick another unit or --as-of")
        subtree = pd.Index(closure.loc[closure["ancestor"] == unit, "unit_code"]).intersection(reported)
    else:
        subtree = reported
    return Scope(as_of, unit, phase, units, closure, tree.effective_edges(units, as_of), phases, subtree,
                 program=program, default=default_program(conn))


# --- against quotas ----------------------------------------------------------------------

def quotas_frame(conn: Connection, program: str | None = None) -> pd.DataFrame:
    """Every quota of ``program`` (default: the node's default program): unit_code, phase, target, basis, assigned_by
    (several per unit and phase may be)."""
    q = store.quotas.c
    quotas = store.read_frame(conn, sa.select(q.unit_code, q.phase, q.target, q.basis, q.assigned_by)
                              .where(q.program == (program or default_program(conn)))
                              .order_by(q.unit_code, q.phase, q.assigned_by, q.basis),
                              ["unit_code", "phase", "target", "basis", "assigned_by"])
    return quotas.astype({"phase": np.int64, "target": np.int64}) if not quotas.empty else quotas


def primary_quotas(quotas: pd.DataFrame) -> pd.DataFrame:
    """One quota per (unit, phase), for views with one target a unit: the one assigned from above before a
    self-set one, then by basis (valid first) and assigner. A store with one quota a unit keeps it."""
    if quotas.empty:
        return quotas
    order = quotas.assign(_self=quotas["assigned_by"] == quotas["unit_code"],
                          _basis=quotas["basis"].map({"valid": 0, "submissions": 1, "registrants": 2}).fillna(3))
    order = order.sort_values(["unit_code", "phase", "_self", "_basis", "assigned_by"], kind="stable")
    return order.drop_duplicates(["unit_code", "phase"]).drop(columns=["_self", "_basis"]).reset_index(drop=True)


def _vietnam_days(stamps: pd.Series) -> pd.Series:
    """Timestamps (UTC, naive or aware) as day numbers of the date in Vietnam."""
    local = pd.to_datetime(stamps, utc=True, format="ISO8601").dt.tz_convert(tree.PROGRAM_TZ)
    return (local.dt.tz_localize(None).dt.normalize() - pd.Timestamp("1970-01-01")).dt.days


def _day(date: dt.date) -> int:
    return (date - dt.date(1970, 1, 1)).days


def project(history: pd.DataFrame, ends_on: pd.Series, as_of: dt.date) -> pd.DataFrame:
    """Phase-end projections from ``history`` (unit_code, phase, day, value: one point per night).

    Per (unit, phase[, basis]): the points within TREND_DAYS up to min(as_of, ends_on); with
    fewer than two, none. The pace is the least-squares slope of value over day,
    never below zero (a falling count is a correction, not a trend); the projection
    continues from the latest count at that pace to ends_on. Once the phase has
    ended it is the last count on or before ends_on. Returns unit_code, phase,
    projected, trend_points.
    """
    h = history.copy()
    h["end"] = h["phase"].map(ends_on)
    h["stop"] = np.minimum(h["end"], _day(as_of))
    h = h[(h["day"] <= h["stop"]) & (h["day"] > h["stop"] - TREND_DAYS)]
    keys = ["unit_code", "phase", *(["basis"] if "basis" in h else [])]
    h = h.sort_values([*keys, "day"]).drop_duplicates([*keys, "day"], keep="last")
    if h.empty:
        return pd.DataFrame(columns=[*keys, "projected", "trend_points"])
    h = h.assign(x=h["day"].astype(float), y=h["value"].astype(float))
    h = h.assign(xx=h["x"] * h["x"], xy=h["x"] * h["y"])
    g = h.groupby(keys)
    fit = g.agg(n=("x", "size"), sx=("x", "sum"), sy=("y", "sum"), sxx=("xx", "sum"), sxy=("xy", "sum"),
                last_day=("x", "last"), last=("y", "last"), end=("end", "first"))
    denominator = fit["n"] * fit["sxx"] - fit["sx"] ** 2
    slope = ((fit["n"] * fit["sxy"] - fit["sx"] * fit["sy"]) / denominator.where(denominator > 0)).clip(lower=0)
    ahead = (fit["end"] - fit["last_day"]).clip(lower=0)
    fit["projected"] = (fit["last"] + slope * ahead).round()
    fit.loc[fit["n"] < 2, "projected"] = np.nan
    fit["trend_points"] = fit["n"]
    return fit[["projected", "trend_points"]].reset_index()


def _history(conn: Connection, scope: Scope) -> pd.DataFrame:
    """count_history points for quota (unit, phase) pairs in the projection windows: unit_code, phase, day, value."""
    h, q = store.count_history.c, store.quotas.c
    frames = []
    for phase in scope.phases if scope.default_program else []:  # nightly points are the default program's
        if scope.phase is not None and phase.phase != scope.phase:
            continue
        stop = min(scope.as_of, phase.ends_on)
        since = dt.datetime.combine(stop - dt.timedelta(days=TREND_DAYS + 1), dt.time())
        until = dt.datetime.combine(stop + dt.timedelta(days=2), dt.time())  # Vietnam is UTC+7: trim by day below
        query = (sa.select(h.unit_code, h.phase, h.as_of, h.valid, h.records, h.registrants, q.basis).distinct()
                 .join(store.quotas, sa.and_(q.unit_code == h.unit_code, q.phase == h.phase))
                 .where(h.phase == phase.phase, h.as_of >= since, h.as_of < until,
                        q.program == scope.default))
        frames.append(store.read_frame(conn, query, ["unit_code", "phase", "as_of", "valid", "records",
                                                     "registrants", "basis"]))
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if rows.empty:
        return pd.DataFrame(columns=["unit_code", "phase", "basis", "day", "value"])
    value = np.select([rows["basis"] == b for b in BASIS_COLUMN], [rows[c] for c in BASIS_COLUMN.values()],
                      default=np.nan)
    out = pd.DataFrame({"unit_code": rows["unit_code"], "phase": rows["phase"].astype(np.int64),
                        "basis": rows["basis"], "day": _vietnam_days(rows["as_of"]), "value": value})
    return out.dropna(subset=["value"])


def unit_counts(conn: Connection, scope: Scope) -> pd.DataFrame:
    """Counts per (unit, phase) on the scope's date: the last roll-up's per-unit counts (or, when none
    were kept, counted again from the records) summed over the scope's closure; for a program other than the
    default one, counted from the records' dates (sangkien.pipeline.programs)."""
    if not scope.default_program:
        return program_counts(conn, get_program(conn, scope.program), scope.closure)
    return rollup.counts_over(rollup.kept_per_unit_counts(conn), scope.closure)


def quota_rows(conn: Connection, scope: Scope, counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per quota in scope (each assigner's target apart): target, counted on its basis, completion, shortfall,
    projection (QUOTA_COLUMNS)."""
    if "quotas" in scope.computed:
        return scope.computed["quotas"]
    quotas = quotas_frame(conn, scope.program)
    if scope.unit is not None:  # the unit's subtree, merged units that now count inside it included
        quotas = quotas[quotas["unit_code"].isin(scope.within())]
    if scope.phase is not None:
        quotas = quotas[quotas["phase"] == scope.phase]
    if quotas.empty:
        scope.computed["quotas"] = pd.DataFrame(columns=list(QUOTA_COLUMNS))
        return scope.computed["quotas"]
    counts = unit_counts(conn, scope) if counts is None else counts
    frame = quotas.merge(counts, on=["unit_code", "phase"], how="left")
    counted = np.select([frame["basis"] == b for b in BASIS_COLUMN], [frame[c] for c in BASIS_COLUMN.values()],
                        default=np.nan)
    frame["counted"] = np.where(frame["basis"].isin(list(BASIS_COLUMN)), np.nan_to_num(counted), np.nan)
    shares = shares_module.share_counts(conn, scope, quotas, counts)
    frame = frame.merge(shares.rename(columns={"note": "share_note", "counted": "share_counted"}),
                        on=["unit_code", "phase", "basis"], how="left")
    on_share = shares_module.is_share(frame["basis"])
    frame["counted"] = np.where(on_share, pd.to_numeric(frame["share_counted"]), frame["counted"])
    for name in ("taking_part", "out_of"):
        frame[name] = pd.to_numeric(frame[name])
    reported = frame["unit_code"].isin(scope.subtree)
    frame.loc[~reported, "counted"] = np.nan
    frame["completion"] = (frame["counted"] / frame["target"].where(frame["target"] > 0)).round(4)
    frame["shortfall"] = (frame["target"] - frame["counted"]).clip(lower=0)
    ends_on = pd.Series({p.phase: _day(p.ends_on) for p in scope.phases})
    projections = project(_history(conn, scope), ends_on, scope.as_of)
    frame = frame.merge(projections, on=["unit_code", "phase", "basis"], how="left")
    frame.loc[~reported, "projected"] = np.nan
    frame["projected_completion"] = (frame["projected"] / frame["target"].where(frame["target"] > 0)).round(4)
    frame["trend_points"] = frame["trend_points"].fillna(0)
    frame["ends_on"] = frame["phase"].map({p.phase: p.ends_on.isoformat() for p in scope.phases})
    frame["note"] = _quota_notes(frame, scope, reported)
    frame["unit_name"] = frame["unit_code"].map(scope.names())
    frame["assigned_by_name"] = frame["assigned_by"].map(scope.names())
    frame["_basis"] = frame["basis"].map({"valid": 0, "submissions": 1, "registrants": 2}).fillna(3)
    scope.computed["quotas"] = _ordered(frame, scope, extra=["_self", "assigned_by", "_basis", "basis"])[
        list(QUOTA_COLUMNS)]
    return scope.computed["quotas"]


def _quota_notes(frame: pd.DataFrame, scope: Scope, reported: pd.Series) -> pd.Series:
    """Why a quota's count is missing or elsewhere: a share that cannot be worked out, a merged unit, a unit not
    valid yet; empty otherwise."""
    effective = tree.effective_units(scope.units, scope.as_of)
    note = pd.Series("", index=frame.index, dtype=object)
    shared = frame["share_note"].fillna("").astype(str)
    note = note.where(shared == "", "basis " + frame["basis"] + ": " + shared)
    merged = frame["unit_code"].map(effective) != frame["unit_code"]
    note[merged] = "merged into " + frame["unit_code"].map(effective) + "; its initiatives count there"
    note[~reported & ~merged] = f"not a unit yet on {scope.as_of}"
    return note


def target_flags(conn: Connection, scope: Scope) -> pd.DataFrame:
    """Units whose targets assigned below (to units directly under them, same phase and basis) do not add up to
    their own target: the one they set themselves when they did, else the one assigned to them (FLAG_COLUMNS)."""
    quotas = quotas_frame(conn, scope.program)
    if scope.phase is not None:
        quotas = quotas[quotas["phase"] == scope.phase]
    assigned = quotas[quotas["assigned_by"] != quotas["unit_code"]]
    children = scope.edges.merge(assigned, left_on="code", right_on="unit_code")
    children = children[children["assigned_by"] == children["up"]]
    # the parent's own target: self-set first, else the one assigned to it
    own = quotas.assign(_self=quotas["assigned_by"] == quotas["unit_code"]).sort_values(
        ["unit_code", "phase", "basis", "_self"], ascending=[True, True, True, False], kind="stable")
    own = own.drop_duplicates(["unit_code", "phase", "basis"])
    children = children.merge(own, left_on=["up", "phase", "basis"], right_on=["unit_code", "phase", "basis"],
                              suffixes=("", "_parent"))
    if children.empty:
        return pd.DataFrame(columns=list(FLAG_COLUMNS))
    children = children.sort_values(["up", "phase", "target"], ascending=[True, True, False])
    children["item"] = children["code"] + " " + children["target"].map("{:,}".format)
    sums = children.groupby(["up", "phase", "basis"]).agg(
        children_target=("target", "sum"), children=("code", "size"), target=("target_parent", "first"),
        assigned_by=("assigned_by_parent", "first"))
    sums["children_detail"] = join_groups(children[["up", "phase", "basis"]], children["item"], ", ", DETAIL_ITEMS) \
        .reindex(sums.index).to_numpy()
    more = sums["children"] - DETAIL_ITEMS
    sums["children_detail"] = sums["children_detail"].where(more <= 0, sums["children_detail"] + ", … ("
                                                            + more.astype(str) + " more)")
    sums = sums.reset_index().rename(columns={"up": "unit_code"})
    sums = sums[sums["children_target"] != sums["target"]]
    sums = sums[sums["unit_code"].isin(scope.subtree)]
    sums["difference"] = sums["children_target"] - sums["target"]
    sums["unit_name"] = sums["unit_code"].map(scope.names())
    return _ordered(sums, scope)[list(FLAG_COLUMNS)]


# --- between sources ---------------------------------------------------------------------

@dataclass
class SourceCoverage:
    """Per unit subtree, phase and source, what the source holds and lacks; and the lacking initiatives."""

    coverage: pd.DataFrame  # COVERAGE_COLUMNS, plus held_valid, lacking_valid
    lacking: pd.DataFrame  # LACKING_COLUMNS: one row per (initiative, source that lacks it), in scope
    holders: pd.DataFrame  # unit_code, phase, source, holder, initiatives: lacking in source, held by holder
    kinds: dict[str, str]  # source -> connector kind

    def is_portal(self, source: str) -> bool:
        return self.kinds.get(source) == PORTAL_KIND or source == PORTAL_KIND


STATUSES = ("valid", "pending", "rejected")


def _initiatives(conn: Connection, scope: Scope) -> pd.DataFrame:
    """Every initiative with a phase, by id: initiative_id, unit_code, phase, status_code (index in STATUSES;
    3 for any other). The status travels as a small number: two million strings cost seconds to read. For a
    program other than the default one, the initiatives that count for it, in its phases (by their dates)."""
    if not scope.default_program:
        own = program_initiatives(conn, get_program(conn, scope.program))
        codes = own["status"].map({name: n for n, name in enumerate(STATUSES)}).fillna(len(STATUSES))
        return pd.DataFrame({"initiative_id": own["id"].astype(np.int64), "unit_code": own["unit_code"],
                             "phase": own["phase"].astype(np.int64), "status_code": codes.astype(np.int8)})
    i = store.initiatives.c
    status = sa.case({name: n for n, name in enumerate(STATUSES)}, value=i.status, else_=len(STATUSES))
    inits = store.read_frame(conn, sa.select(i.id, i.unit_code, i.phase, status).where(i.phase.is_not(None))
                             .order_by(i.id), ["initiative_id", "unit_code", "phase", "status_code"])
    return inits.astype({"phase": np.int64, "initiative_id": np.int64, "status_code": np.int8})


def _held_pairs(conn: Connection) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """(initiative ids, source numbers, sources): one pair per record of an initiative, the source as a number.

    Each source's initiative ids arrive as one comma-joined text (group_concat / string_agg) parsed by
    numpy: a row per source instead of millions of rows through the driver."""
    r, m = store.raw_records.c, store.initiative_members.c
    joined = sa.func.aggregate_strings(sa.cast(m.initiative_id, sa.String), ",")
    found = conn.execute(sa.select(r.source, joined).join(store.initiative_members, m.raw_id == r.id)
                         .group_by(r.source)
                         .order_by(r.source)).all()
    sources = pd.Index([source for source, _ in found])
    ids = [np.array(text.split(","), dtype=np.int64) if text else np.zeros(0, dtype=np.int64) for _, text in found]
    numbers = [np.full(len(part), n, dtype=np.int64) for n, part in enumerate(ids)]
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), sources
    return np.concatenate(ids), np.concatenate(numbers), sources


def join_groups(keys: pd.DataFrame | pd.Series, values: pd.Series, sep: str, limit: int | None = None) -> pd.Series:
    """``values`` joined with ``sep`` per key, in the order given, at most ``limit`` per key.

    Vectorized: the n-th value of every group becomes a column, then columns are
    concatenated, so the cost is a few column operations, not a call per group.
    """
    frame = pd.concat([keys.reset_index(drop=True) if isinstance(keys, pd.DataFrame) else
                       keys.rename("_key").reset_index(drop=True), values.rename("_value").reset_index(drop=True)],
                      axis=1)
    names = [c for c in frame.columns if c != "_value"]
    frame["_n"] = frame.groupby(names, sort=False).cumcount()
    if limit is not None:
        frame = frame[frame["_n"] < limit]
    if frame.empty:
        return pd.Series(dtype=object)
    wide = frame.pivot(index=names, columns="_n", values="_value")
    joined = wide[0].astype(object)
    for n in wide.columns[1:]:
        joined = joined + (sep + wide[n]).fillna("")
    return joined


def source_scopes(scope: Scope, position: np.ndarray, held: np.ndarray) -> np.ndarray:
    """(units, sources) boolean: which units each source is expected to cover (``position``: each initiative's
    unit as its row in ``scope.units``, -1 for none; ``held``: (initiatives, sources)).

    The top tier is the children of the roots (provinces and national sectors at the
    national node). A source covers a top-tier unit when, among that unit's
    initiatives not already under a unit it covers, it holds at least SCOPE_SHARE;
    the tops are taken in order of how many of the source's initiatives they hold.
    So a provincial system that lists bank branches does not come to cover the
    Banking union nationwide, and a stray record does not make a province's whole
    tree "missing" from a system that never covered it.
    """
    codes = scope.units["code"].to_numpy()
    unit_index = pd.Index(codes)
    roots = set(codes) - set(scope.edges["code"])
    tops = pd.Index(sorted(set(scope.edges.loc[scope.edges["up"].isin(roots), "code"]))).append(
        pd.Index(sorted(roots)))
    pairs = scope.closure[scope.closure["ancestor"].isin(tops)]
    member = np.zeros((len(codes), len(tops)), dtype=bool)
    member[unit_index.get_indexer(pairs["unit_code"]), tops.get_indexer(pairs["ancestor"])] = True
    # a unit under a top-tier unit is not also "under" the root for this purpose
    has_top = member[:, :len(tops) - len(roots)].any(axis=1)
    member[has_top, len(tops) - len(roots):] = False
    known = position >= 0
    position, held = position[known], held[known]
    total = np.bincount(position, minlength=len(codes)).astype(float)
    covered = np.zeros((len(codes), held.shape[1]), dtype=bool)
    for s in range(held.shape[1]):  # per source, per top-tier unit: a few hundred steps on unit-level arrays
        holds = np.bincount(position, weights=held[:, s], minlength=len(codes))
        order = np.argsort(-(holds @ member), kind="stable")
        for t in order:
            fresh = member[:, t] & ~covered[:, s]
            got, out_of = holds[fresh].sum(), total[fresh].sum()
            if got >= 1 and got >= SCOPE_SHARE * out_of:
                covered[:, s] |= member[:, t]
    return covered


class _Roller:
    """Sums per-initiative columns up the tree: per (own unit, phase) first, then over each ancestor's distinct
    descendants (the closure), with bincounts on unit-level arrays rather than joins of millions of rows."""

    def __init__(self, scope: Scope, position: np.ndarray, phases: np.ndarray):
        """``position``: each initiative's unit as its row in ``scope.units`` (-1: not in the tree)."""
        self.codes = pd.Index(scope.units["code"])
        self.ok = position >= 0  # initiatives of a unit missing from the tree count nowhere
        self.phases = np.unique(phases[self.ok]) if self.ok.any() else np.array([], dtype=np.int64)
        width = len(self.phases)
        self.slots = len(self.codes) * width
        self.full_key = np.where(self.ok, position * width + np.searchsorted(self.phases, phases), -1)
        self.key = self.full_key[self.ok]
        below = self.codes.get_indexer(scope.closure["unit_code"])
        above = self.codes.get_indexer(scope.closure["ancestor"])
        offsets = np.arange(width)
        self.source = (below[:, None] * width + offsets).ravel()
        self.target = (above[:, None] * width + offsets).ravel()

    def roll(self, values: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
        """Per (ancestor, phase) slot: the sum of ``values`` (one per initiative) over its subtree; with
        ``among`` (positions of initiatives), ``values`` are those initiatives' only."""
        if among is None:
            per_unit = np.bincount(self.key, weights=values[self.ok], minlength=self.slots)
        else:
            keep = self.ok[among]
            per_unit = np.bincount(self.full_key[among[keep]], weights=values[keep], minlength=self.slots)
        return np.bincount(self.target, weights=per_unit[self.source], minlength=self.slots)

    def slot_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """The (unit code, phase) of each slot."""
        width = max(len(self.phases), 1)
        slots = np.arange(self.slots)
        return self.codes.to_numpy()[slots // width], self.phases[slots % width] if len(self.phases) else slots


def source_coverage(conn: Connection, scope: Scope) -> SourceCoverage:
    """Per unit subtree, phase and source: held, expected, lacking; the lacking initiatives; who holds them."""
    if "sources" in scope.computed:
        return scope.computed["sources"]
    c = store.connectors.c
    kinds: dict[str, str] = dict(conn.execute(sa.select(c.name, c.kind)).tuples().all())
    inits = _initiatives(conn, scope)
    ids, numbers, sources = _held_pairs(conn)
    held = np.zeros((len(inits), len(sources)), dtype=bool)
    known_ids = inits["initiative_id"].to_numpy()
    row = np.searchsorted(known_ids, ids)  # initiatives are read in id order
    found = row < len(known_ids)
    found[found] = known_ids[row[found]] == ids[found]  # a record of an initiative without a phase: nowhere
    held[row[found], numbers[found]] = True
    expected = held.copy()  # a source is expected to hold what it holds, and everything in the part it covers
    position = pd.Index(scope.units["code"]).get_indexer(inits["unit_code"])
    known = position >= 0
    if known.any():
        expected[known] |= source_scopes(scope, position, held)[position[known]]
    lacking = expected & ~held
    roller = _Roller(scope, position, inits["phase"].to_numpy())
    valid = (inits["status_code"] == 0).to_numpy()
    coverage, holders = _coverage_frames(scope, roller, sources, held, expected, lacking, valid)
    result = SourceCoverage(coverage, _lacking(scope, inits, position, sources, lacking),
                            scope.keep(holders).reset_index(drop=True), kinds)
    scope.computed["sources"] = result
    return result


def _lacking(scope: Scope, inits: pd.DataFrame, position: np.ndarray, sources: pd.Index,
             lacking: np.ndarray) -> pd.DataFrame:
    """One row per (initiative, source that lacks it) in scope (LACKING_COLUMNS), in initiative order."""
    rows, cols = np.nonzero(lacking)
    keep = np.ones(len(rows), dtype=bool)
    if scope.unit is not None:
        inside = np.zeros(len(scope.units) + 1, dtype=bool)  # the last slot: a unit missing from the tree
        inside[pd.Index(scope.units["code"]).get_indexer(scope.within())] = True
        keep &= inside[position[rows]]
    if scope.phase is not None:
        keep &= inits["phase"].to_numpy()[rows] == scope.phase
    rows, cols = rows[keep], cols[keep]
    return pd.DataFrame({"initiative_id": inits["initiative_id"].to_numpy()[rows],
                         "unit_code": inits["unit_code"].to_numpy()[rows], "phase": inits["phase"].to_numpy()[rows],
                         "status": np.array([*STATUSES, None], dtype=object)[inits["status_code"].to_numpy()[rows]],
                         "lacking_source": sources.to_numpy()[cols]})


def _coverage_frames(scope: Scope, roller: _Roller, sources: pd.Index, held: np.ndarray, expected: np.ndarray,
                     lacking: np.ndarray, valid: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-initiative matrices rolled up the tree: coverage rows, and who holds what each source lacks."""
    units, phases = roller.slot_keys()
    sources_per = held.sum(axis=1)
    per_slot = {"initiatives": roller.roll(np.ones(len(held))),
                "in_two_or_more": roller.roll((sources_per >= 2).astype(float)),
                "in_one": roller.roll((sources_per == 1).astype(float))}
    coverage_parts, holder_parts = [], []
    for s, name in enumerate(sources):
        figures = {m: roller.roll(v.astype(float)) for m, v in (
            ("held", held[:, s]), ("expected", expected[:, s]), ("lacking", lacking[:, s]),
            ("held_valid", held[:, s] & valid), ("lacking_valid", lacking[:, s] & valid))}
        keep = figures["expected"] > 0
        coverage_parts.append(pd.DataFrame({"unit_code": units[keep], "phase": phases[keep], "source": name,
                                            **{k: v[keep] for k, v in (per_slot | figures).items()}}))
        gaps = figures["lacking"] > 0
        among = np.flatnonzero(lacking[:, s])  # who holds what this source lacks: only those initiatives
        for t, holder in enumerate(sources):
            if t != s and len(among):
                n = roller.roll(held[among, t].astype(float), among)
                hit = gaps & (n > 0)
                holder_parts.append(pd.DataFrame({"unit_code": units[hit], "phase": phases[hit], "source": name,
                                                  "holder": holder, "initiatives": n[hit].astype(np.int64)}))
    holders = pd.concat(holder_parts, ignore_index=True) if holder_parts else \
        pd.DataFrame(columns=["unit_code", "phase", "source", "holder", "initiatives"])
    return _finish_coverage(scope, coverage_parts), holders


def _finish_coverage(scope: Scope, parts: list[pd.DataFrame]) -> pd.DataFrame:
    columns = [*COVERAGE_COLUMNS, "held_valid", "lacking_valid"]
    if not parts:
        return pd.DataFrame(columns=columns)
    coverage = scope.keep(pd.concat(parts, ignore_index=True))
    counts = ["initiatives", "in_two_or_more", "in_one", "held", "expected", "lacking", "held_valid", "lacking_valid"]
    coverage = coverage.astype({c: np.int64 for c in counts} | {"phase": np.int64})
    coverage["unit_name"] = coverage["unit_code"].map(scope.names())
    return _ordered(coverage, scope, extra=["source"])[columns].reset_index(drop=True)


def missing(conn: Connection, scope: Scope, limit: int | None = None) -> pd.DataFrame:
    """The initiatives a source lacks, by name (MISSING_COLUMNS): title, unit, and the records that hold them."""
    lacking = source_coverage(conn, scope).lacking
    # by source, unit and id: sorted on numbers (codes of the sorted names), not on a million strings
    order = np.lexsort((lacking["initiative_id"].to_numpy(), pd.factorize(lacking["unit_code"], sort=True)[0],
                        pd.factorize(lacking["lacking_source"], sort=True)[0]))
    lacking = lacking.iloc[order if limit is None else order[:limit]]
    ids = lacking["initiative_id"].unique()
    i, m, r = store.initiatives.c, store.initiative_members.c, store.records.c
    with_ids = store.id_set(conn, "reconcile_ids", ids.tolist())
    titles = dict(conn.execute(sa.select(i.id, i.title).where(i.id.in_(sa.select(with_ids.c.id)))).tuples().all())
    holders = store.read_frame(conn, sa.select(m.initiative_id, r.source, r.source_record_id)
                               .join(store.records, r.raw_id == m.raw_id)
                               .where(m.initiative_id.in_(sa.select(with_ids.c.id))),
                               ["initiative_id", "source", "source_record_id"])
    holders = holders.sort_values(["initiative_id", "source", "source_record_id"])
    out = lacking.assign(title=lacking["initiative_id"].map(titles),
                         held_by=lacking["initiative_id"].map(join_groups(
                             holders["initiative_id"], holders["source"] + ":" + holders["source_record_id"], "; ")),
                         unit_name=lacking["unit_code"].map(scope.names()))
    return out[list(MISSING_COLUMNS)].reset_index(drop=True)


def _ordered(frame: pd.DataFrame, scope: Scope, extra: list[str] | None = None) -> pd.DataFrame:
    """Rows ordered national first, then by kind of unit, code and phase."""

    kind = frame["unit_code"].map(pd.Series(scope.units["kind"].to_numpy(), index=scope.units["code"].to_numpy()))
    frame = frame.assign(_order=kind.map(KIND_ORDER).fillna(9))
    if "assigned_by" in frame:  # a unit's targets: the one assigned from above first, then the ones it set itself
        frame = frame.assign(_self=frame["assigned_by"] == frame["unit_code"])
    return frame.sort_values(["_order", "unit_code", "phase", *(extra or [])], kind="stable").drop(
        columns=[c for c in ("_order", "_self") if c in frame])
