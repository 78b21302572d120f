"""Entity-resolution metrics for the benchmark (issue 5): pure, vectorized functions.

- pairwise_scores(pred_labels, true_labels): pairwise precision / recall / F1 from contingency
  counts (sum of C(n, 2) over cells, rows and columns), no pair enumeration.
- count_errors(records, pred_labels, truth, orgs): the error in the number of initiatives,
  overall and per unit of the org tree (an initiative counts once for its unit and once for
  every ancestor reached through parent_code and/or sector_parent_code).
- components(n, a, b): connected-component labels of an edge list (for baselines).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _pairs(counts: np.ndarray) -> int:
    counts = counts.astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def pairwise_scores(pred_labels: Any, true_labels: Any) -> dict[str, float | int]:
    """Pairwise precision, recall and F1 of a clustering against the truth.

    ``pred_labels`` and ``true_labels`` are aligned sequences (one entry per record) of
    cluster labels of any hashable type. A pair of records is predicted when both carry
    the same predicted label, true when both carry the same true label.
    """
    pred = pd.factorize(np.asarray(pred_labels), use_na_sentinel=False)[0].astype(np.int64)
    true = pd.factorize(np.asarray(true_labels), use_na_sentinel=False)[0].astype(np.int64)
    if len(pred) != len(true):
        raise ValueError(f"label arrays differ in length: {len(pred)} vs {len(true)}")
    if len(pred) == 0:
        return {"precision": 1.0, "recall": 1.0, "f1": 1.0, "tp": 0, "predicted_pairs": 0, "true_pairs": 0}
    cells = np.unique(pred * (int(true.max()) + 1) + true, return_counts=True)[1]
    tp = _pairs(cells)
    predicted_pairs = _pairs(np.bincount(pred))
    true_pairs = _pairs(np.bincount(true))
    precision = tp / predicted_pairs if predicted_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp,
            "predicted_pairs": predicted_pairs, "true_pairs": true_pairs}


def ancestors(orgs: pd.DataFrame) -> dict[str, frozenset[str]]:
    """Each unit's set of ancestors, itself included, through parent_code and sector_parent_code."""
    parents: dict[str, list[str]] = {}
    for code, parent, sector in orgs[["code", "parent_code", "sector_parent_code"]].itertuples(index=False):
        parents[code] = [p for p in (parent, sector) if isinstance(p, str) and p]
    memo: dict[str, frozenset[str]] = {}

    def walk(code: str, seen: tuple[str, ...] = ()) -> frozenset[str]:
        if code in memo:
            return memo[code]
        if code in seen:  # a cycle: orgs load rejects these, so do not loop forever
            return frozenset({code})
        result = {code}
        for parent in parents.get(code, ()):
            result |= walk(parent, seen + (code,))
        memo[code] = frozenset(result)
        return memo[code]

    for code in parents:
        walk(code)
    return memo


def roll_up_counts(leaf_counts: pd.Series, up: dict[str, frozenset[str]]) -> pd.Series:
    """Initiatives per unit including descendants; each initiative counts once per ancestor."""
    totals: dict[str, int] = {code: 0 for code in up}
    for unit, count in leaf_counts.items():
        for ancestor in up.get(unit, frozenset({unit})):
            totals[ancestor] = totals.get(ancestor, 0) + int(count)
    return pd.Series(totals, dtype=np.int64)


def _as_labels(records: pd.DataFrame, pred_labels: Any) -> np.ndarray:
    if isinstance(pred_labels, pd.DataFrame):
        mapping = pred_labels.set_index("raw_id")["cluster"]
        labels = mapping.reindex(records["raw_id"].to_numpy()).to_numpy()
        if pd.isna(labels).any():
            raise ValueError(f"{int(pd.isna(labels).sum()):,} records have no predicted label")
        return labels
    labels = np.asarray(pred_labels)
    if len(labels) != len(records):
        raise ValueError("pred_labels must be aligned with records or be a (raw_id, cluster) frame")
    return labels


