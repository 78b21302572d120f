"""Reconciliation: what was counted against the quotas, and where the sources disagree.

Everything is computed from the store as of a date (the org tree on that date, see
:mod:`sangkien.rollup`), vectorized per unit rather than per record, in two sections:

* **quotas** (:func:`quota_rows`, :func:`target_flags`): per unit and phase, the target,
  its basis, the count on that basis, completion, shortfall, and a projection of the
  phase-end figure from the nightly trend in ``count_history`` (:func:`project`);
  targets whose children's targets do not add up are flagged, never changed.
* **sources** (:func:`source_coverage`): per unit (its whole subtree) and phase, the
  initiatives each source holds, the overlap, and by name the initiatives a source
  lacks although they sit within the part of the tree it covers.

:func:`discrepancies` flattens both into one row shape for a spreadsheet or a page;
each section contributes through :data:`DISCREPANCY_SECTIONS`. The method is in
docs/reconcile.md.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.errors import UserError
from sangkien.pipeline import rollup
from sangkien.reference import tree
from sangkien.reference.orgs import KIND_ORDER
from sangkien.reference.phases import Phase, get_phases
from sangkien.reference.quotas import BASIS_COLUMN

TREND_DAYS = 28  # the projection's pace is fitted over the nightly points of the last four weeks
SCOPE_SHARE = 0.10  # a source covers a top-tier unit when it holds at least this share of its initiatives
DETAIL_ITEMS = 10  # initiatives named in one discrepancy row's detail
PORTAL_KIND = "portal"

QUOTA_COLUMNS = ("unit_code", "unit_name", "phase", "basis", "target", "counted", "completion", "shortfall",
                 "projected", "projected_completion", "trend_points", "ends_on", "note")
FLAG_COLUMNS = ("unit_code", "unit_name", "phase", "basis", "target", "children_target", "difference", "children",
                "children_detail")
COVERAGE_COLUMNS = ("unit_code", "unit_name", "phase", "initiatives", "in_two_or_more", "in_one", "source",
                    "held", "expected", "lacking")
MISSING_COLUMNS = ("lacking_source", "initiative_id", "title", "unit_code", "unit_name", "phase", "status", "held_by")
DISCREPANCY_COLUMNS = ("kind", "unit_code", "unit_name", "phase", "measure", "expected", "actual", "difference",
                       "cause", "detail")


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
               as_of: dt.date | None = None) -> Scope:
    """The scope of a reconciliation; UserError for an unknown unit or phase, or a unit not reported then."""
    as_of = as_of or tree.today()
    units = tree.org_frame(conn)
    phases = get_phases(conn)
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
    return Scope(as_of, unit, phase, units, closure, tree.effective_edges(units, as_of), phases, subtree)


# --- against quotas ----------------------------------------------------------------------

def _quotas(conn: Connection) -> pd.DataFrame:
    q = store.quotas.c
    return store.read_frame(conn, sa.select(q.unit_code, q.phase, q.target, q.basis),
                            ["unit_code", "phase", "target", "basis"])


def _vietnam_days(stamps: pd.Series) -> pd.Series:
    """Timestamps (UTC, naive or aware) as day numbers of the date in Vietnam."""
    local = pd.to_datetime(stamps, utc=True, format="ISO8601").dt.tz_convert(tree.PROGRAM_TZ)
    return (local.dt.tz_localize(None).dt.normalize() - pd.Timestamp("1970-01-01")).dt.days


def _day(date: dt.date) -> int:
    return (date - dt.date(1970, 1, 1)).days


def project(history: pd.DataFrame, ends_on: pd.Series, as_of: dt.date) -> pd.DataFrame:
    """Phase-end projections from ``history`` (unit_code, phase, day, value: one point per night).

    Per (unit, phase): the points within TREND_DAYS up to min(as_of, ends_on); with
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
    h = h.sort_values(["unit_code", "phase", "day"]).drop_duplicates(["unit_code", "phase", "day"], keep="last")
    if h.empty:
        return pd.DataFrame(columns=["unit_code", "phase", "projected", "trend_points"])
    h = h.assign(x=h["day"].astype(float), y=h["value"].astype(float))
    h = h.assign(xx=h["x"] * h["x"], xy=h["x"] * h["y"])
    g = h.groupby(["unit_code", "phase"])
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
    for phase in scope.phases:
        if scope.phase is not None and phase.phase != scope.phase:
            continue
        stop = min(scope.as_of, phase.ends_on)
        since = dt.datetime.combine(stop - dt.timedelta(days=TREND_DAYS + 1), dt.time())
        until = dt.datetime.combine(stop + dt.timedelta(days=2), dt.time())  # Vietnam is UTC+7: trim by day below
        query = (sa.select(h.unit_code, h.phase, h.as_of, h.valid, h.records, h.registrants, q.basis)
                 .join(store.quotas, sa.and_(q.unit_code == h.unit_code, q.phase == h.phase))
                 .where(h.phase == phase.phase, h.as_of >= since, h.as_of < until))
        frames.append(store.read_frame(conn, query, ["unit_code", "phase", "as_of", "valid", "records",
                                                     "registrants", "basis"]))
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if rows.empty:
        return pd.DataFrame(columns=["unit_code", "phase", "day", "value"])
    value = np.select([rows["basis"] == b for b in BASIS_COLUMN], [rows[c] for c in BASIS_COLUMN.values()],
                      default=np.nan)
    out = pd.DataFrame({"unit_code": rows["unit_code"], "phase": rows["phase"].astype(np.int64),
                        "day": _vietnam_days(rows["as_of"]), "value": value})
    return out.dropna(subset=["value"])


