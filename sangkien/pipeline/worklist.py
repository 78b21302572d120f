"""The discrepancies as a worklist: grouped by unit and cause, ranked by what moves a unit across its target.

Each section turns a reconciliation scope into rows, one per (unit, phase, cause[, source]),
and the initiatives behind them (``items``). A row carries, besides what it compares
(``expected``, ``actual``), how it bears on the unit's target:

* ``standing``: the unit's count on its quota's basis as the row's view has it: the
  consolidated count for a quota row, the source's own count for a source that lacks
  initiatives (what the portal shows for the unit, say), the child's pushed count;
* ``effect``: what resolving the row adds to that count (the lacking valid initiatives);
* ``crosses``: the unit is short of its target in that view and ``effect`` closes the gap.

Rows that carry a unit over its target come first, then by the share of the target they
recover, then by how many initiatives they concern. Kinds: ``quota`` (against the target),
``sources`` (sources disagree), ``pushed`` (what a child pushed differs from here). Causes
are codes; sangkien.present.catalogue has their words. The method is in docs/reconcile.md.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from sangkien.pipeline import reconcile
from sangkien.pipeline.reconcile import Scope
from sangkien.reference import tree
from sangkien.reference.orgs import KIND_ORDER

ROW_COLUMNS = ("kind", "cause", "unit_code", "phase", "source", "items", "expected", "actual", "standing",
               "effect", "params", "target", "basis")  # target, basis: a quota row's own (else the unit's primary)
ITEM_COLUMNS = ("kind", "cause", "source", "phase", "unit_code", "initiative_id", "status")
WORKLIST_COLUMNS = ("rank", "kind", "cause", "unit_code", "unit_name", "phase", "source", "items", "expected",
                    "actual", "difference", "basis", "target", "standing", "effect", "crosses", "params")
HOLDERS_NAMED = 3  # sources named as holding what another lacks; the rest are counted
KIND_RANK = {"sources": 0, "pushed": 1, "quota": 2}
BASIS_MEASURE = {"valid": "valid"}  # a source row's standing and effect count valid initiatives for this basis


@dataclass
class Worklist:
    rows: pd.DataFrame  # WORKLIST_COLUMNS, ranked (params: a dict per row)
    items: pd.DataFrame  # ITEM_COLUMNS


def _frame(rows: list[dict[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows
    return frame.reindex(columns=list(ROW_COLUMNS)) if not frame.empty else pd.DataFrame(columns=list(ROW_COLUMNS))


# --- against quotas ------------------------------------------------------------------------

def _quota_rows(conn: Connection, scope: Scope) -> tuple[pd.DataFrame, pd.DataFrame]:
    quotas = reconcile.quota_rows(conn, scope)
    short = quotas[(quotas["shortfall"] > 0) | (quotas["note"] != "")]
    effective = tree.effective_units(scope.units, scope.as_of)
    rows = []
    for r in short.itertuples():
        params: dict[str, Any] = {"counted": _int(r.counted), "target": _int(r.target),
                                  "assigned_by": r.assigned_by}
        # a share counted over the units with a member count only carries a note, but is counted
        note = "" if r.note.startswith("basis") and not _missing(r.counted) else r.note
        if not note and not r.shortfall > 0:
            continue
        if note.startswith("basis share_of_members"):
            cause, params = "uncountable_basis", {"basis": r.basis, "ends_on": r.ends_on}
        elif note.startswith("basis share_of_units"):
            cause, params = "no_units", {"basis": r.basis, "as_of": scope.as_of.isoformat()}
        elif note.startswith("merged"):
            cause, params = "merged", {"successor": effective.get(r.unit_code)}
        elif note:
            cause, params = "not_yet_unit", {"as_of": scope.as_of.isoformat()}
        elif r.trend_points >= 2 and r.ends_on >= scope.as_of.isoformat():
            cause = "short_projected"
            params |= {"projected": _int(r.projected), "ends_on": r.ends_on}
        elif r.ends_on < scope.as_of.isoformat():
            cause = "ended_short"
        else:
            cause = "short_no_trend"
        rows.append({"kind": "quota", "cause": cause, "unit_code": r.unit_code, "phase": r.phase, "source": "",
                     "items": 0, "expected": r.target, "actual": r.counted, "standing": r.counted, "effect": 0,
                     "params": params, "target": r.target, "basis": r.basis})
    for f in reconcile.target_flags(conn, scope).itertuples():
        rows.append({"kind": "quota", "cause": "targets_differ", "unit_code": f.unit_code, "phase": f.phase,
                     "source": "", "items": 0, "expected": f.target, "actual": f.children_target,
                     "standing": np.nan, "effect": 0,
                     "params": {"target": _int(f.target), "children_target": _int(f.children_target),
                                "children": f.children_detail, "basis": f.basis, "assigned_by": f.assigned_by},
                     "target": f.target, "basis": f.basis})
    return _frame(rows), pd.DataFrame(columns=list(ITEM_COLUMNS))


# --- between sources -----------------------------------------------------------------------

def _source_rows(conn: Connection, scope: Scope) -> tuple[pd.DataFrame, pd.DataFrame]:
    result = reconcile.source_coverage(conn, scope)
    gaps = result.coverage[result.coverage["lacking"] > 0].reset_index(drop=True)
    if gaps.empty:
        return _frame([]), pd.DataFrame(columns=list(ITEM_COLUMNS))
    named = set(gaps["source"].unique()) | set(result.lacking["lacking_source"].unique())
    portal = [s for s in named if result.is_portal(s)]

    def cause_of(sources: pd.Series) -> np.ndarray:
        return np.where(sources.isin(portal), "not_on_portal", "not_in_source")

    basis = _bases(conn, gaps)
    counts_valid = basis.map(BASIS_MEASURE).eq("valid") | basis.isna()  # no quota: valid, as the report counts
    rows = pd.DataFrame({
        "kind": "sources", "cause": cause_of(gaps["source"]), "unit_code": gaps["unit_code"], "phase": gaps["phase"],
        "source": gaps["source"], "items": gaps["lacking"], "expected": gaps["expected"], "actual": gaps["held"],
        "standing": np.where(counts_valid, gaps["held_valid"], gaps["held"]),
        "effect": np.where(counts_valid, gaps["lacking_valid"], gaps["lacking"])})
    rows["params"] = _holder_params(result.holders, gaps)
    lacking = result.lacking
    items = pd.DataFrame({"kind": "sources", "cause": cause_of(lacking["lacking_source"]),
                          "source": lacking["lacking_source"], "phase": lacking["phase"],
                          "unit_code": lacking["unit_code"], "initiative_id": lacking["initiative_id"],
                          "status": lacking["status"]})
    return _frame(rows), items


def _bases(conn: Connection, rows: pd.DataFrame) -> pd.Series:
    quotas = reconcile.primary_quotas(reconcile.quotas_frame(conn))
    key = pd.MultiIndex.from_frame(rows[["unit_code", "phase"]])
    return pd.Series(quotas.set_index(["unit_code", "phase"])["basis"].reindex(key).to_numpy(), index=rows.index)


def _holder_params(holders: pd.DataFrame, gaps: pd.DataFrame) -> list[dict[str, Any]]:
    """Per gap row: the sources that hold what it lacks, most first (HOLDERS_NAMED named, the rest counted)."""
    keys = ["unit_code", "phase", "source"]
    ranked = holders.sort_values([*keys, "initiatives", "holder"], ascending=[True, True, True, False, True])
    many = ranked.groupby(keys, sort=False).size()
    named = reconcile.join_groups(ranked[keys], ranked["holder"], "\t", HOLDERS_NAMED)
    where = pd.MultiIndex.from_frame(gaps[keys])
    found = named.reindex(where).fillna("").to_numpy() if len(named) else np.full(len(gaps), "", dtype=object)
    more = (many.reindex(where).fillna(0).to_numpy() - HOLDERS_NAMED).clip(min=0) if len(many) else \
        np.zeros(len(gaps))
    return [{"n": int(n), "holders": h.split("\t") if h else [], "holders_more": int(m)}
            for n, h, m in zip(gaps["lacking"], found, more, strict=True)]


# --- what child nodes pushed --------------------------------------------------------------

def _pushed_rows(conn: Connection, scope: Scope) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sangkien.pipeline.programs import program_combined
    from sangkien.pipeline.tiers import against_pushes, has_submissions
    from sangkien.reference.programs import get_program

    if scope.default_program:
        found = pd.DataFrame(against_pushes(conn, phase=scope.phase))
    elif has_submissions(conn, scope.program):  # another program: its pushes against its own count
        program = get_program(conn, scope.program)
        found = pd.DataFrame(against_pushes(conn, phase=scope.phase, program=program.code,
                                            counted=program_combined(conn, program)))
    else:
        found = pd.DataFrame()
    if found.empty:
        return _frame([]), pd.DataFrame(columns=list(ITEM_COLUMNS))
    found = found[found["unit_code"].isin(scope.subtree)]
    counts = found[found["cause_code"] == "pushed_count"]
    rows = [{"kind": "pushed", "cause": f"pushed_count_{r.measure}", "unit_code": r.unit_code, "phase": r.phase,
             "source": "", "items": 0, "expected": r.expected, "actual": r.actual,
             "standing": r.actual if r.measure == "valid" else np.nan,
             "effect": max(r.expected - r.actual, 0) if r.measure == "valid" else 0,
             "params": {"measure": r.measure, "expected": int(r.expected), "actual": int(r.actual)}}
            for r in counts.itertuples()]
    single = found[found["cause_code"] != "pushed_count"]
    if not single.empty:
        grouped = single.groupby(["unit_code", "phase", "cause_code"], sort=True).agg(
            items=("initiative_id", "size"), valid=("initiative_status", lambda s: int((s == "valid").sum())))
        for (unit, phase, cause), g in grouped.iterrows():
            adds = cause == "pushed_missing"  # the child's figure rises once it pushes them
            rows.append({"kind": "pushed", "cause": cause, "unit_code": unit, "phase": phase, "source": "",
                         "items": int(g["items"]), "expected": np.nan, "actual": np.nan, "standing": np.nan,
                         "effect": int(g["valid"]) if adds else 0, "params": {"n": int(g["items"])}})
    items = pd.DataFrame({"kind": "pushed", "cause": single["cause_code"], "source": "", "phase": single["phase"],
                          "unit_code": single["initiative_unit"].fillna(single["unit_code"]),
                          "initiative_id": single["initiative_id"], "status": single["initiative_status"]})
    return _frame(rows), items


# Each section turns a scope into rows (ROW_COLUMNS) and the initiatives behind them (ITEM_COLUMNS).
SECTIONS: list[tuple[str, Callable[[Connection, Scope], tuple[pd.DataFrame, pd.DataFrame]]]] = [
    ("quota", _quota_rows),
    ("sources", _source_rows),
    ("pushed", _pushed_rows),
]


# --- ranking --------------------------------------------------------------------------------

def rank(rows: pd.DataFrame, quotas: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """Rows with the unit's target and basis, ``crosses`` and ``rank`` (1 first): rows that carry a unit
    over its target, then by the share of the target recovered, the effect, the initiatives concerned."""
    if rows.empty:
        return pd.DataFrame(columns=list(WORKLIST_COLUMNS))
    targets = reconcile.primary_quotas(quotas).set_index(["unit_code", "phase"])[["target", "basis"]]
    key = pd.MultiIndex.from_frame(rows[["unit_code", "phase"]].astype({"phase": np.int64}))
    own = rows["target"].notna() if "target" in rows else pd.Series(False, index=rows.index)
    rows = rows.assign(target=np.where(own, rows.get("target"), targets["target"].reindex(key).to_numpy()),
                       basis=np.where(own, rows.get("basis"), targets["basis"].reindex(key).to_numpy()))
    standing = pd.to_numeric(rows["standing"], errors="coerce")
    effect = pd.to_numeric(rows["effect"], errors="coerce").fillna(0)
    target = pd.to_numeric(rows["target"], errors="coerce")
    gap = target - standing
    short = (gap > 0) & (target > 0)
    rows["crosses"] = short & (effect > 0) & (effect >= gap)
    recovered = np.where(short, np.minimum(effect, gap) / target.where(target > 0), 0.0)
    kind = rows["unit_code"].map(pd.Series(scope.units["kind"].to_numpy(), index=scope.units["code"].to_numpy()))
    order = rows.assign(_crosses=~rows["crosses"], _recovered=-np.nan_to_num(recovered), _effect=-effect,
                        _items=-pd.to_numeric(rows["items"]).fillna(0), _kind=rows["kind"].map(KIND_RANK),
                        _unit=kind.map(KIND_ORDER).fillna(9))
    order = order.sort_values(["_crosses", "_recovered", "_effect", "_items", "_kind", "_unit", "unit_code",
                               "phase", "cause", "source"], kind="stable")
    ranked = order.drop(columns=[c for c in order.columns if c.startswith("_")]).reset_index(drop=True)
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    ranked["difference"] = pd.to_numeric(ranked["actual"]) - pd.to_numeric(ranked["expected"])
    ranked["unit_name"] = ranked["unit_code"].map(scope.names())
    ranked["effect"] = pd.to_numeric(ranked["effect"]).fillna(0)
    return ranked[list(WORKLIST_COLUMNS)]


def build(conn: Connection, scope: Scope, kinds: tuple[str, ...] | None = None) -> Worklist:
    """The ranked worklist of ``scope`` (``kinds``: only those sections) and the initiatives behind it."""
    if scope.units.empty:  # no org tree loaded: nothing can be reconciled yet
        return Worklist(pd.DataFrame(columns=list(WORKLIST_COLUMNS)), pd.DataFrame(columns=list(ITEM_COLUMNS)))
    parts = [section(conn, scope) for kind, section in SECTIONS if kinds is None or kind in kinds]
    rows = pd.concat([p[0] for p in parts if not p[0].empty] or [_frame([])], ignore_index=True)
    items = pd.concat([p[1] for p in parts if not p[1].empty] or [pd.DataFrame(columns=list(ITEM_COLUMNS))],
                      ignore_index=True)
    return Worklist(rank(rows, reconcile.quotas_frame(conn), scope), items[list(ITEM_COLUMNS)])


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Worklist rows as plain dicts (WORKLIST_COLUMNS): numbers as int or None, params a dict."""
    if frame.empty:
        return []
    plain = pd.DataFrame({"crosses": frame["crosses"].astype(bool)})
    for name in ("rank", "phase", "items", "expected", "actual", "difference", "target", "standing", "effect"):
        values = pd.to_numeric(frame[name], errors="coerce").round()  # a share (66.67%) as a whole percent
        plain[name] = values.astype("Int64").astype(object).where(values.notna(), None)
    for name in ("kind", "cause", "unit_code", "unit_name", "source", "basis"):
        plain[name] = frame[name].astype(object).where(frame[name].notna(), "").astype(str)
    plain["params"] = [json.loads(p) if isinstance(p, str) else dict(p or {}) for p in frame["params"]]
    columns = [plain[name].tolist() for name in WORKLIST_COLUMNS]  # zip of columns: to_dict is slower
    return [dict(zip(WORKLIST_COLUMNS, values, strict=True)) for values in zip(*columns, strict=True)]


def discrepancies(conn: Connection, unit: str | None = None, phase: int | None = None, *,
                  as_of: dt.date | None = None, kinds: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Every discrepancy in scope, ranked, as plain dicts with the keys WORKLIST_COLUMNS.

    ``unit`` keeps that unit and the units below it; ``kinds`` limits the sections (quota, sources, pushed).
    """
    return records(build(conn, reconcile.open_scope(conn, unit, phase, as_of), kinds).rows)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def _int(value: Any) -> int | None:
    return None if _missing(value) or (not isinstance(value, (int, float, np.number))) else int(value)