def predicted_units(records: pd.DataFrame, labels: np.ndarray) -> pd.Series:
    """Each predicted initiative's unit: its members' most common unit_code (ties: smallest code)."""
    frame = pd.DataFrame({"cluster": pd.factorize(labels)[0], "unit_code": records["unit_code"].to_numpy()})
    sizes = frame.groupby(["cluster", "unit_code"], sort=False).size().rename("n").reset_index()
    sizes = sizes.sort_values(["cluster", "n", "unit_code"], ascending=[True, False, True], kind="stable")
    return sizes.drop_duplicates("cluster").set_index("cluster")["unit_code"]


def count_errors(records: pd.DataFrame, pred_labels: Any, truth: pd.DataFrame, orgs: pd.DataFrame,
                 min_initiatives: int = 100, tolerance: float = 0.01) -> dict[str, Any]:
    """The error in the number of initiatives, overall and per unit (with ancestors).

    records: raw_id, unit_code (the records that were resolved); pred_labels: a (raw_id,
    cluster) frame or labels aligned with records; truth: raw_id, initiative_id, unit_code
    (the true unit); orgs: the org tree (code, parent_code, sector_parent_code, ...).
    Records without a truth row are left out of both sides.
    """
    labels = _as_labels(records, pred_labels)
    keep = records["raw_id"].isin(truth["raw_id"]).to_numpy()
    records, labels = records.loc[keep].reset_index(drop=True), labels[keep]
    truth = truth[truth["raw_id"].isin(records["raw_id"])]

    pred_units = predicted_units(records, labels)
    true_units = truth.drop_duplicates("initiative_id").set_index("initiative_id")["unit_code"]
    n_pred, n_true = len(pred_units), len(true_units)

    up = ancestors(orgs)
    pred_counts = roll_up_counts(pred_units.value_counts(), up)
    true_counts = roll_up_counts(true_units.value_counts(), up)
    table = pd.DataFrame({"true": true_counts, "pred": pred_counts}).fillna(0).astype(np.int64)
    table["error"] = (table["pred"] - table["true"]) / table["true"].where(table["true"] > 0)
    roots = [code for code, parent, sector in orgs[["code", "parent_code", "sector_parent_code"]]
             .itertuples(index=False) if not (isinstance(parent, str) and parent)
             and not (isinstance(sector, str) and sector)]
    root = "VGCL" if "VGCL" in table.index else (roots[0] if roots else None)
    big = table[table["true"] >= min_initiatives]
    worst = big["error"].abs().idxmax() if len(big) else None
    return {
        "records": len(records),
        "predicted_initiatives": n_pred,
        "true_initiatives": n_true,
        "overall_error": (n_pred - n_true) / n_true if n_true else 0.0,
        "root": root,
        "root_error": float(table.loc[root, "error"]) if root in table.index else None,
        "units": len(table),
        "units_min_initiatives": min_initiatives,
        "units_checked": len(big),
        "max_unit_error": float(big["error"].abs().max()) if len(big) else 0.0,
        "max_unit_error_unit": worst,
        "max_unit_error_signed": float(big.loc[worst, "error"]) if worst is not None else 0.0,
        "units_over_tolerance": int((big["error"].abs() > tolerance).sum()),
        "tolerance": tolerance,
    }


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component labels (the smallest member index) of n nodes joined by edges a[i]-b[i]."""
    labels = np.arange(n, dtype=np.int64)
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    while True:
        la, lb = labels[a], labels[b]
        differ = la != lb
        if not differ.any():
            return labels
        la, lb = la[differ], lb[differ]
        np.minimum.at(labels, np.maximum(la, lb), np.minimum(la, lb))
        while True:  # pointer jumping until every node points at a root
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped


def group_edges(keys: pd.DataFrame, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Edges joining every row to the first row sharing its key (rows where valid is False are left out)."""
    index = np.arange(len(keys), dtype=np.int64)
    groups = keys.groupby(list(keys.columns), sort=False, dropna=True).ngroup().to_numpy()
    if valid is not None:
        groups = np.where(valid, groups, -1)
    ok = groups >= 0
    index, groups = index[ok], groups[ok]
    first = pd.Series(index).groupby(groups).transform("min").to_numpy()
    return index, first
