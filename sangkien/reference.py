"""Reference data: the org tree, the quotas and the phases, loaded from CSV files.

Each loader checks the whole file first and rejects it whole, naming every
offending row, or replaces the stored data in one transaction.
"""
from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sangkien import store
from sangkien.errors import RejectedFile, UserError
from sangkien.normalize import fold

ORG_KINDS = ("national", "province", "national_sector", "corporation", "district",
             "local_sector", "zone", "grassroots")
QUOTA_BASES = ("valid", "submissions", "registrants", "share_of_members")
ORG_COLUMNS = ("code", "name", "kind", "parent_code", "sector_parent_code", "valid_from", "valid_to", "aliases",
               "successor_code")
QUOTA_COLUMNS = ("unit_code", "phase", "target", "basis")
PHASE_COLUMNS = ("phase", "name", "starts_on", "ends_on", "counts_from")


@dataclass(frozen=True)
class Phase:
    phase: int
    name: str
    starts_on: dt.date
    ends_on: dt.date
    counts_from: dt.date


# The 2022–2023 "01 triệu sáng kiến" program (Tổng Liên đoàn, 3259/CTr-TLĐ): phases are
# configuration, these are only the defaults until `sangkien phases load` replaces them.
DEFAULT_PHASES = (
    Phase(1, "Giai đoạn 1 (đến 31/5/2022)", dt.date(2021, 9, 1), dt.date(2022, 5, 31), dt.date(2021, 9, 1)),
    Phase(2, "Giai đoạn 2 (6/2022 – 9/2023)", dt.date(2022, 6, 1), dt.date(2023, 9, 1), dt.date(2021, 9, 1)),
)


def _read_csv(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[tuple[int, dict[str, str]]]:
    """Rows of a small UTF-8 CSV as (line number, {column: stripped value})."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a folder, not a CSV file") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header:
        raise UserError(f"{path} is empty; expected the header {','.join(required + optional)}")
    header = [h.strip() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)}; the header must be "
                        f"{','.join(required + optional)} (found {','.join(header)})")
    rows = []
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            rows.append((line, {"__error__": f"has {len(values)} fields, the header has {len(header)}"}))
            continue
        values = values + [""] * (len(header) - len(values))
        rows.append((line, {h: v.strip() for h, v in zip(header, values)}))
    return rows


def _date(value: str, column: str, problems: list[str], where: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append(f"{where}: {column} {value!r} is not an ISO date (YYYY-MM-DD)")
        return None


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
        orphans = conn.execute(sa.select(store.quotas.c.unit_code, store.quotas.c.phase)).all()
        lost = sorted({f"{code} (phase {phase})" for code, phase in orphans if code not in codes})
        if lost:
            raise RejectedFile(str(path), [f"quota for {item} refers to a unit missing from this tree; "
                                           "keep the unit or reload quotas without it first" for item in lost])
        conn.execute(store.org_aliases.delete())
        conn.execute(store.org_units.delete())
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


def load_phases(engine: Engine, path: Path) -> int:
    """Replace the phases with ``path`` atomically; returns the number of phases."""
    problems: list[str] = []
    parsed: list[Phase] = []
    seen: dict[int, int] = {}
    for line, row in _read_csv(path, PHASE_COLUMNS):
        where = f"line {line}"
        if "__error__" in row:
            problems.append(f"{where}: {row['__error__']}")
            continue
        try:
            number = int(row["phase"])
        except ValueError:
            problems.append(f"{where}: phase {row['phase']!r} is not a whole number")
            continue
        where = f"line {line} (phase {number})"
        if number in seen:
            problems.append(f"{where}: duplicate phase, first on line {seen[number]}")
        seen[number] = line
        dates = [_date(row[c], c, problems, where) for c in ("starts_on", "ends_on", "counts_from")]
        if any(d is None for d in dates):
            if all(row[c] for c in ("starts_on", "ends_on", "counts_from")):
                continue
            problems.append(f"{where}: starts_on, ends_on and counts_from are all required")
            continue
        starts_on, ends_on, counts_from = dates  # type: ignore[misc]
        if ends_on < starts_on:
            problems.append(f"{where}: ends_on {ends_on} is before starts_on {starts_on}")
        parsed.append(Phase(number, row["name"] or f"Phase {number}", starts_on, ends_on, counts_from))
    ordered = sorted(parsed, key=lambda p: p.starts_on)
    for before, after in zip(ordered, ordered[1:]):
        if after.starts_on <= before.ends_on:
            problems.append(f"phase {after.phase} starts on {after.starts_on}, inside phase {before.phase} "
                            f"(to {before.ends_on}); phases must not overlap")
    if not parsed and not problems:
        problems.append("the file has a header but no phases")
    if problems:
        raise RejectedFile(str(path), problems)
    with engine.begin() as conn:
        conn.execute(store.phases.delete())
        conn.execute(store.phases.insert(), [p.__dict__ for p in parsed])
    return len(parsed)


def get_phases(conn: Connection) -> list[Phase]:
    """The configured phases, or the program's defaults when none were loaded."""
    rows = conn.execute(sa.select(store.phases).order_by(store.phases.c.starts_on)).all()
    if not rows:
        return list(DEFAULT_PHASES)
    return [Phase(r.phase, r.name, r.starts_on, r.ends_on, r.counts_from) for r in rows]


def load_quotas(engine: Engine, path: Path) -> int:
    """Replace the quotas with ``path`` atomically; returns the number of quotas."""
    problems: list[str] = []
    rows = _read_csv(path, QUOTA_COLUMNS[:3], QUOTA_COLUMNS[3:] + ("assigned_by",))
    with engine.connect() as conn:
        units = set(conn.scalars(sa.select(store.org_units.c.code)))
        phase_numbers = {p.phase for p in get_phases(conn)}
    if not units:
        raise UserError("no org tree is loaded; run `sangkien orgs load FILE.csv` before loading quotas")
    quotas: list[dict[str, object]] = []
    seen: dict[tuple[str, int], int] = {}
    for line, row in rows:
        where = f"line {line}"
        if "__error__" in row:
            problems.append(f"{where}: {row['__error__']}")
            continue
        code = row["unit_code"]
        where = f"line {line} ({code or 'no unit'})"
        if code not in units:
            problems.append(f"{where}: unknown unit {code!r}")
        try:
            phase = int(row["phase"])
        except ValueError:
            problems.append(f"{where}: phase {row['phase']!r} is not a whole number")
            continue
        if phase not in phase_numbers:
            problems.append(f"{where}: unknown phase {phase}; known phases: {sorted(phase_numbers)}")
        try:
            target = int(row["target"].replace(".", "").replace(",", "").replace(" ", ""))
            if target < 0:
                raise ValueError
        except ValueError:
            problems.append(f"{where}: target {row['target']!r} is not a whole number ≥ 0")
            continue
        basis = row.get("basis") or "valid"
        if basis not in QUOTA_BASES:
            problems.append(f"{where}: unknown basis {basis!r}; use one of {', '.join(QUOTA_BASES)}")
        if (code, phase) in seen:
            problems.append(f"{where}: second quota for phase {phase}, first on line {seen[(code, phase)]}")
        seen[(code, phase)] = line
        quotas.append({"unit_code": code, "phase": phase, "target": target, "basis": basis,
                       "assigned_by": row.get("assigned_by") or None})
    if not quotas and not problems:
        problems.append("the file has a header but no quotas")
    if problems:
        raise RejectedFile(str(path), problems)
    with engine.begin() as conn:
        conn.execute(store.quotas.delete())
        conn.execute(store.quotas.insert(), quotas)
    return len(quotas)
