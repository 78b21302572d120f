"""Competition clusters and blocks (cụm, khối thi đua): the units that are ranked together, dated.

A file of ``cluster_code,name,unit_code,valid_from,valid_to`` replaces the clusters whole; a unit
may sit in one cluster at a time."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sangkien import store
from sangkien.errors import RejectedFile, UserError
from sangkien.reference.csvfile import _date, _read_csv

CLUSTER_COLUMNS = ("cluster_code", "name", "unit_code", "valid_from", "valid_to")
_OPEN_START, _OPEN_END = dt.date.min, dt.date.max


def _row(line: int, row: dict[str, str], units: set[str], names: dict[str, tuple[str, int]],
         problems: list[str]) -> dict[str, object] | None:
    cluster, unit = row["cluster_code"], row["unit_code"]
    where = f"line {line} ({cluster or 'no cluster'}, {unit or 'no unit'})"
    bad = len(problems)
    if not cluster:
        problems.append(f"{where}: cluster_code is empty")
    if not row["name"]:
        problems.append(f"{where}: name is empty; the cluster's name (e.g. Cụm thi đua số 1)")
    elif cluster in names and names[cluster][0] != row["name"]:
        problems.append(f"{where}: cluster {cluster} is named {row['name']!r} here but {names[cluster][0]!r} on "
                        f"line {names[cluster][1]}")
    if unit not in units:
        problems.append(f"{where}: unknown unit {unit!r}")
    valid_from = _date(row.get("valid_from", ""), "valid_from", problems, where)
    valid_to = _date(row.get("valid_to", ""), "valid_to", problems, where)
    if valid_from and valid_to and valid_to < valid_from:
        problems.append(f"{where}: ends before it starts: {valid_to} < {valid_from}")
    if len(problems) > bad:
        return None
    names.setdefault(cluster, (row["name"], line))
    return {"cluster_code": cluster, "name": row["name"], "unit_code": unit, "valid_from": valid_from,
            "valid_to": valid_to, "_line": line}


def _overlaps(rows: list[dict[str, object]]) -> list[str]:
    """A unit in two clusters at once, or twice in one, named by both lines."""
    problems = []
    by_unit = sorted(rows, key=lambda r: (str(r["unit_code"]), r["valid_from"] or _OPEN_START))
    for unit, group in itertools.groupby(by_unit, key=lambda r: r["unit_code"]):
        for a, b in itertools.combinations(list(group), 2):
            a_end, b_start = a["valid_to"] or _OPEN_END, b["valid_from"] or _OPEN_START
            if a["cluster_code"] == b["cluster_code"]:
                problems.append(f"line {b['_line']} ({b['cluster_code']}, {unit}): {unit} is in {b['cluster_code']} "
                                f"already on line {a['_line']}")
            elif b_start <= a_end:  # type: ignore[operator]
                problems.append(f"line {b['_line']} ({b['cluster_code']}, {unit}): {unit} would be in "
                                f"{b['cluster_code']} and in {a['cluster_code']} (line {a['_line']}) at once; "
                                "a unit ranks in one cluster at a time")
    return problems


def load_clusters(engine: Engine, path: Path) -> int:
    """Replace the clusters with ``path`` atomically; a file with any bad line is rejected whole, every line
    named. Returns the number of memberships loaded."""
    with engine.connect() as conn:
        units = set(conn.scalars(sa.select(store.org_units.c.code)))
    if not units:
        raise UserError("no org tree is loaded; run `sangkien orgs load FILE.csv` before loading clusters")
    problems: list[str] = []
    names: dict[str, tuple[str, int]] = {}
    rows = []
    for line, row in _read_csv(path, CLUSTER_COLUMNS[:3], CLUSTER_COLUMNS[3:]):
        if "__error__" in row:
            problems.append(f"line {line}: {row['__error__']}")
            continue
        found = _row(line, row, units, names, problems)
        if found is not None:
            rows.append(found)
    problems += _overlaps(rows)
    if not rows and not problems:
        problems.append("the file has a header but no cluster memberships")
    if problems:
        raise RejectedFile(str(path), sorted(problems, key=lambda p: int(p.split()[1]) if p.startswith("line ")
                                             else 0))
    with engine.begin() as conn:
        conn.execute(store.clusters.delete())
        conn.execute(store.clusters.insert(), [{k: v for k, v in r.items() if k != "_line"} for r in rows])
        conn.execute(store.summary_state.delete())
    return len(rows)


def clusters_frame(conn: Connection) -> pd.DataFrame:
    """Every membership: cluster_code, name, unit_code, valid_from, valid_to (datetime64, NaT when open)."""
    c = store.clusters.c
    frame = store.read_frame(conn, sa.select(c.cluster_code, c.name, c.unit_code, c.valid_from, c.valid_to)
                             .order_by(c.cluster_code, c.unit_code), list(CLUSTER_COLUMNS))
    for name in ("valid_from", "valid_to"):
        frame[name] = pd.to_datetime(frame[name])
    return frame


def members_on(frame: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """The memberships of ``frame`` (clusters_frame) in force on ``day``."""
    stamp = pd.Timestamp(day)
    return frame[(frame["valid_from"].isna() | (frame["valid_from"] <= stamp))
                 & (frame["valid_to"].isna() | (frame["valid_to"] >= stamp))]
