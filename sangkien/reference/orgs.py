"""The org tree: units with a geographic and an optional sector parent, loaded from CSV and
checked whole (duplicates, unknown parents, cycles, kinds, successors)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sangkien import store
from sangkien.errors import RejectedFile
from sangkien.reference.csvfile import _date, _read_csv
from sangkien.store.settings import default_program
from sangkien.text.fold import fold

ORG_KINDS = ("national", "province", "national_sector", "corporation", "district",
             "local_sector", "zone", "grassroots")
#: Where a kind of unit comes in lists and reports: the order of ORG_KINDS, top-level units first.
KIND_ORDER = {kind: rank for rank, kind in enumerate(ORG_KINDS)}
ORG_COLUMNS = ("code", "name", "kind", "parent_code", "sector_parent_code", "valid_from", "valid_to", "aliases",
               "successor_code")
@dataclass
class OrgRow:
    line: int
    code: str
    name: str
    kind: str
    parent_code: str | None
    sector_parent_code: str | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    aliases: list[str]
    successor_code: str | None = None  # after valid_to, the unit's initiatives count under this unit


def parse_orgs(path: Path) -> list[OrgRow]:
    """The org tree in ``path``, checked whole; RejectedFile names every bad row."""
    problems: list[str] = []
    units: list[OrgRow] = []
    for line, row in _read_csv(path, ORG_COLUMNS[:4], ORG_COLUMNS[4:]):
        where = f"line {line}"
        if "__error__" in row:
            problems.append(f"{where}: {row['__error__']}")
            continue
        code = row["code"]
        where = f"line {line} ({code or 'no code'})"
        if not code:
            problems.append(f"{where}: code is empty")
        if not row["name"]:
            problems.append(f"{where}: name is empty")
        if row["kind"] not in ORG_KINDS:
            problems.append(f"{where}: unknown kind {row['kind']!r}; use one of {', '.join(ORG_KINDS)}")
        valid_from = _date(row.get("valid_from", ""), "valid_from", problems, where)
        valid_to = _date(row.get("valid_to", ""), "valid_to", problems, where)
        if valid_from and valid_to and valid_to < valid_from:
            problems.append(f"{where}: valid_to {valid_to} is before valid_from {valid_from}")
        aliases = [a.strip() for a in row.get("aliases", "").split("|") if a.strip()]
        successor = row.get("successor_code") or None
        if successor and not valid_to:
            problems.append(f"{where}: successor_code {successor!r} needs valid_to (the unit's last day)")
        units.append(OrgRow(line, code, row["name"], row["kind"], row["parent_code"] or None,
                            row.get("sector_parent_code") or None, valid_from, valid_to, aliases, successor))
    if not units and not problems:
        problems.append("the file has a header but no units")
    first_line: dict[str, int] = {}
    for unit in units:
        if unit.code in first_line:
            problems.append(f"line {unit.line} ({unit.code}): duplicate code, first on line {first_line[unit.code]}")
        else:
            first_line[unit.code] = unit.line
    for unit in units:
        for column, parent in (("parent_code", unit.parent_code), ("sector_parent_code", unit.sector_parent_code)):
            if parent and parent not in first_line:
                problems.append(f"line {unit.line} ({unit.code}): unknown {column} {parent!r}")
            elif parent == unit.code:
                problems.append(f"line {unit.line} ({unit.code}): {column} is the unit itself")
        if unit.successor_code and unit.successor_code not in first_line:
            problems.append(f"line {unit.line} ({unit.code}): unknown successor_code {unit.successor_code!r}")
        elif unit.successor_code == unit.code:
            problems.append(f"line {unit.line} ({unit.code}): successor_code is the unit itself")
    problems.extend(_cycles(units, first_line))
    problems.extend(_successor_cycles(units, first_line))
    if problems:
        raise RejectedFile(str(path), problems)
    return units


def _cycles(units: list[OrgRow], known: dict[str, int]) -> list[str]:
    """One problem per unit that sits on a cycle of parent or sector-parent links."""
    parents = {u.code: [p for p in (u.parent_code, u.sector_parent_code) if p in known and p != u.code]
               for u in units}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    on_cycle: set[str] = set()
    for start in parents:
        if state.get(start):
            continue
        stack = [(start, iter(parents[start]))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            nxt = next(children, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(nxt) == 1:
                on_cycle.update(path[path.index(nxt):])
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(parents[nxt])))
                path.append(nxt)
    return [f"line {u.line} ({u.code}): part of a cycle of parents" for u in units if u.code in on_cycle]


def _successor_cycles(units: list[OrgRow], known: dict[str, int]) -> list[str]:
    """One problem per unit whose chain of successors comes back to itself."""
    successor = {u.code: u.successor_code for u in units
                 if u.successor_code in known and u.successor_code != u.code}
    on_cycle: set[str] = set()
    for start in successor:
        seen = [start]
        nxt = successor.get(start)
        while nxt is not None and nxt not in seen:
            seen.append(nxt)
            nxt = successor.get(nxt)
        if nxt == start:
            on_cycle.add(start)
    return [f"line {u.line} ({u.code}): part of a cycle of successors" for u in units if u.code in on_cycle]


def load_orgs(engine: Engine, path: Path) -> int:
    """Replace the org tree with ``path`` atomically; returns the number of units."""
    units = parse_orgs(path)
    codes = {u.code for u in units}
    with engine.begin() as conn:
        q, c = store.quotas.c, store.clusters.c
        orphans = conn.execute(sa.select(q.program, q.unit_code, q.phase, q.assigned_by)).all()
        default = default_program(conn)
        lost = sorted({f"quota for {code} (phase {phase}{'' if program == default else ', ' + program})"
                       f" refers to a unit missing from this tree; keep the unit or reload quotas without it first"
                       for program, code, phase, _ in orphans if code not in codes})
        lost += sorted({f"quota for {code} (phase {phase}) was assigned by {by}, missing from this tree; keep the "
                        "unit or reload quotas without it first"
                        for _, code, phase, by in orphans if code in codes and by not in codes})
        lost += sorted({f"cluster {cluster} holds {unit}, missing from this tree; keep the unit or reload clusters "
                        "without it first" for cluster, unit in conn.execute(sa.select(c.cluster_code, c.unit_code))
                        if unit not in codes})
        if lost:
            raise RejectedFile(str(path), lost)
        conn.execute(store.org_aliases.delete())
        conn.execute(store.org_units.delete())
        conn.execute(store.summary_state.delete())  # what people read is worked out again on the new tree
        conn.execute(store.org_units.insert(), [
            {"code": u.code, "name": u.name, "kind": u.kind, "parent_code": u.parent_code,
             "sector_parent_code": u.sector_parent_code, "valid_from": u.valid_from, "valid_to": u.valid_to,
             "successor_code": u.successor_code}
            for u in units])
        aliases = {(u.code, a): fold(a) for u in units for a in u.aliases}
        if aliases:
            conn.execute(store.org_aliases.insert(), [
                {"unit_code": code, "alias": alias, "alias_folded": folded}
                for (code, alias), folded in aliases.items()])
    return len(units)


