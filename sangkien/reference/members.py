"""Member counts per unit, dated and kept as history: the count on a day is the latest one on or before it.

A count is the unit's whole membership (a province's count covers everything under it); a unit
without its own count has the sum of the counts of the grassroots units below it
(:func:`sangkien.pipeline.shares.members_in_subtree`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sangkien import store
from sangkien.errors import RejectedFile, UserError
from sangkien.reference.csvfile import _date, _read_csv
from sangkien.reference.quotas import whole_number

MEMBER_COLUMNS = ("unit_code", "as_of", "members")


def load_members(engine: Engine, path: Path) -> int:
    """Add the counts of ``path`` to the history (a count for the same unit and date is replaced), atomically;
    a file with any bad line is rejected whole, every line named. Returns the number of counts loaded."""
    problems: list[str] = []
    with engine.connect() as conn:
        units = set(conn.scalars(sa.select(store.org_units.c.code)))
    if not units:
        raise UserError("no org tree is loaded; run `sangkien orgs load FILE.csv` before loading member counts")
    counts: list[dict[str, object]] = []
    seen: dict[tuple[str, dt.date], int] = {}
    for line, row in _read_csv(path, MEMBER_COLUMNS):
        if "__error__" in row:
            problems.append(f"line {line}: {row['__error__']}")
            continue
        code = row["unit_code"]
        where = f"line {line} ({code or 'no unit'})"
        if not code:
            problems.append(f"{where}: unit_code is empty")
        elif code not in units:
            problems.append(f"{where}: unknown unit {code!r}")
        as_of = _date(row["as_of"], "as_of", problems, where)
        if as_of is None and not row["as_of"]:
            problems.append(f"{where}: as_of is empty; the date the count was taken (YYYY-MM-DD)")
        members = whole_number(row["members"])
        if members is None:
            problems.append(f"{where}: members {row['members']!r} is not a whole number ≥ 0 "
                            "(write 8500, or 8.500 with thousands separators)")
        if as_of is not None and (code, as_of) in seen:
            problems.append(f"{where}: second count for {as_of}, first on line {seen[(code, as_of)]}")
        if as_of is not None and members is not None and code in units:
            seen[(code, as_of)] = line
            counts.append({"unit_code": code, "as_of": as_of, "members": members})
    if not counts and not problems:
        problems.append("the file has a header but no member counts")
    if problems:
        raise RejectedFile(str(path), problems)
    m = store.unit_members.c
    with engine.begin() as conn:
        conn.execute(store.unit_members.delete().where(m.unit_code == sa.bindparam("u"), m.as_of == sa.bindparam("d")),
                     [{"u": c["unit_code"], "d": c["as_of"]} for c in counts])  # one statement, many rows
        conn.execute(store.unit_members.insert(), counts)
        conn.execute(store.summary_state.delete())  # the members' shares are worked out again
    return len(counts)


def member_history(conn: Connection, unit: str | None = None) -> pd.DataFrame:
    """Every count kept (unit_code, as_of, members), by unit and date."""
    m = store.unit_members.c
    query = sa.select(m.unit_code, m.as_of, m.members).order_by(m.unit_code, m.as_of)
    if unit is not None:
        query = query.where(m.unit_code == unit)
    return store.read_frame(conn, query, list(MEMBER_COLUMNS))


def members_on(conn: Connection, day: dt.date) -> pd.DataFrame:
    """Per unit with a count on or before ``day``: the latest such count (unit_code, as_of, members)."""
    m = store.unit_members.c
    rows = store.read_frame(conn, sa.select(m.unit_code, m.as_of, m.members).where(m.as_of <= day),
                            list(MEMBER_COLUMNS))
    if rows.empty:
        return rows
    rows["as_of"] = pd.to_datetime(rows["as_of"]).dt.date
    return rows.sort_values(["unit_code", "as_of"]).drop_duplicates("unit_code", keep="last").reset_index(drop=True)