def quota_rows(conn: Connection, scope: Scope, counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per quota in scope: target, counted on its basis, completion, shortfall, projection (QUOTA_COLUMNS)."""
    if "quotas" in scope.computed:
        return scope.computed["quotas"]
    if counts is None:
        counts = rollup.counts_over(rollup.per_unit_counts(conn), scope.closure)
    quotas = _quotas(conn)
    if scope.unit is not None:  # the unit's subtree, merged units that now count inside it included
        quotas = quotas[quotas["unit_code"].isin(scope.within())]
    if scope.phase is not None:
        quotas = quotas[quotas["phase"] == scope.phase]
    frame = quotas.merge(counts, on=["unit_code", "phase"], how="left")
    counted = np.select([frame["basis"] == b for b in BASIS_COLUMN], [frame[c] for c in BASIS_COLUMN.values()],
                        default=np.nan)
    frame["counted"] = np.where(frame["basis"].isin(list(BASIS_COLUMN)), np.nan_to_num(counted), np.nan)
    reported = frame["unit_code"].isin(scope.subtree)
    frame.loc[~reported, "counted"] = np.nan
    frame["completion"] = (frame["counted"] / frame["target"].where(frame["target"] > 0)).round(4)
    frame["shortfall"] = (frame["target"] - frame["counted"]).clip(lower=0)
    ends_on = pd.Series({p.phase: _day(p.ends_on) for p in scope.phases})
    projections = project(_history(conn, scope), ends_on, scope.as_of)
    frame = frame.merge(projections, on=["unit_code", "phase"], how="left")
    frame.loc[~reported, "projected"] = np.nan
    frame["projected_completion"] = (frame["projected"] / frame["target"].where(frame["target"] > 0)).round(4)
    frame["trend_points"] = frame["trend_points"].fillna(0)
    frame["ends_on"] = frame["phase"].map({p.phase: p.ends_on.isoformat() for p in scope.phases})
    effective = tree.effective_units(scope.units, scope.as_of)
    frame["note"] = ""
    uncountable = ~frame["basis"].isin(list(BASIS_COLUMN))
    frame.loc[uncountable, "note"] = "basis " + frame["basis"] + " cannot be counted here (no member numbers)"
    merged = frame["unit_code"].map(effective) != frame["unit_code"]
    frame.loc[merged, "note"] = "merged into " + frame["unit_code"].map(effective) + "; its initiatives count there"
    frame.loc[~reported & ~merged, "note"] = f"not a unit yet on {scope.as_of}"
    frame["unit_name"] = frame["unit_code"].map(scope.names())
    scope.computed["quotas"] = _ordered(frame, scope)[list(QUOTA_COLUMNS)]
    return scope.computed["quotas"]


def target_flags(conn: Connection, scope: Scope) -> pd.DataFrame:
    """Quotas whose direct children's targets (same phase and basis) do not add up to them (FLAG_COLUMNS)."""
    quotas = _quotas(conn)
    if scope.phase is not None:
        quotas = quotas[quotas["phase"] == scope.phase]
    children = scope.edges.merge(quotas, left_on="code", right_on="unit_code")
    children = children.merge(quotas, left_on=["up", "phase", "basis"], right_on=["unit_code", "phase", "basis"],
                              suffixes=("", "_parent"))
    if children.empty:
        return pd.DataFrame(columns=list(FLAG_COLUMNS))
    children = children.sort_values(["up", "phase", "target"], ascending=[True, True, False])
    children["item"] = children["code"] + " " + children["target"].map("{:,}".format)
    sums = children.groupby(["up", "phase", "basis"]).agg(
        children_target=("target", "sum"), children=("code", "size"), target=("target_parent", "first"))
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
    coverage: pd.DataFrame  # COVERAGE_COLUMNS: per unit subtree, phase and source
    missing: pd.DataFrame  # MISSING_COLUMNS: one row per (initiative, source that lacks it)
    kinds: dict[str, str]  # source -> connector kind


def _members(conn: Connection) -> pd.DataFrame:
    m, r = store.initiative_members.c, store.records.c
    return store.read_frame(conn, sa.select(m.initiative_id, r.source, r.source_record_id)
                            .join(store.records, r.raw_id == m.raw_id),
                            ["initiative_id", "source", "source_record_id"])


def _initiatives(conn: Connection) -> pd.DataFrame:
    i = store.initiatives.c
    inits = store.read_frame(conn, sa.select(i.id, i.unit_code, i.phase, i.status, i.title),
                             ["initiative_id", "unit_code", "phase", "status", "title"]).dropna(subset=["phase"])
    inits["phase"] = inits["phase"].astype(np.int64)
    return inits.reset_index(drop=True)


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


def source_scopes(scope: Scope, unit_codes: pd.Series, held: np.ndarray) -> np.ndarray:
    """(units, sources) boolean: which units each source is expected to cover.

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
    position = unit_index.get_indexer(unit_codes)
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


def source_coverage(conn: Connection, scope: Scope, missing_limit: int | None = None) -> SourceCoverage:
    """Per unit subtree, phase and source: held, expected, lacking; and the lacking initiatives by name."""
    if "sources" in scope.computed and missing_limit is None:
        return scope.computed["sources"]
    c = store.connectors.c
    kinds: dict[str, str] = dict(conn.execute(sa.select(c.name, c.kind)).tuples().all())
    inits = _initiatives(conn)
    members = _members(conn)
    sources = pd.Index(sorted(members["source"].unique()))
    held = np.zeros((len(inits), len(sources)), dtype=bool)
    row = pd.Index(inits["initiative_id"]).get_indexer(members["initiative_id"])
    ok = row >= 0
    held[row[ok], sources.get_indexer(members.loc[ok, "source"])] = True
    covered = source_scopes(scope, inits["unit_code"], held)
    expected = covered[pd.Index(scope.units["code"]).get_indexer(inits["unit_code"])] | held
    lacking = expected & ~held
    per = pd.DataFrame({"unit_code": inits["unit_code"], "phase": inits["phase"], "initiatives": 1,
                        "in_two_or_more": held.sum(axis=1) >= 2, "in_one": held.sum(axis=1) == 1})
    for s, name in enumerate(sources):
        per[("held", name)] = held[:, s]
        per[("expected", name)] = expected[:, s]
        per[("lacking", name)] = lacking[:, s]
    per_unit = per.groupby(["unit_code", "phase"]).sum()
    rolled = per_unit.reset_index().merge(scope.closure, on="unit_code").drop(columns="unit_code") \
        .groupby(["ancestor", "phase"]).sum()
    totals = rolled[["initiatives", "in_two_or_more", "in_one"]]
    long = pd.concat({m: rolled[[(m, s) for s in sources]].set_axis(sources, axis=1).stack()
                      for m in ("held", "expected", "lacking")}, axis=1)
    long.index.names = ["unit_code", "phase", "source"]
    long = long.reset_index()
    long = long[long["expected"] > 0]
    coverage = long.merge(totals.reset_index().rename(columns={"ancestor": "unit_code"}), on=["unit_code", "phase"])
    coverage = scope.keep(coverage)
    coverage["unit_name"] = coverage["unit_code"].map(scope.names())
    coverage = _ordered(coverage, scope, extra=["source"])[list(COVERAGE_COLUMNS)]
    missing = _missing(conn, scope, inits, members, sources, lacking, missing_limit)
    result = SourceCoverage(coverage.reset_index(drop=True), missing, kinds)
    if missing_limit is None:
        scope.computed["sources"] = result
    return result


def _missing(conn: Connection, scope: Scope, inits: pd.DataFrame, members: pd.DataFrame, sources: pd.Index,
             lacking: np.ndarray, limit: int | None) -> pd.DataFrame:
    rows, cols = np.nonzero(lacking)
    out = inits.iloc[rows][["initiative_id", "title", "unit_code", "phase", "status"]].reset_index(drop=True)
    out["lacking_source"] = sources[cols]
    inside = out["unit_code"].isin(scope.within())
    out = out[inside & ((out["phase"] == scope.phase) if scope.phase is not None else True)]
    out = out.sort_values(["lacking_source", "unit_code", "initiative_id"], ignore_index=True)
    if limit is not None:
        out = out.head(limit)
    ids = out["initiative_id"].unique()
    holders = members[members["initiative_id"].isin(ids)].sort_values(["initiative_id", "source", "source_record_id"])
    out["held_by"] = out["initiative_id"].map(
        join_groups(holders["initiative_id"], holders["source"] + ":" + holders["source_record_id"], "; "))
    out["unit_name"] = out["unit_code"].map(scope.names())
    return out[list(MISSING_COLUMNS)]


# --- flat rows for a spreadsheet or a page -----------------------------------------------

def _quota_discrepancies(conn: Connection, scope: Scope) -> pd.DataFrame:
    quotas = quota_rows(conn, scope)
    short = quotas[(quotas["shortfall"] > 0) | (quotas["note"] != "")].copy()
    projected = short["projected"].map(lambda v: "" if pd.isna(v) else f"{int(v):,}")
    ended = short["ends_on"].astype(str) < scope.as_of.isoformat()
    cause = np.select(
        [short["note"] != "", short["trend_points"] >= 2, ended],
        [short["note"], "short of target; projected " + projected + " by " + short["ends_on"].astype(str),
         "phase ended short of target"],
        "short of target; no projection yet (fewer than 2 nightly runs in the last 4 weeks)")
    rows = pd.DataFrame({
        "kind": "quota", "unit_code": short["unit_code"], "unit_name": short["unit_name"], "phase": short["phase"],
        "measure": short["basis"], "expected": short["target"], "actual": short["counted"],
        "difference": short["counted"] - short["target"], "cause": cause,
        "detail": "completion " + (short["completion"] * 100).round(1).astype(str) + "%, shortfall "
                  + short["shortfall"].map(lambda v: "" if pd.isna(v) else f"{int(v):,}")})
    flags = target_flags(conn, scope)
    flagged = pd.DataFrame({
        "kind": "quota", "unit_code": flags["unit_code"], "unit_name": flags["unit_name"], "phase": flags["phase"],
        "measure": "children's targets (" + flags["basis"] + ")", "expected": flags["target"],
        "actual": flags["children_target"], "difference": flags["difference"],
        "cause": "children's targets do not add up to the parent's (flagged, not changed)",
        "detail": flags["children_detail"]})
    return pd.concat([rows, flagged], ignore_index=True)


def _source_discrepancies(conn: Connection, scope: Scope) -> pd.DataFrame:
    result = source_coverage(conn, scope)
    gaps = result.coverage[result.coverage["lacking"] > 0]
    # an ancestor's first items (by id) are among its units' first items: trim before joining the closure
    missing = result.missing.sort_values(["lacking_source", "phase", "initiative_id"])
    missing = missing[missing.groupby(["unit_code", "phase", "lacking_source"]).cumcount() < DETAIL_ITEMS]
    missing = missing.rename(columns={"unit_code": "own"}).merge(
        scope.closure.rename(columns={"unit_code": "own", "ancestor": "unit_code"}), on="own")
    missing = missing.sort_values(["unit_code", "phase", "lacking_source", "initiative_id"])
    item = "#" + missing["initiative_id"].astype(str) + " " + missing["title"] + " (" + missing["held_by"] + ")"
    named = join_groups(missing[["unit_code", "phase", "lacking_source"]], item, "; ", DETAIL_ITEMS)
    keys = pd.MultiIndex.from_frame(gaps[["unit_code", "phase", "source"]])
    detail = named.reindex(keys).fillna("").to_numpy() if len(named) else np.full(len(gaps), "", dtype=object)
    more = gaps["lacking"].to_numpy() - DETAIL_ITEMS
    detail = np.where(more > 0, detail + "; … and " + more.astype(str) + " more", detail)
    is_portal = gaps["source"].isin([s for s, k in result.kinds.items() if k == PORTAL_KIND] + [PORTAL_KIND])
    cause = np.where(is_portal, "not yet on the portal: held by other sources",
                     "not in " + gaps["source"] + ": held by other sources within its part of the tree")
    return pd.DataFrame({
        "kind": "sources", "unit_code": gaps["unit_code"], "unit_name": gaps["unit_name"], "phase": gaps["phase"],
        "measure": "initiatives on " + gaps["source"], "expected": gaps["expected"], "actual": gaps["held"],
        "difference": gaps["held"] - gaps["expected"], "cause": cause, "detail": detail})


def _pushed_discrepancies(conn: Connection, scope: Scope) -> pd.DataFrame:
    """At an upper node: what each child pushed vs what this node's sources hold for its subtree
    (sangkien.pipeline.tiers)."""
    from sangkien.pipeline.tiers import against_pushes

    if "pushed" not in scope.computed:
        rows = pd.DataFrame(against_pushes(conn, phase=scope.phase), columns=list(DISCREPANCY_COLUMNS))
        scope.computed["pushed"] = rows[rows["unit_code"].isin(scope.subtree)].reset_index(drop=True)
    return scope.computed["pushed"]


# Each section turns a scope into rows of DISCREPANCY_COLUMNS.
DISCREPANCY_SECTIONS: list[tuple[str, Callable[[Connection, Scope], pd.DataFrame]]] = [
    ("quota", _quota_discrepancies),
    ("sources", _source_discrepancies),
    ("pushed", _pushed_discrepancies),
]


def discrepancies(conn: Connection, unit: str | None = None, phase: int | None = None, *,
                  as_of: dt.date | None = None, kinds: tuple[str, ...] | None = None) -> list[dict]:
    """Every discrepancy in scope as flat rows with exactly DISCREPANCY_COLUMNS as keys.

    ``unit`` keeps that unit and the units below it; ``kinds`` limits the sections.
    Numbers are ints (or None when they cannot be counted); text never None.
    """
    return discrepancy_rows(conn, open_scope(conn, unit, phase, as_of), kinds)


def discrepancy_rows(conn: Connection, scope: Scope, kinds: tuple[str, ...] | None = None) -> list[dict]:
    """:func:`discrepancies` for a scope already open."""
    frames = [section(conn, scope) for kind, section in DISCREPANCY_SECTIONS if kinds is None or kind in kinds]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return []
    flat = pd.concat(frames, ignore_index=True)
    rows = []
    for rec in flat.to_dict("records"):
        row = {name: rec.get(name) for name in DISCREPANCY_COLUMNS}
        for name in ("phase", "expected", "actual", "difference"):
            row[name] = None if row[name] is None or pd.isna(row[name]) else int(row[name])
        for name in ("unit_name", "measure", "cause", "detail"):
            row[name] = "" if row[name] is None or (isinstance(row[name], float) and pd.isna(row[name])) \
                else str(row[name])
        rows.append(row)
    return rows


def _ordered(frame: pd.DataFrame, scope: Scope, extra: list[str] | None = None) -> pd.DataFrame:
    """Rows ordered national first, then by kind of unit, code and phase."""

    kind = frame["unit_code"].map(pd.Series(scope.units["kind"].to_numpy(), index=scope.units["code"].to_numpy()))
    frame = frame.assign(_order=kind.map(KIND_ORDER).fillna(9))
    return frame.sort_values(["_order", "unit_code", "phase", *(extra or [])]).drop(columns="_order")
